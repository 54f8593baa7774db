/**
 * One scan of /proc/[pid]/fd: socket inodes → owning processes, and TUN/TAP
 * file descriptors → the interface name from /proc/[pid]/fdinfo ("iff:" line,
 * drivers/net/tun.c tun_chr_show_fdinfo). Threads normally share their
 * process's fd table, so the thread group leader's fd directory is enough.
 * The namespace stage's koffi-backed procfs helpers keep the syscalls lean.
 */
import { statSync } from 'node:fs';
import type { Draft } from '../model/types.js';
import { listDir, readLink, readProcFile } from '../procfs/read.js';

export interface ProcInfo {
  pid: number;
  starttime: number;
  comm: string;
  cmdline: string[];
  container?: string;
  /** Network namespace inode of the process, when known. */
  netns?: number;
}

export interface FdScan {
  /** socket inode → [pid, fd] pairs (flat: pid0, fd0, pid1, fd1, ...). */
  sockets: Map<number, number[]>;
  tuns: { pid: number; fd: number; iff: string }[];
}

/** "socket:[12345]" → 12345. */
export function socketInode(link: string): number | undefined {
  if (!link.startsWith('socket:[')) return undefined;
  const n = Number(link.slice(8, -1));
  return Number.isInteger(n) ? n : undefined;
}

/** The interface name from a tun fd's fdinfo text, if attached to one. */
export function parseIff(fdinfo: string): string | undefined {
  const m = /^iff:\s*(\S+)/m.exec(fdinfo);
  return m ? m[1] : undefined;
}

export function scanFds(procRoot = '/proc'): FdScan {
  const sockets = new Map<number, number[]>();
  const tuns: FdScan['tuns'] = [];
  let pids: string[];
  try {
    pids = listDir(procRoot);
  } catch {
    return { sockets, tuns };
  }
  for (const p of pids) {
    const c = p.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(p);
    const dir = `${procRoot}/${p}/fd`;
    let fds: string[];
    try {
      fds = listDir(dir);
    } catch {
      continue; // exited, or a kernel thread
    }
    for (const f of fds) {
      let target: string;
      try {
        target = readLink(`${dir}/${f}`);
      } catch {
        continue;
      }
      const ino = socketInode(target);
      if (ino !== undefined) {
        const list = sockets.get(ino);
        if (list) list.push(pid, Number(f));
        else sockets.set(ino, [pid, Number(f)]);
      } else if (target === '/dev/net/tun') {
        try {
          const iff = parseIff(readProcFile(`${procRoot}/${p}/fdinfo/${f}`, true));
          if (iff) tuns.push({ pid, fd: Number(f), iff });
        } catch {
          // closed meanwhile
        }
      }
    }
  }
  return { sockets, tuns };
}

/** comm (field 2, in parentheses, may contain anything) and starttime (field 22) of /proc/PID/stat. */
export function parseStat(stat: string): { comm: string; starttime: number } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): field 22 is rest[19].
  const st = Number(rest[19]);
  if (!Number.isFinite(st)) return undefined;
  return { comm: stat.slice(open + 1, close), starttime: st };
}

/** Process facts for owners, from the namespace scan or read on demand for processes it lacks. */
export class ProcLookup {
  private extra = new Map<number, ProcInfo | null>();

  constructor(
    private readonly processes: Record<string, Draft.Process>,
    private readonly procRoot = '/proc',
  ) {}

  get(pid: number): ProcInfo | undefined {
    const p = this.processes[String(pid)];
    if (p) {
      const info: ProcInfo = { pid, starttime: p.starttime, comm: p.comm, cmdline: p.cmdline };
      if (p.container) info.container = p.container;
      if (p.namespaces.net !== undefined) info.netns = p.namespaces.net;
      return info;
    }
    let e = this.extra.get(pid);
    if (e === undefined) {
      e = this.read(pid);
      this.extra.set(pid, e);
    }
    return e ?? undefined;
  }

  private read(pid: number): ProcInfo | null {
    try {
      const st = parseStat(readProcFile(`${this.procRoot}/${pid}/stat`, true));
      if (!st) return null;
      const cmd = readProcFile(`${this.procRoot}/${pid}/cmdline`, true);
      const info: ProcInfo = {
        pid,
        starttime: st.starttime,
        comm: st.comm,
        cmdline: cmd.split('\0').filter((x, i, a) => x !== '' || i < a.length - 1),
      };
      try {
        info.netns = statSync(`${this.procRoot}/${pid}/ns/net`).ino;
      } catch {
        // not readable: matched without namespace
      }
      return info;
    } catch {
      return null;
    }
  }
}
