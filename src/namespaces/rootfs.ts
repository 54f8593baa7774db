/**
 * Reading a small file as another process sees it, below its root directory
 * (/proc/PID/root). Everything there is the container's to shape, so:
 *
 *  - the walk never leaves that root: openat2(2) RESOLVE_IN_ROOT anchors
 *    absolute symlinks and ".." at the root fd, RESOLVE_NO_MAGICLINKS refuses
 *    /proc/PID/fd/N-style links. Symlinks that stay inside are followed
 *    (Docker's /etc/resolv.conf → ../run/…, systemd's absolute stub link):
 *    that is why the last component is not opened O_NOFOLLOW — the kernel
 *    confines it like every other one. Without openat2 (before 5.6, or a
 *    seccomp filter that refuses it) the same walk is done one component at
 *    a time with openat(O_PATH|O_NOFOLLOW), each symlink read from its own fd,
 *    so nothing is checked by path and then opened by path (no race);
 *  - the file is first opened O_PATH, which runs no driver or FIFO open: a
 *    device node (whose open(2) may have side effects, outside the
 *    container's device cgroup) or a FIFO (whose open blocks until a writer
 *    comes) is refused on its fstat type before anything opens it for
 *    reading. Only a regular file is then reopened, through our own
 *    /proc/self/fd/N (the same inode: no window for a swap), with O_NONBLOCK
 *    so that a lease holder cannot make the open wait (fcntl(2) F_SETLEASE:
 *    a read open blocks up to lease-break-time, 45 s, unless O_NONBLOCK);
 *  - at most `cap` + 1 bytes are read whatever the file's size claims, so a
 *    sparse 2 GB file costs 64 KiB.
 *
 * What can still block is the filesystem itself (a FUSE daemon that never
 * answers, a dead NFS server): callers read from a worker thread with a
 * watchdog (see etc-reader.ts).
 */
import {
  AT_EMPTY_PATH,
  AT_STATX_DONT_SYNC,
  close,
  EAGAIN,
  ELOOP,
  ENOENT,
  ENOTDIR,
  fstatfsType,
  O_DIRECTORY,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  open,
  openat,
  PROC_SUPER_MAGIC,
  read,
  readlinkFd,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SyscallError,
  statx,
} from '../kernel/libc.js';
import { openat2, openat2Unavailable, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from '../kernel/openat2.js';

/** Bytes read of one file at most: /etc/hosts of a big site is a few KiB. */
export const ROOT_FILE_CAP = 64 * 1024;

/** Like Linux's MAXSYMLINKS (40): beyond that, ELOOP. */
const MAX_LINKS = 40;

export type RootFile =
  /** `truncated`: the file is larger than the cap; `text` ends at the last whole line within it. */
  | { kind: 'text'; text: string; truncated?: { size: number } }
  | { kind: 'missing' }
  /** Not read on purpose: not a regular file, a magic link, a loop, an open that would block. */
  | { kind: 'refused'; reason: string };

/** How paths are confined to the root: the kernel's openat2, or the component walk. */
export type Resolver = 'openat2' | 'walk';

let openat2Works: boolean | undefined;

/** openat2 unless it proved unavailable (tested once per thread). */
function defaultResolver(): Resolver {
  if (openat2Works === undefined) {
    const slash = open('/', O_PATH | O_DIRECTORY);
    try {
      close(openat2(slash, '.', O_PATH, RESOLVE_IN_ROOT));
      openat2Works = true;
    } catch (err) {
      openat2Works = !openat2Unavailable(err);
    } finally {
      close(slash);
    }
  }
  return openat2Works ? 'openat2' : 'walk';
}

/** An O_PATH fd of a root directory, e.g. /proc/PID/root (the magic link is ours to follow). */
export function openRoot(path: string): number {
  return open(path, O_PATH | O_DIRECTORY);
}

/** O_PATH fd of `path` (as the root's owner sees it) below the root open as `rootFd`. */
export function openInRoot(rootFd: number, path: string, resolver: Resolver = defaultResolver()): number {
  if (resolver === 'openat2') {
    try {
      return openat2(rootFd, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    } catch (err) {
      if (!openat2Unavailable(err)) throw err;
      openat2Works = false;
    }
  }
  return walkInRoot(rootFd, path);
}

const parts = (p: string): string[] => p.split('/').filter((c) => c !== '' && c !== '.');

/**
 * The component walk: each component opened O_PATH|O_NOFOLLOW relative to
 * the directory fd before it, symlinks read from their own fd and spliced
 * into the rest (absolute ones restart at the root), ".." pops a directory
 * but never the root. A symlink on procfs is refused, as
 * RESOLVE_NO_MAGICLINKS refuses /proc's magic links.
 */
function walkInRoot(rootFd: number, path: string): number {
  const dirs: number[] = [];
  let pending = parts(path);
  let links = 0;
  try {
    while (pending.length > 0) {
      const c = pending.shift() as string;
      if (c === '..') {
        const fd = dirs.pop();
        if (fd !== undefined) close(fd);
        continue;
      }
      const fd = openat(dirs.at(-1) ?? rootFd, c, O_PATH | O_NOFOLLOW);
      let type: number;
      try {
        type = statx(fd, '', AT_EMPTY_PATH | AT_STATX_DONT_SYNC).mode & S_IFMT;
      } catch (err) {
        close(fd);
        throw err;
      }
      if (type === S_IFLNK) {
        let target: string;
        try {
          if (++links > MAX_LINKS) throw new SyscallError('open', ELOOP, path);
          if (fstatfsType(fd) === PROC_SUPER_MAGIC)
            throw new SyscallError('open', ELOOP, `${path} (link on procfs)`);
          target = readlinkFd(fd);
        } finally {
          close(fd);
        }
        if (target.startsWith('/')) for (const d of dirs.splice(0)) close(d);
        pending = [...parts(target), ...pending];
        continue;
      }
      dirs.push(fd);
      if (pending.length > 0 && type !== S_IFDIR) throw new SyscallError('open', ENOTDIR, path);
    }
    // The root itself: a fresh fd, so that the caller may close it.
    return dirs.pop() ?? openat(rootFd, '.', O_PATH);
  } finally {
    for (const d of dirs) close(d);
  }
}

// A Map: Biome's number-key rule rewrites octal object keys wrongly.
const TYPE_NAMES = new Map<number, string>([
  [0o010000, 'a FIFO'],
  [0o020000, 'a character device'],
  [S_IFDIR, 'a directory'],
  [0o060000, 'a block device'],
  [0o140000, 'a socket'],
]);

/** One shared read buffer per thread: files are read one at a time. */
let readBuf: Buffer | undefined;

/**
 * The text of `path` below the root open as `rootFd`, read as described
 * above. Throws SyscallError for faults other than "missing" and "refused"
 * (EACCES, EIO, a vanished process's root).
 */
export function readInRoot(
  rootFd: number,
  path: string,
  options: { cap?: number; resolver?: Resolver } = {},
): RootFile {
  const cap = options.cap ?? ROOT_FILE_CAP;
  let pathFd: number;
  try {
    pathFd = openInRoot(rootFd, path, options.resolver);
  } catch (err) {
    if (err instanceof SyscallError && (err.errno === ENOENT || err.errno === ENOTDIR))
      return { kind: 'missing' };
    if (err instanceof SyscallError && err.errno === ELOOP)
      return { kind: 'refused', reason: 'a symlink loop or a link through /proc' };
    throw err;
  }
  let fd = -1;
  try {
    const st = statx(pathFd, '', AT_EMPTY_PATH | AT_STATX_DONT_SYNC);
    const type = st.mode & S_IFMT;
    if (type !== S_IFREG) return { kind: 'refused', reason: TYPE_NAMES.get(type) ?? 'not a regular file' };
    try {
      fd = open(`/proc/self/fd/${pathFd}`, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    } catch (err) {
      if (err instanceof SyscallError && err.errno === EAGAIN)
        return { kind: 'refused', reason: 'opening it would block (a lease is held on it)' };
      throw err;
    }
    if (readBuf === undefined || readBuf.length < cap + 1) readBuf = Buffer.allocUnsafe(cap + 1);
    let n = 0;
    for (;;) {
      const got = read(fd, readBuf.subarray(n), cap + 1 - n);
      if (got === 0) break;
      n += got;
      if (n > cap) break;
    }
    if (n <= cap) return { kind: 'text', text: readBuf.toString('utf8', 0, n) };
    // Cut at the last newline within the cap: a half line would be an
    // invented value (a shortened name or address), not a missing one.
    const nl = readBuf.lastIndexOf(10, cap - 1);
    return {
      kind: 'text',
      text: nl < 0 ? '' : readBuf.toString('utf8', 0, nl + 1),
      truncated: { size: Math.max(st.size, n) },
    };
  } finally {
    if (fd >= 0) close(fd);
    close(pathFd);
  }
}
