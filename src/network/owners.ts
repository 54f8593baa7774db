/**
 * Socket inodes → owning processes, and TUN/TAP file descriptors → the
 * interface name from /proc/[pid]/fdinfo ("iff:" line, drivers/net/tun.c
 * tun_chr_show_fdinfo). The namespace stage already readlinks every
 * /proc/[pid]/fd entry and hands over the socket and tun fds it saw
 * (`NamespaceScan.fdOwners`), so normally only the few tun fds' fdinfo is
 * read here; a scan without them gets one full scan of its own. Threads
 * normally share their process's fd table, so the thread group leader's fd
 * directory is enough.
 */
import { statSync } from 'node:fs';
import type { Draft } from '../model/types.js';
import type { FdOwners } from '../namespaces/scan.js';
import { type FdLinks, fdLinks, listDir, readCmdline, readProcFile } from '../procfs/read.js';

export interface ProcInfo {
  pid: number;
  starttime: number;
  comm: string;
  cmdline: string[];
  /** See Process.cmdlineTruncated. */
  cmdlineTruncated?: boolean;
  container?: string;
  /** Network namespace inode of the process, when known. */
  netns?: number;
}

export interface FdScan {
  /** socket inode → [pid, fd] pairs (flat: pid0, fd0, pid1, fd1, ...). */
  sockets: Map<number, number[]>;
  tuns: { pid: number; fd: number; iff: string }[];
}

/** The interface name from a tun fd's fdinfo text, if attached to one. */
export function parseIff(fdinfo: string): string | undefined {
  const m = /^iff:\s*(\S+)/m.exec(fdinfo);
  return m ? m[1] : undefined;
}

/**
 * Every process's socket and tun fds, through the same lean readlink pass as
 * the namespace stage's fd source: the fallback for a namespace scan made
 * without that source (or built by hand), which carries no `fdOwners`.
 */
export function scanFdOwners(procRoot = '/proc'): FdOwners {
  const out: FdOwners = { sockets: new Map(), tuns: [] };
  let names: string[];
  try {
    names = listDir(procRoot);
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    let links: FdLinks;
    try {
      links = fdLinks(`${procRoot}/${pid}/fd`);
    } catch {
      continue; // exited, a kernel thread, or not ours to read
    }
    const sk = links.sockets;
    for (let i = 0; i < sk.length; i += 2) {
      const ino = sk[i + 1] as number;
      const list = out.sockets.get(ino);
      if (list) list.push(pid, sk[i] as number);
      else out.sockets.set(ino, [pid, sk[i] as number]);
    }
    for (const fd of links.tuns) out.tuns.push({ pid, fd });
  }
  return out;
}

/**
 * Socket owners and tap holders for the network stage: the socket holders as
 * they are, and for each /dev/net/tun fd the interface from its fdinfo
 * ("iff:"; a tun fd not attached to an interface has none). A tun holder
 * that exited since, or whose PID now names another process (its starttime
 * differs from the one `lookup` knows), is skipped.
 */
export function resolveOwners(owners: FdOwners, lookup: ProcLookup, procRoot = '/proc'): FdScan {
  const tuns: FdScan['tuns'] = [];
  for (const t of owners.tuns) {
    const p = lookup.get(t.pid);
    if (!p) continue;
    try {
      const iff = parseIff(readProcFile(`${procRoot}/${t.pid}/fdinfo/${t.fd}`, true));
      // stat after fdinfo: the same starttime proves the fdinfo was this process's.
      const st = parseStat(readProcFile(`${procRoot}/${t.pid}/stat`, true));
      if (iff && st?.starttime === p.starttime) tuns.push({ pid: t.pid, fd: t.fd, iff });
    } catch {
      // closed or exited since the scan
    }
  }
  return { sockets: owners.sockets, tuns };
}

/** comm (field 2, in parentheses, may contain anything) and starttime (field 22) of /proc/PID/stat. */
export function parseStat(stat: string): { comm: string; starttime: number } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): field 22 is rest[19].
  // starttime is %llu (fs/proc/array.c do_task_stat): digits only, or no answer.
  const field = rest[19] ?? '';
  if (!/^\d{1,20}$/.test(field)) return undefined;
  const st = Number(field);
  if (!Number.isSafeInteger(st)) return undefined;
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
      if (p.cmdlineTruncated) info.cmdlineTruncated = true;
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
      const cmd = readCmdline(`${this.procRoot}/${pid}/cmdline`);
      const info: ProcInfo = { pid, starttime: st.starttime, comm: st.comm, cmdline: cmd.args };
      if (cmd.truncated) info.cmdlineTruncated = true;
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
