/**
 * Entering network namespaces on the calling thread.
 *
 * setns(2) with CLONE_NEWNET changes only the calling thread's namespace, and
 * a socket stays bound to the namespace it was created in. So: enter, create
 * the sockets, return at once — then dump through them from anywhere. This is
 * synchronous so no other JavaScript can run on this thread while it is in a
 * foreign namespace. Mount namespaces cannot be entered this way by a
 * multi-threaded process (setns(2): EINVAL), which is why files of other mount
 * namespaces are read through /proc/PID/root instead.
 */
import { fstatSync, statSync } from 'node:fs';
import { CLONE_NEWNET, close, gettid, O_CLOEXEC, O_RDONLY, open, setns } from './libc.js';
import { checkNsFd, openNs } from './nsfs.js';

let homeFd = -1;
let homeIno = -1;

/** An fd of this thread's original network namespace, opened once per thread. */
function home(): number {
  if (homeFd < 0) {
    homeFd = open(`/proc/self/task/${gettid()}/ns/net`, O_RDONLY | O_CLOEXEC);
    homeIno = fstatSync(homeFd).ino;
  }
  return homeFd;
}

/** Thrown when the thread could not return to its own namespace: the thread is unusable. */
export class NetnsRestoreError extends Error {}

/**
 * Runs `fn` with the calling thread inside the network namespace referenced by
 * `target` (a path such as /proc/PID/ns/net or /run/netns/X, or an open fd),
 * then returns the thread to its own namespace, even if `fn` throws.
 *
 * A path is opened without blocking and must open a namespace — namespace
 * `ino` when given (see nsfs.ts): a path that now leads to another namespace
 * throws a "vanished" SyscallError before anything is entered, so nothing is
 * ever read under the wrong inode.
 */
export function withNetns<T>(target: string | number, fn: () => T, ino?: number): T {
  const back = home();
  const fd = typeof target === 'number' ? target : openNs(target, ino);
  try {
    if (typeof target === 'number' && ino !== undefined) checkNsFd(fd, `fd ${fd}`, ino);
    // The thread's own namespace needs no setns — and must not: without
    // CAP_SYS_ADMIN setns fails even for one's own namespace, yet netlink
    // dumps of it need no privilege at all.
    if (fstatSync(fd).ino === homeIno) return fn();
    setns(fd, CLONE_NEWNET);
  } finally {
    if (typeof target !== 'number') close(fd);
  }
  let result: T;
  try {
    result = fn();
  } catch (err) {
    restore(back);
    throw err;
  }
  restore(back);
  return result;
}

function restore(back: number): void {
  try {
    setns(back, CLONE_NEWNET);
  } catch (e) {
    throw new NetnsRestoreError(`cannot return to the original network namespace: ${(e as Error).message}`);
  }
}

/**
 * Moves the calling thread into the network namespace at `path` (namespace
 * `ino` when given) for the rest of its life. Only for a worker thread that
 * exists to act from inside that one namespace (the neighbourhood check): every
 * socket its event loop creates afterwards — TCP connects, the DNS resolver's
 * UDP sockets, ICMP sockets — is then created in it. Never for a thread that
 * runs anything else.
 */
export function enterNetnsForGood(path: string, ino?: number): void {
  const fd = openNs(path, ino);
  try {
    // Already there (e.g. the host namespace): setns would need CAP_SYS_ADMIN for nothing.
    // stat, not home(): that keeps an fd open for the thread's lifetime, and fds outlive threads.
    if (fstatSync(fd).ino === statSync(`/proc/self/task/${gettid()}/ns/net`).ino) return;
    setns(fd, CLONE_NEWNET);
  } finally {
    close(fd);
  }
}
