/**
 * The identity of a process's root directory: st_dev and st_ino of what
 * /proc/PID/root leads to. Two processes with the same identity see the same
 * directory tree as "/" (given the same mount namespace); a process whose
 * root differs from its parent's has chroot(2)ed or pivot_root(2)ed — the
 * workload of a minimal runtime (`unshare … chroot ROOTFS CMD`, bubblewrap,
 * vagga) — and sees its own /etc.
 *
 * statx(2) with AT_STATX_DONT_SYNC: the walk to /proc/PID/root is procfs's,
 * the jump to the root is the kernel's (nd_jump_link, no lookup on the
 * target filesystem), and the attributes come from the inode the kernel
 * holds: no request is sent to a FUSE daemon or NFS server, so this can run
 * on the calling thread for every process.
 */
import { AT_FDCWD, AT_STATX_DONT_SYNC, statx } from '../kernel/libc.js';

/** "dev:ino" of the root directory of pid; undefined if unreadable (exited, denied). */
export function rootIdentity(procRoot: string, pid: number): string | undefined {
  try {
    const st = statx(AT_FDCWD, `${procRoot}/${pid}/root`, AT_STATX_DONT_SYNC);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}
