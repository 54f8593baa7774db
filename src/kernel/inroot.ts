/**
 * Writing inside a directory tree that someone else laid out — a container
 * rootfs — without ever leaving it: openat2(2) with RESOLVE_IN_ROOT resolves
 * every path as if the directory were "/" (absolute symlinks and ".." stop at
 * it, include/uapi/linux/openat2.h), and the *at() calls below then act on
 * one entry of a directory opened that way. Its calls are bound in
 * libc.ts (`sys`); this file is the write side (mkdirat, symlinkat, linkat,
 * unlinkat, renameat, fchownat) of the lab builder, kept apart from any
 * read-side openat2 helper so each can change alone.
 *
 * glibc 2.36 has no openat2() wrapper: it is syscall 437, one number on every
 * architecture (it was added after the syscall tables were unified).
 */
import { sys as c, errno, SyscallError } from './libc.js';

const SYS_openat2 = 437;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;

export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

/** struct open_how.resolve flags (include/uapi/linux/openat2.h). */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

export const EEXIST = 17;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const ELOOP = 40;

function check(ret: number, call: string, detail: string): number {
  if (ret < 0) throw new SyscallError(call, errno(), detail);
  return ret;
}

/**
 * openat2(dirfd, path, {flags, mode, resolve}); returns the new fd (close it
 * with fs.closeSync or libc close). `mode` only with O_CREAT: the kernel
 * refuses a mode otherwise (EINVAL).
 */
export function openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0): number {
  // struct open_how { __u64 flags; __u64 mode; __u64 resolve; }
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const ret = Number(
    c.syscall(SYS_openat2, 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', how.length),
  );
  return check(ret, 'openat2', path);
}

export function mkdirat(dirfd: number, path: string, mode: number): void {
  check(c.mkdirat(dirfd, path, mode) as number, 'mkdirat', path);
}

export function symlinkat(target: string, dirfd: number, path: string): void {
  check(c.symlinkat(target, dirfd, path) as number, 'symlinkat', path);
}

/** linkat(2); without AT_SYMLINK_FOLLOW a final symlink in oldpath is linked, not followed. */
export function linkat(
  olddirfd: number,
  oldpath: string,
  newdirfd: number,
  newpath: string,
  flags = 0,
): void {
  check(c.linkat(olddirfd, oldpath, newdirfd, newpath, flags) as number, 'linkat', newpath);
}

export function unlinkat(dirfd: number, path: string, flags = 0): void {
  check(c.unlinkat(dirfd, path, flags) as number, 'unlinkat', path);
}

/** renameat(2): replaces newpath itself (a symlink there is replaced, never followed). */
export function renameat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string): void {
  check(c.renameat(olddirfd, oldpath, newdirfd, newpath) as number, 'renameat', newpath);
}

export function fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): void {
  check(c.fchownat(dirfd, path, uid, gid, flags) as number, 'fchownat', path);
}
