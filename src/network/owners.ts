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

/** Adds the socket and tun fds of one process to `into`; false when the process is gone. */
function scanPid(procRoot: string, pid: number, into: FdScan): boolean {
  const dir = `${procRoot}/${pid}/fd`;
  let fds: string[];
  try {
    fds = listDir(dir);
  } catch {
    return false; // exited, or a kernel thread
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
      const list = into.sockets.get(ino);
      if (list) list.push(pid, Number(f));
      else into.sockets.set(ino, [pid, Number(f)]);
    } else if (target === '/dev/net/tun') {
      try {
        const iff = parseIff(readProcFile(`${procRoot}/${pid}/fdinfo/${f}`, true));
        if (iff) into.tuns.push({ pid, fd: Number(f), iff });
      } catch {
        // closed meanwhile
      }
    }
  }
  return true;
}

/** Every process's socket and tun fds (the full scan). */
export function scanFds(procRoot = '/proc'): FdScan & { pids: number[] } {
  const out: FdScan & { pids: number[] } = { sockets: new Map(), tuns: [], pids: [] };
  let names: string[];
  try {
    names = listDir(procRoot);
  } catch {
    return out;
  }
  for (const p of names) {
    const c = p.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    if (scanPid(procRoot, Number(p), out)) out.pids.push(Number(p));
  }
  return out;
}

/** A process as the tracker needs it: identity and network namespace. */
export interface TrackedProcess {
  pid: number;
  starttime: number;
  netns?: number;
}

/**
 * Socket and tap ownership across discoveries. A full scan readlinks every fd
 * of every process — the dominant cost on hosts with many sockets — so
 * between full scans (at most `rescanMs` apart) a discovery only:
 *  - re-checks each remembered owner of the sockets it found (one readlink:
 *    still "socket:[inode]"? socket inodes are never reused while they live),
 *  - fully scans processes that are new since (pid + starttime),
 *  - scans the processes of a socket's own namespace for sockets nobody was
 *    remembered to own (a server's new connections).
 * What it can miss until the next full scan: an *older* process in another
 * namespace that obtained a socket meanwhile (setns or SCM_RIGHTS).
 */
export class OwnerTracker {
  private state: FdScan = { sockets: new Map(), tuns: [] };
  private seen = new Map<number, number>();
  private fullAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly procRoot = '/proc',
    readonly rescanMs = 5000,
  ) {}

  fullDue(now = performance.now()): boolean {
    return now - this.fullAt >= this.rescanMs;
  }

  /** Full scan; `processes` gives starttimes so later runs can tell new processes. */
  full(processes: Iterable<TrackedProcess>): FdScan {
    const s = scanFds(this.procRoot);
    this.state = { sockets: s.sockets, tuns: s.tuns };
    const start = new Map<number, number>();
    for (const p of processes) start.set(p.pid, p.starttime);
    this.seen = new Map();
    for (const pid of s.pids) this.seen.set(pid, start.get(pid) ?? -1);
    this.fullAt = performance.now();
    return this.state;
  }

  /** Owners of `targets` (socket inode → its namespace) without a full scan. */
  incremental(targets: Map<number, number>, processes: Iterable<TrackedProcess>): FdScan {
    const byNetns = new Map<number, number[]>();
    const fresh: FdScan = { sockets: new Map(), tuns: [] };
    for (const p of processes) {
      if (p.netns !== undefined) {
        const l = byNetns.get(p.netns);
        if (l) l.push(p.pid);
        else byNetns.set(p.netns, [p.pid]);
      }
      if (this.seen.get(p.pid) === p.starttime) continue;
      if (scanPid(this.procRoot, p.pid, fresh)) this.seen.set(p.pid, p.starttime);
    }
    const out: FdScan = { sockets: new Map(), tuns: [] };
    const missing = new Set<number>();
    for (const [ino, netns] of targets) {
      const valid: number[] = [];
      const old = this.state.sockets.get(ino);
      if (old) {
        for (let i = 0; i < old.length; i += 2) {
          const pid = old[i] as number;
          const fd = old[i + 1] as number;
          try {
            if (readLink(`${this.procRoot}/${pid}/fd/${fd}`) === `socket:[${ino}]`) valid.push(pid, fd);
          } catch {
            // closed or exited
          }
        }
      }
      const added = fresh.sockets.get(ino);
      if (added) valid.push(...added);
      if (valid.length > 0) out.sockets.set(ino, valid);
      else missing.add(netns);
    }
    // Sockets nobody is remembered to own: look at the processes of their namespace.
    const local: FdScan = { sockets: new Map(), tuns: [] };
    for (const netns of missing)
      for (const pid of byNetns.get(netns) ?? []) scanPid(this.procRoot, pid, local);
    for (const [ino, holders] of local.sockets) {
      if (!targets.has(ino)) continue;
      const have = out.sockets.get(ino) ?? [];
      for (let i = 0; i < holders.length; i += 2) {
        if (!have.some((v, j) => j % 2 === 0 && v === holders[i] && have[j + 1] === holders[i + 1]))
          have.push(holders[i] as number, holders[i + 1] as number);
      }
      out.sockets.set(ino, have);
    }
    // Remember what was learnt (validated and new), so the next run re-checks it.
    for (const [ino, holders] of out.sockets) this.state.sockets.set(ino, holders);
    // Taps: re-check remembered tun fds, plus those of new processes.
    for (const t of [...this.state.tuns, ...fresh.tuns]) {
      try {
        if (readLink(`${this.procRoot}/${t.pid}/fd/${t.fd}`) !== '/dev/net/tun') continue;
        const iff = parseIff(readProcFile(`${this.procRoot}/${t.pid}/fdinfo/${t.fd}`, true));
        if (iff) out.tuns.push({ pid: t.pid, fd: t.fd, iff });
      } catch {
        // closed or exited
      }
    }
    this.state.tuns = out.tuns;
    return out;
  }
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
