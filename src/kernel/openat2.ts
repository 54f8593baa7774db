/**
 * openat2(2) (Linux 5.6), bound through koffi's variadic syscall(2): glibc
 * only gained a wrapper in 2.40, after Debian 12's 2.36. Its `resolve` flags
 * let the kernel itself confine a path walk, which no sequence of checks in
 * user space can do without races:
 *  - RESOLVE_IN_ROOT: the walk treats `dirfd` as "/": absolute symlinks and
 *    ".." are resolved against it, as chroot(2) would, and never leave it;
 *  - RESOLVE_NO_MAGICLINKS: /proc/PID/fd/N, /proc/PID/root and their like
 *    are refused (ELOOP) instead of jumping to whatever they designate.
 * The syscall number is 437 on every architecture (new syscalls share one
 * table since 5.1).
 */
import { E2BIG, EAGAIN, ENOSYS, EPERM, errno, O_CLOEXEC, SyscallError, sys } from './libc.js';

const SYS_openat2 = 437;

export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

/**
 * openat2(dirfd, path, {flags, mode: 0, resolve}); O_CLOEXEC is always added.
 * struct open_how is three u64 (flags, mode, resolve): 24 bytes.
 */
export function openat2(dirfd: number, path: string, flags: number, resolve: number): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags | O_CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  // EAGAIN: with RESOLVE_IN_ROOT the kernel could not rule out that a ".."
  // raced with a rename or mount and escaped; openat2(2) says to retry.
  for (let attempt = 0; ; attempt++) {
    const fd = Number(
      sys.syscall(SYS_openat2, 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', 24),
    );
    if (fd >= 0) return fd;
    const e = errno();
    if (e === EAGAIN && attempt < 8) continue;
    throw new SyscallError('openat2', e, path);
  }
}

/**
 * Whether an openat2 failure means the call itself is unavailable rather than
 * the path failing: ENOSYS before 5.6, EPERM or ENOSYS from a seccomp filter
 * that does not know it (older container runtimes' default profiles), E2BIG
 * if a future struct size were refused.
 */
export function openat2Unavailable(err: unknown): boolean {
  return err instanceof SyscallError && (err.errno === ENOSYS || err.errno === E2BIG || err.errno === EPERM);
}
