/**
 * An engine's API socket is one of its own *listening* unix sockets: the
 * entries of /proc/PID/net/unix (every unix socket of PID's network namespace)
 * flagged __SO_ACCEPTCON, narrowed to the inodes PID holds as `socket:[ino]`
 * fds. Parsing is pure; reading procfs happens in `listeningUnixSockets`.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** __SO_ACCEPTCON in the Flags column (include/linux/net.h): the socket listens. */
const SO_ACCEPTCON = 0x10000;

export interface UnixSocketEntry {
  inode: number;
  path: string;
  listening: boolean;
}

/**
 * Parses /proc/PID/net/unix ("Num RefCount Protocol Flags Type St Inode Path").
 * Abstract sockets (path starting with "@") and unnamed ones are skipped:
 * neither can be reached through /proc/PID/root.
 */
export function parseNetUnix(text: string): UnixSocketEntry[] {
  const out: UnixSocketEntry[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]?.trim().split(/\s+/);
    if (!f || f.length < 8) continue;
    const path = f.slice(7).join(' ');
    if (!path.startsWith('/')) continue;
    // unix_seq_show() prints the flags as %08X and the inode as %lu: anything else is no socket
    // line (Number() would take "559.9257" or "1e3", parseInt a prefix of "12zz").
    if (!/^[0-9A-Fa-f]+$/.test(f[3] ?? '') || !/^\d+$/.test(f[6] ?? '')) continue;
    const flags = Number.parseInt(f[3] ?? '', 16);
    const inode = Number(f[6]);
    if (!Number.isSafeInteger(inode)) continue;
    out.push({ inode, path, listening: (flags & SO_ACCEPTCON) !== 0 });
  }
  return out;
}

/** Socket inodes among a process's fds (`socket:[12345]` link targets). */
export function socketInodes(procRoot: string, pid: number): Set<number> {
  const inodes = new Set<number>();
  const dir = `${procRoot}/${pid}/fd`;
  for (const fd of readdirSync(dir)) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/${fd}`);
    } catch {
      continue; // fd closed meanwhile
    }
    if (target.startsWith('socket:[')) inodes.add(Number(target.slice(8, -1)));
  }
  return inodes;
}

/** Paths (as seen in PID's mount namespace) of the unix sockets PID listens on. */
export function listeningUnixSockets(procRoot: string, pid: number): string[] {
  const held = socketInodes(procRoot, pid);
  const entries = parseNetUnix(readFileSync(`${procRoot}/${pid}/net/unix`, 'utf8'));
  const paths = new Set<string>();
  for (const e of entries) if (e.listening && held.has(e.inode)) paths.add(e.path);
  return [...paths];
}
