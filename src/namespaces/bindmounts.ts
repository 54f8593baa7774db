/**
 * Source 4: nsfs bind mounts (`ip netns add` → /run/netns/X, docker's
 * /run/docker/netns/…, anything `mount --bind /proc/PID/ns/X path` made), in
 * every mount namespace that has a process: each mount namespace's mountinfo
 * is read once, through one process attached to it. Mount namespaces cannot
 * be entered by a multi-threaded process (setns(2): CLONE_NEWNS needs a
 * single-threaded caller), so /proc/PID/mountinfo and /proc/PID/root are the
 * way in. A mount namespace held only by a bind mount or fd has no process to
 * read it through and is not searched.
 */

import { parseMountinfoOfType, parseNsLink, parseStat } from '../procfs/parse.js';
import { classify, errorText, readLink, readProcFile } from '../procfs/read.js';
import { addPath, nsEntry, type ScanState } from './state.js';

export function scanBindMounts(state: ScanState): void {
  const root = state.procRoot;
  let ownMnt: number | undefined;
  try {
    ownMnt = parseNsLink(readLink(`${root}/self/ns/mnt`))?.ino;
  } catch {
    ownMnt = undefined;
  }
  // Distinct mount namespaces → the processes that can show them.
  const readers = new Map<number, number[]>();
  for (const [pid, mnt] of state.mntOf) {
    if (state.vanished.has(pid)) continue;
    let list = readers.get(mnt);
    if (list === undefined) {
      list = [];
      readers.set(mnt, list);
    }
    list.push(pid);
  }
  if (ownMnt !== undefined) {
    // Our own mount namespace through /proc/self: its paths work as they are.
    readers.delete(ownMnt);
    try {
      record(state, ownMnt, readProcFile(`${root}/self/mountinfo`), undefined);
    } catch (err) {
      state.warnings.push({
        code: 'mountinfo-unreadable',
        message: `cannot read ${root}/self/mountinfo: ${errorText(err)}; bind mounts there are not listed`,
        ns: ownMnt,
      });
    }
  }
  for (const [mnt, pids] of readers) {
    let done = false;
    let lastErr: unknown;
    // A few attempts: the chosen reader may exit under us.
    for (const pid of pids.slice(0, 3)) {
      const text = readVerified(state, pid, mnt);
      if (typeof text === 'string') {
        record(state, mnt, text, pid);
        done = true;
        break;
      }
      lastErr = text.error;
    }
    if (!done && lastErr !== undefined && classify(lastErr) !== 'vanished') {
      state.warnings.push({
        code: 'mountinfo-unreadable',
        message: `cannot read the mountinfo of mount namespace ${mnt}: ${errorText(lastErr)}; bind mounts there are not listed`,
        ns: mnt,
      });
    }
  }
}

/**
 * mountinfo of pid, accepted only if pid is still the same process (same
 * starttime) in the same mount namespace after the read: mount points are
 * relative to that process's root, so a reused PID would give wrong paths.
 */
function readVerified(state: ScanState, pid: number, mnt: number): string | { error: unknown } {
  const base = `${state.procRoot}/${pid}`;
  const proc = state.processes.get(pid);
  try {
    const text = readProcFile(`${base}/mountinfo`);
    const still = parseNsLink(readLink(`${base}/ns/mnt`))?.ino;
    const stat = parseStat(readProcFile(`${base}/stat`));
    if (still !== mnt || stat === undefined || stat.starttime !== proc?.starttime) {
      const e = new Error('process replaced') as NodeJS.ErrnoException;
      e.code = 'ESRCH';
      return { error: e };
    }
    return text;
  } catch (err) {
    return { error: err };
  }
}

function record(state: ScanState, mnt: number, text: string, viaPid: number | undefined): void {
  for (const m of parseMountinfoOfType(text, 'nsfs')) {
    const ns = parseNsLink(m.root);
    if (ns === undefined || !state.types.has(ns.type)) continue;
    const e = nsEntry(state, ns.type, ns.ino);
    const reachablePath =
      viaPid === undefined ? m.mountPoint : `${state.procRoot}/${viaPid}/root${m.mountPoint}`;
    if (e.bindMounts.some((b) => b.mntns === mnt && b.path === m.mountPoint)) continue;
    e.bindMounts.push({ path: m.mountPoint, mntns: mnt, reachablePath });
    addPath(e, {
      path: reachablePath,
      rank: viaPid === undefined ? 0 : 3,
      ...(viaPid ? { pid: viaPid } : {}),
    });
  }
}
