/**
 * Opening a namespace by a path that names it — /proc/PID/ns/X, a bind
 * mount, /proc/PID/fd/N — and making sure the open file is that namespace.
 *
 * Such a path can lead elsewhere by the time it is opened: the PID may
 * belong to another process, a bind mount may have been replaced (`ip netns
 * del x; ip netns add x`), an fd number reused. Entering what the path leads
 * to then would report one namespace's data under another's inode. And the
 * path may be anything its owner chose (a FIFO, a device node): a plain
 * open(2) of a FIFO blocks until a writer appears. So the path is opened
 * with O_NONBLOCK (a FIFO opens at once; O_NOCTTY keeps a terminal from
 * becoming ours), and the open file is accepted only if fstat(2) shows the
 * nsfs superblock's device and the inode asked for.
 */
import { fstatSync, statSync } from 'node:fs';
import { close, EINVAL, ESRCH, O_CLOEXEC, O_RDONLY, open, SyscallError } from './libc.js';

export const O_NONBLOCK = 0o4000;
export const O_NOCTTY = 0o400;

/** Flags for opening a namespace reference: never blocks, never takes a terminal, not inherited. */
export const NS_OPEN_FLAGS = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

/**
 * The path opens namespace `found`, not `expected`: the one asked for is no
 * longer behind it. A "vanished" SyscallError (ESRCH on open), so callers
 * that try the next path on vanished ones do so here too.
 */
export class NsMismatchError extends SyscallError {
  constructor(
    readonly path: string,
    readonly expected: number,
    readonly found: number,
  ) {
    super('open', ESRCH, `${path} (now namespace ${found}, not ${expected})`);
    this.name = 'NsMismatchError';
  }
}

let dev: number | undefined;

/**
 * st_dev of every namespace file: all namespaces live on the one internal
 * nsfs superblock (fs/nsfs.c mounts it once at boot). -1 if our own
 * namespace link cannot be read (then no file is taken for a namespace).
 */
export function nsfsDev(): number {
  if (dev === undefined) {
    try {
      dev = statSync('/proc/self/ns/net').dev;
    } catch {
      return -1;
    }
  }
  return dev;
}

/**
 * Checks that the open file `fd` (opened from `path`) is namespace `ino`, or
 * any namespace when `ino` is undefined. Throws a SyscallError:
 *  - call "setns", EINVAL, when it is no namespace at all — what setns(2)
 *    itself answers for such an fd, refused before it is asked;
 *  - NsMismatchError (call "open", ESRCH: "vanished") when it is another
 *    namespace: the one asked for is no longer behind this path (another
 *    path may still lead to it).
 */
export function checkNsFd(fd: number, path: string, ino?: number): void {
  const st = fstatSync(fd);
  if (st.dev !== nsfsDev()) throw new SyscallError('setns', EINVAL, `${path} (not a namespace file)`);
  if (ino !== undefined && st.ino !== ino) throw new NsMismatchError(path, ino, st.ino);
}

/**
 * Opens `path` without blocking and returns the fd if it is namespace `ino`
 * (any namespace when undefined); throws a SyscallError otherwise (see
 * checkNsFd; open errors as they come: ENOENT when the holder went away).
 */
export function openNs(path: string, ino?: number): number {
  const fd = open(path, NS_OPEN_FLAGS);
  try {
    checkNsFd(fd, path, ino);
  } catch (e) {
    close(fd);
    throw e;
  }
  return fd;
}
