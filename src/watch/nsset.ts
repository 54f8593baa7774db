/**
 * A cheap census of the live network namespaces: which nsfs inodes are held
 * by processes (/proc/PID/ns/net) or bind-mounted in wirescope's mount
 * namespace, and one path to enter each. Used every tick by the change
 * watcher, so it only does readlink/readFile on procfs (no setns, no netlink).
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { nsfsDev } from '../kernel/nsfs.js';

/** Parses "net:[4026531840]" (the nsfs link text) into the inode. */
export function parseNsLink(link: string): number | undefined {
  const m = /^net:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/**
 * nsfs bind mounts of network namespaces in a mountinfo text (proc(5)):
 * field 4 (root) is "net:[INO]" and field 5 the mount point; the filesystem
 * type follows the " - " separator.
 */
export function parseNetnsMounts(mountinfo: string): { ino: number; path: string }[] {
  const out: { ino: number; path: string }[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || !line.startsWith('nsfs ', sep + 3)) continue;
    const f = line.slice(0, sep).split(' ');
    const ino = parseNsLink(f[3] ?? '');
    // Mount points escape space, tab, newline and backslash as octal (\040 ...).
    const path = (f[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    if (ino !== undefined && path) out.push({ ino, path });
  }
  return out;
}

/** inode → a path that opens that network namespace now. */
export function liveNetns(procRoot = '/proc', extraPaths: readonly string[] = []): Map<number, string> {
  return liveNetnsDetailed(procRoot, extraPaths).live;
}

/** liveNetns, plus the network namespace of every process read on the way (PID → inode). */
export function liveNetnsDetailed(
  procRoot = '/proc',
  extraPaths: readonly string[] = [],
): { live: Map<number, string>; pids: Map<number, number> } {
  const live = new Map<number, string>();
  const byPid = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync(procRoot);
  } catch {
    return { live, pids: byPid };
  }
  for (const pid of pids) {
    if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
    const path = `${procRoot}/${pid}/ns/net`;
    try {
      const ino = parseNsLink(readlinkSync(path));
      if (ino === undefined) continue;
      byPid.set(Number(pid), ino);
      if (!live.has(ino)) live.set(ino, path);
    } catch {
      // The process vanished or denies access (EACCES on PID 1 here): skip it.
    }
  }
  try {
    for (const m of parseNetnsMounts(readFileSync(`${procRoot}/self/mountinfo`, 'utf8')))
      if (!live.has(m.ino)) live.set(m.ino, m.path);
  } catch {
    // no mountinfo: processes are still counted
  }
  // Holders the last discovery found elsewhere (bind mounts in other mount
  // namespaces, open fds): still alive if the path still opens a namespace.
  // stat, not readlink: an fd opened through a bind mount reads back as that
  // path, or as "/" once the mount was detached (ip netns del), never as
  // "net:[…]"; stat follows it to the nsfs inode without opening anything.
  for (const p of extraPaths) {
    try {
      const st = statSync(p);
      if (st.dev === nsfsDev() && !live.has(st.ino)) live.set(st.ino, p);
    } catch {
      // gone
    }
  }
  return { live, pids: byPid };
}
