/**
 * Side-effecting procfs access, kept minimal because the scan calls it tens of
 * thousands of times (see sys.ts): one shared buffer, open/read/close and
 * nothing else (no fstat: procfs reports size 0 for its files, so a size hint
 * is useless there), and errors classified into "vanished" and "denied".
 */

import {
  type FdLinks,
  type NsfsPaths,
  sysClose,
  sysFdLinks,
  sysFdLinksAt,
  sysFstatIno,
  sysListDir,
  sysNsTypeAt,
  sysOpenDir,
  sysReadFdNs,
  sysReadFile,
  sysReadFileAt,
  sysReadFileAtCapped,
  sysReadFileCapped,
  sysReadlink,
  sysReadNsIno,
  sysReadNsInoAt,
} from '../kernel/procfs-sys.js';
import { parseCmdline } from './parse.js';

/**
 * Reads a whole procfs file as UTF-8; throws an fs-style error (see `classify`).
 *
 * `oneShot`: the file is produced in one piece, so a read shorter than the
 * buffer is the end and the EOF-confirming second read(2) can be skipped.
 * True for single_open() seq files (stat, status, cgroup: seq_read grows its
 * buffer until the one record fits, then copies all of it) and for cmdline
 * (proc_pid_cmdline_read copies until done or the buffer is full); not for
 * multi-record seq files like mountinfo, which return a page at a time.
 */
export function readProcFile(path: string, oneShot = false): string {
  return sysReadFile(path, oneShot);
}

/**
 * A process's /proc/PID directory, open: files and links read relative to it
 * (the *At functions) skip the path walk to it, and all belong to the one
 * process it was opened for. The fd pins that process's struct pid, not
 * the number: once the process is reaped, every lookup under it fails with
 * ENOENT, even if the PID has been reused, so no read can mix up two
 * processes. Close it with closeDir.
 */
export interface ProcDir {
  fd: number;
  /** Its path, for error messages and for paths kept for later. */
  path: string;
}

export function openProcDir(path: string): ProcDir {
  return { fd: sysOpenDir(path), path };
}

export function closeDir(dir: ProcDir): void {
  sysClose(dir.fd);
}

/** readProcFile of `name` (a relative path) under `dir`. */
export function readProcFileAt(dir: ProcDir, name: string, oneShot = false): string {
  return sysReadFileAt(dir.fd, dir.path, name, oneShot);
}

/**
 * Bytes of /proc/PID/cmdline read at most. A process sets its argv (execve
 * takes up to a quarter of the stack limit, 2 MiB by default, and more with
 * a bigger one) and can rewrite it afterwards, so its length is not ours to
 * trust: on a host where each process may cost its whole command line, a
 * user with many processes could make discovery's memory and its JSON
 * arbitrarily large. 64 KiB is the scan's shared read buffer (one read(2),
 * nothing to grow), sixteen times the single page Linux itself showed
 * before 4.2 and longer than the longest real command lines (Java class
 * paths); nothing in the pipeline looks past the first arguments.
 */
export const CMDLINE_CAP = 64 * 1024;

export interface Cmdline {
  /** The arguments, the last one possibly cut when `truncated`. */
  args: string[];
  truncated: boolean;
}

function cmdlineOf(r: { text: string; truncated: boolean }): Cmdline {
  return { args: parseCmdline(r.text), truncated: r.truncated };
}

/** /proc/PID/cmdline under `dir`, at most CMDLINE_CAP bytes of it. */
export function readCmdlineAt(dir: ProcDir): Cmdline {
  return cmdlineOf(sysReadFileAtCapped(dir.fd, dir.path, 'cmdline', CMDLINE_CAP));
}

/** A cmdline file (/proc/PID/cmdline), at most CMDLINE_CAP bytes of it. */
export function readCmdline(path: string): Cmdline {
  return cmdlineOf(sysReadFileCapped(path, CMDLINE_CAP));
}

/** readNsIno of `name` (a relative path) under `dir`. */
export function readNsInoAt(dir: ProcDir, name: string): number | undefined {
  return sysReadNsInoAt(dir.fd, dir.path, name);
}

/** fdLinks of the directory `name` (a relative path) under `dir`. */
export function fdLinksAt(dir: ProcDir, name: string, nsfs?: NsfsPaths): FdLinks {
  return sysFdLinksAt(dir.fd, dir.path, name, nsfs);
}

/**
 * Type of namespace `ino`, which the fd link `name` (a relative path, "fd/N")
 * under `dir` was found to refer to; undefined if it no longer does.
 */
export function nsTypeAt(dir: ProcDir, name: string, ino: number): string | undefined {
  return sysNsTypeAt(dir.fd, name, ino);
}

export function readLink(path: string): string {
  return sysReadlink(path);
}

/** Inode named by a namespace link ("net:[4026531833]"), undefined for other targets. */
export function readNsIno(path: string): number | undefined {
  return sysReadNsIno(path);
}

/** The namespace an fd link names, or undefined for every other kind of fd. */
export function readFdNs(path: string): { type: string; ino: number } | undefined {
  return sysReadFdNs(path);
}

export type { FdLinks, NsfsPaths };

/** The fds in a /proc/PID/fd directory that refer to a namespace, a socket or /dev/net/tun. */
export function fdLinks(dir: string): FdLinks {
  return sysFdLinks(dir);
}

/** Inode of an open file descriptor of ours. */
export function fdIno(fd: number): number {
  return sysFstatIno(fd);
}

/** Directory entries, unsorted, without "." and "..". */
export function listDir(path: string): string[] {
  return sysListDir(path);
}

export type FsFault = 'vanished' | 'denied' | 'other';

/**
 * ENOENT/ESRCH: the process or task exited (procfs removes its directory);
 * EACCES/EPERM: ptrace access mode checks failed (see proc(5), "ptrace access
 * mode"), which even root hits for PID 1 in some sandboxes.
 */
export function classify(err: unknown): FsFault {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'vanished';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'other';
}

export function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}
