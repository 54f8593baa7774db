/**
 * The hot procfs system calls, made directly through koffi (the raw `sys`
 * bindings of libc.ts) instead of node:fs. A scan of 1000 processes makes
 * ~20 000 of them; node:fs adds argument validation, error objects and (for
 * readdirSync) scandir(3)'s per-entry malloc and sort, which together cost
 * about as much as the kernel work. Results land in one shared buffer and are parsed from bytes,
 * so no string is made for a namespace link.
 */
import {
  sys as c,
  EINTR,
  ENOENT,
  lastErrno,
  NS_GET_NSTYPE,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOCTTY,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
} from './libc.js';
import { nsfsDev } from './nsfs.js';

const ERRNO_CODES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  13: 'EACCES',
  20: 'ENOTDIR',
  22: 'EINVAL',
  24: 'EMFILE',
};

/** An error shaped like node:fs's, so `classify` treats both alike. */
export function fsError(call: string, path: string, errno: number): NodeJS.ErrnoException {
  const code = ERRNO_CODES[errno] ?? `E${errno}`;
  const err = new Error(`${call} ${path}: ${code}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errno;
  err.path = path;
  return err;
}

let buf = Buffer.allocUnsafe(64 * 1024);
const linkBuf = Buffer.allocUnsafe(4096);

function openOrThrow(path: string, flags: number): number {
  const fd = c.open(path, flags | O_CLOEXEC) as number;
  if (fd < 0) throw fsError('open', path, lastErrno());
  return fd;
}

function readAll(fd: number, path: string, oneShot: boolean): number {
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, n);
      buf = bigger;
    }
    const room = buf.length - n;
    // koffi passes a pointer into the buffer at the given offset via subarray.
    const got = Number(c.read(fd, n === 0 ? buf : buf.subarray(n), room));
    if (got < 0) {
      const e = lastErrno();
      if (e === EINTR) continue;
      throw fsError('read', path, e);
    }
    n += got;
    if (got === 0 || (oneShot && got < room)) return n;
  }
}

const probe = Buffer.allocUnsafe(1);

/**
 * Reads at most `cap` bytes (cap ≤ the shared buffer's 64 KiB, so it never
 * grows) and tells whether there was more: once `cap` bytes are in, one
 * 1-byte read past them answers that without reading the rest.
 */
function readCapped(fd: number, path: string, cap: number): { n: number; truncated: boolean } {
  let n = 0;
  while (n < cap) {
    const got = Number(c.read(fd, n === 0 ? buf : buf.subarray(n), cap - n));
    if (got < 0) {
      const e = lastErrno();
      if (e === EINTR) continue;
      throw fsError('read', path, e);
    }
    if (got === 0) return { n, truncated: false };
    n += got;
  }
  for (;;) {
    const got = Number(c.read(fd, probe, 1));
    if (got >= 0) return { n, truncated: got > 0 };
    const e = lastErrno();
    if (e !== EINTR) throw fsError('read', path, e);
  }
}

/** The start of `name` under `dirfd`, at most `cap` bytes (≤ 64 KiB), as UTF-8; `truncated` if there was more. */
export function sysReadFileAtCapped(
  dirfd: number,
  dir: string,
  name: string,
  cap: number,
): { text: string; truncated: boolean } {
  const fd = openAtOrThrow(dirfd, dir, name, O_RDONLY);
  try {
    const r = readCapped(fd, `${dir}/${name}`, Math.min(cap, buf.length));
    return { text: buf.toString('utf8', 0, r.n), truncated: r.truncated };
  } finally {
    c.close(fd);
  }
}

/** sysReadFileAtCapped of a path. */
export function sysReadFileCapped(path: string, cap: number): { text: string; truncated: boolean } {
  const fd = openOrThrow(path, O_RDONLY);
  try {
    const r = readCapped(fd, path, Math.min(cap, buf.length));
    return { text: buf.toString('utf8', 0, r.n), truncated: r.truncated };
  } finally {
    c.close(fd);
  }
}

/** See readProcFile in read.ts for `oneShot`. */
export function sysReadFile(path: string, oneShot: boolean): string {
  const fd = openOrThrow(path, O_RDONLY);
  try {
    const n = readAll(fd, path, oneShot);
    return buf.toString('utf8', 0, n);
  } finally {
    c.close(fd);
  }
}

/**
 * A directory fd (O_PATH: only a handle for the *at calls below, no read
 * access needed and no permission check on the directory itself).
 */
export function sysOpenDir(path: string): number {
  return openOrThrow(path, O_PATH | O_DIRECTORY);
}

export function sysClose(fd: number): void {
  c.close(fd);
}

function openAtOrThrow(dirfd: number, dir: string, name: string, flags: number): number {
  const fd = c.openat(dirfd, name, flags | O_CLOEXEC) as number;
  if (fd < 0) throw fsError('open', `${dir}/${name}`, lastErrno());
  return fd;
}

/** sysReadFile of `name` relative to an open directory `dirfd` (whose path, `dir`, names errors). */
export function sysReadFileAt(dirfd: number, dir: string, name: string, oneShot: boolean): string {
  const fd = openAtOrThrow(dirfd, dir, name, O_RDONLY);
  try {
    const n = readAll(fd, `${dir}/${name}`, oneShot);
    return buf.toString('utf8', 0, n);
  } finally {
    c.close(fd);
  }
}

/** readlinkat(2) relative to `dirfd` into the shared link buffer; returns the length. */
function readlinkAtRaw(dirfd: number, dir: string, name: string): number {
  const n = Number(c.readlinkat(dirfd, name, linkBuf, linkBuf.length));
  if (n < 0) throw fsError('readlink', `${dir}/${name}`, lastErrno());
  return n;
}

/** readlink(2) into the shared link buffer; returns the length. */
function readlinkRaw(path: string): number {
  const n = Number(c.readlink(path, linkBuf, linkBuf.length));
  if (n < 0) throw fsError('readlink', path, lastErrno());
  return n;
}

export function sysReadlink(path: string): string {
  const n = readlinkRaw(path);
  return linkBuf.toString('utf8', 0, n);
}

/**
 * Inode of a namespace link ("net:[4026531833]") read without making a
 * string; undefined if the target is not of that shape.
 */
export function sysReadNsIno(path: string): number | undefined {
  return nsInoOfLink(readlinkRaw(path));
}

/** sysReadNsIno of `name` relative to an open directory `dirfd` (whose path, `dir`, names errors). */
export function sysReadNsInoAt(dirfd: number, dir: string, name: string): number | undefined {
  return nsInoOfLink(readlinkAtRaw(dirfd, dir, name));
}

/** Inode in a "type:[inode]" link target in linkBuf[0..n); undefined for any other shape. */
function nsInoOfLink(n: number): number | undefined {
  if (n < 4 || linkBuf[n - 1] !== 93 /* ] */) return undefined;
  const open = linkBuf.indexOf(91 /* [ */);
  if (open < 0 || open >= n - 2) return undefined;
  let ino = 0;
  for (let i = open + 1; i < n - 1; i++) {
    const d = (linkBuf[i] ?? 0) - 48;
    if (d < 0 || d > 9) return undefined;
    ino = ino * 10 + d;
  }
  return ino;
}

/**
 * Entry names of a directory (without "." and ".."), unsorted, through
 * getdents64(2): struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen;
 * u8 d_type; char d_name[]; } — the name starts at byte 19.
 */
export function sysListDir(path: string): string[] {
  const fd = openOrThrow(path, O_RDONLY | O_DIRECTORY);
  const out: string[] = [];
  try {
    for (;;) {
      const n = Number(c.getdents64(fd, buf, buf.length));
      if (n < 0) {
        const e = lastErrno();
        if (e === EINTR) continue;
        throw fsError('getdents64', path, e);
      }
      if (n === 0) break;
      let off = 0;
      while (off < n) {
        const reclen = buf.readUInt16LE(off + 16);
        const start = off + 19;
        const end = buf.indexOf(0, start);
        const dot = buf[start] === 46;
        if (!(dot && (end === start + 1 || (end === start + 2 && buf[start + 1] === 46)))) {
          out.push(buf.toString('latin1', start, end));
        }
        off += reclen;
      }
    }
  } finally {
    c.close(fd);
  }
  return out;
}

/**
 * Namespace link of an fd ("net:[…]"), decided from the bytes: most fds are
 * paths ("/…"), "socket:[…]", "pipe:[…]" or "anon_inode:…" and get no string.
 */
export function sysReadFdNs(path: string): { type: string; ino: number } | undefined {
  return nsOfLink(readlinkRaw(path));
}

const statBuf = Buffer.alloc(256);

/**
 * st_ino of an fd via fstat(2) (x86-64 and arm64 struct stat: st_dev at 0,
 * st_ino at 8, both 64-bit), without node:fs's Stats object and its Dates.
 */
export function sysFstatIno(fd: number): number {
  if ((c.fstat(fd, statBuf) as number) < 0) throw fsError('fstat', String(fd), lastErrno());
  return Number(statBuf.readBigUInt64LE(8));
}

const dirBuf = Buffer.allocUnsafe(32 * 1024);

/** Parses the "type:[inode]" in linkBuf[0..n); undefined for any other target. */
function nsOfLink(n: number): { type: string; ino: number } | undefined {
  const c0 = linkBuf[0];
  // Namespace type names start with c, i, m, n, p, t or u; paths with "/",
  // sockets with "s", anonymous inodes with "a".
  if (c0 !== 99 && c0 !== 105 && c0 !== 109 && c0 !== 110 && c0 !== 112 && c0 !== 116 && c0 !== 117)
    return undefined;
  const colon = linkBuf.indexOf(58 /* : */);
  if (colon < 0 || colon > 6 || linkBuf[colon + 1] !== 91 /* [ */ || linkBuf[n - 1] !== 93) return undefined;
  let ino = 0;
  for (let i = colon + 2; i < n - 1; i++) {
    const d = (linkBuf[i] ?? 0) - 48;
    if (d < 0 || d > 9) return undefined;
    ino = ino * 10 + d;
  }
  return { type: linkBuf.toString('latin1', 0, colon), ino };
}

/** The fds of one process that the scan relates to something (see sysFdLinks). */
export interface FdLinks {
  /** Namespace fds ("net:[4026532475]"): fd, type and inode. */
  ns: { fd: number; type: string; ino: number }[];
  /** Socket fds ("socket:[12345]") as flat (fd, socket inode) pairs. */
  sockets: number[];
  /** fds open on the TUN/TAP clone device ("/dev/net/tun"). */
  tuns: number[];
  /**
   * Namespace fds whose link is a path, not "type:[inode]": opened through a
   * bind mount ("/run/netns/x"), or through one since detached ("/", after
   * `ip netns del`). Flat (fd, namespace inode) pairs; the type is not in
   * the link (see sysNsTypeAt).
   */
  nsfs: number[];
}

/**
 * The link texts an nsfs fd can have besides "type:[inode]": the mount
 * points of nsfs mounts (as bytes, in latin1 strings), and "/" (always: a
 * detached mount). Only fds whose link is one of these are stat'ed; the
 * lengths let almost every other path be passed over without making a string.
 */
export interface NsfsPaths {
  paths: Set<string>;
  lengths: Set<number>;
}

const TUN = Buffer.from('/dev/net/tun', 'latin1');
const SOCKET = Buffer.from('socket:[', 'latin1');

/** Inode of "socket:[N]" in linkBuf[0..n), or -1 for any other target. */
function socketOfLink(n: number): number {
  if (n < 10 || linkBuf[0] !== 115 /* s */ || linkBuf[n - 1] !== 93 /* ] */) return -1;
  if (linkBuf.compare(SOCKET, 0, 8, 0, 8) !== 0) return -1;
  let ino = 0;
  for (let i = 8; i < n - 1; i++) {
    const d = (linkBuf[i] ?? 0) - 48;
    if (d < 0 || d > 9) return -1;
    ino = ino * 10 + d;
  }
  return ino;
}

/**
 * The fds in `dir` (/proc/PID/fd) that name a namespace, a socket or
 * /dev/net/tun, classified from the link bytes in one pass (and, for the few
 * links `nsfs` says could be a namespace opened by path, one stat): getdents64 on
 * the directory, then readlinkat(2) relative to it with the name straight
 * from the dirent buffer — no path is walked or built per fd, and no string
 * is made for the common targets, which matters for processes holding
 * thousands of sockets. An fd closed between the two calls is skipped;
 * other errors throw.
 */
export function sysFdLinks(dir: string, nsfs?: NsfsPaths): FdLinks {
  return fdLinksOf(openOrThrow(dir, O_RDONLY | O_DIRECTORY), dir, nsfs);
}

/**
 * sysFdLinks of the directory `name` relative to an open directory `dirfd`
 * (whose path, `parent`, names errors).
 */
export function sysFdLinksAt(dirfd: number, parent: string, name: string, nsfs?: NsfsPaths): FdLinks {
  return fdLinksOf(openAtOrThrow(dirfd, parent, name, O_RDONLY | O_DIRECTORY), `${parent}/${name}`, nsfs);
}

/**
 * Whether the path link in linkBuf[0..n) could be an nsfs file: "/" or a
 * known nsfs mount point. Decided by length first: no string for the rest.
 */
function maybeNsfs(n: number, nsfs: NsfsPaths | undefined): boolean {
  if (linkBuf[0] !== 47 /* / */) return false;
  if (n === 1) return true;
  return nsfs?.lengths.has(n) === true && nsfs.paths.has(linkBuf.toString('latin1', 0, n));
}

/**
 * Inode of the namespace the fd link `name` (relative to `dfd`) refers to,
 * or -1 if it is no namespace (or was closed meanwhile). fstatat follows the
 * link to the open file without opening anything.
 */
function nsfsInoAt(dfd: number, name: Uint8Array): number {
  if ((c.fstatat(dfd, name, statBuf, 0) as number) < 0) return -1;
  if (Number(statBuf.readBigUInt64LE(0)) !== nsfsDev()) return -1;
  return Number(statBuf.readBigUInt64LE(8));
}

/** The fd links in the directory open as `dfd` (closed on return). */
function fdLinksOf(dfd: number, dir: string, nsfs: NsfsPaths | undefined): FdLinks {
  const out: FdLinks = { ns: [], sockets: [], tuns: [], nsfs: [] };
  try {
    for (;;) {
      const n = Number(c.getdents64(dfd, dirBuf, dirBuf.length));
      if (n < 0) {
        const e = lastErrno();
        if (e === EINTR) continue;
        throw fsError('getdents64', dir, e);
      }
      if (n === 0) break;
      let off = 0;
      while (off < n) {
        const reclen = dirBuf.readUInt16LE(off + 16);
        const start = off + 19;
        off += reclen;
        if (dirBuf[start] === 46 /* . */) continue;
        const len = Number(c.readlinkatBytes(dfd, dirBuf.subarray(start), linkBuf, linkBuf.length));
        if (len < 0) {
          const e = lastErrno();
          if (e === ENOENT) continue;
          throw fsError('readlinkat', dir, e);
        }
        const sock = socketOfLink(len);
        const ns = sock < 0 ? nsOfLink(len) : undefined;
        const tun =
          sock < 0 && ns === undefined && len === TUN.length && linkBuf.compare(TUN, 0, len, 0, len) === 0;
        let nsIno = -1;
        if (sock < 0 && ns === undefined && !tun) {
          if (!maybeNsfs(len, nsfs)) continue;
          nsIno = nsfsInoAt(dfd, dirBuf.subarray(start));
          if (nsIno < 0) continue;
        }
        let fd = 0;
        for (let i = start; dirBuf[i] !== 0; i++) fd = fd * 10 + ((dirBuf[i] ?? 48) - 48);
        if (sock >= 0) out.sockets.push(fd, sock);
        else if (ns !== undefined) out.ns.push({ fd, type: ns.type, ino: ns.ino });
        else if (tun) out.tuns.push(fd);
        else out.nsfs.push(fd, nsIno);
      }
      // proc_readfd_common emits every fd until dir_emit fails for lack of
      // room, so a batch that left room for a longest record (19-byte header
      // + NAME_MAX + NUL, 8-aligned: 280 bytes) was the last: the one more
      // getdents64 that would return 0 is skipped.
      if (n <= dirBuf.length - 280) break;
    }
  } finally {
    c.close(dfd);
  }
  return out;
}

/** CLONE_NEW* (NS_GET_NSTYPE's answer) → namespace type name. */
const TYPE_OF_CLONE: Record<number, string> = {
  131072: 'mnt',
  33554432: 'cgroup',
  67108864: 'uts',
  134217728: 'ipc',
  268435456: 'user',
  536870912: 'pid',
  1073741824: 'net',
  128: 'time',
};

/**
 * Type of the namespace `ino` that the fd link `name` (relative to `dirfd`)
 * refers to, asked with NS_GET_NSTYPE; undefined if the link no longer
 * refers to that namespace or the kernel does not answer. The link is first
 * opened O_PATH, which opens nothing (no driver's open runs, no FIFO
 * blocks), and only once fstat shows it is namespace `ino` is that very file
 * opened for reading, through /proc/self/fd: the fd number may be reused by
 * its holder meanwhile, the O_PATH file cannot change.
 */
export function sysNsTypeAt(dirfd: number, name: string, ino: number): string | undefined {
  const p = c.openat(dirfd, name, O_PATH | O_CLOEXEC) as number;
  if (p < 0) return undefined;
  try {
    if ((c.fstat(p, statBuf) as number) < 0) return undefined;
    if (Number(statBuf.readBigUInt64LE(0)) !== nsfsDev() || Number(statBuf.readBigUInt64LE(8)) !== ino)
      return undefined;
    const f = c.open(`/proc/self/fd/${p}`, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) as number;
    if (f < 0) return undefined;
    try {
      const t = c.ioctl(f, NS_GET_NSTYPE, 0) as number;
      return t < 0 ? undefined : TYPE_OF_CLONE[t];
    } finally {
      c.close(f);
    }
  } finally {
    c.close(p);
  }
}
