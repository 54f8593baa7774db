/**
 * Writes into a container's rootfs that never leave it.
 *
 * A rootfs (a directory given in a lab file, or a tarball we unpacked) is laid
 * out by someone else: its etc/hosts may be a symlink to the host's
 * /etc/hosts, its etc a symlink to the host's /etc. Plain writeFileSync in the
 * host's mount namespace would follow them. Here every path is resolved by
 * openat2(2) with RESOLVE_IN_ROOT against a directory fd of the rootfs — an
 * absolute link or a ".." stops at the rootfs as it would for a process
 * chrooted there — and a file is written by creating a new entry beside the
 * target (O_CREAT|O_EXCL|O_NOFOLLOW) and renaming it over the target, so a
 * symlink in the target's place is replaced, never written through.
 */
import { closeSync, fchmodSync, fstatSync, statSync, writeSync } from 'node:fs';
import {
  AT_FDCWD,
  EEXIST,
  mkdirat,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_WRONLY,
  openat2,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  renameat,
  unlinkat,
} from '../../../kernel/inroot.js';
import { ENOENT, SyscallError } from '../../../kernel/libc.js';
import { shown } from '../../file/names.js';

/** Resolution inside the rootfs; /proc magic links (/proc/PID/root, fd links) never. */
export const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

const errText = (e: unknown): string =>
  e instanceof SyscallError ? e.message.replace(/^\w+ [^:]*: /, '') : (e as Error).message;

/** Path segments of a path inside the rootfs; "." and empty segments dropped, ".." refused. */
export function segments(path: string): string[] {
  const segs = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) throw new Error(`${shown(path)} has a ".." component`);
  if (path.includes('\0')) throw new Error(`${shown(path)} has a NUL byte`);
  return segs;
}

export class RootDir {
  private constructor(
    readonly fd: number,
    readonly path: string,
  ) {}

  /**
   * Opens a rootfs directory. Magic links are refused (`/proc/PID/root` would
   * hand us another process's root), and so is the host's own root: writing
   * its etc/hosts is exactly what must never happen.
   */
  static open(path: string): RootDir {
    let fd: number;
    try {
      fd = openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
    } catch (e) {
      throw new Error(`rootfs ${shown(path)}: ${errText(e)}`);
    }
    const st = fstatSync(fd);
    const host = statSync('/');
    if (st.dev === host.dev && st.ino === host.ino) {
      closeSync(fd);
      throw new Error(`rootfs ${shown(path)} is the host's root directory`);
    }
    return new RootDir(fd, path);
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * An O_PATH fd of the directory at `segs` inside the rootfs (the caller
   * closes it); with `create`, missing directories are made (0755) as in
   * `mkdir -p`. Every prefix is resolved from the rootfs itself, so links in
   * it mean what they mean inside the container.
   */
  dir(segs: readonly string[], create: boolean): number {
    let fd = openat2(this.fd, '.', O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
    for (let i = 0; i < segs.length; i++) {
      const prefix = segs.slice(0, i + 1).join('/');
      let next: number;
      try {
        next = openat2(this.fd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
      } catch (e) {
        if (!create || !(e instanceof SyscallError) || e.errno !== ENOENT) {
          closeSync(fd);
          throw new Error(`${shown(prefix)}: ${errText(e)}`);
        }
        try {
          mkdirat(fd, segs[i] as string, 0o755);
          next = openat2(this.fd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
        } catch (e2) {
          closeSync(fd);
          // EEXIST: a dangling link is in the way; it is never followed out of the rootfs.
          const why =
            e2 instanceof SyscallError && e2.errno === EEXIST ? 'a link that leads nowhere' : errText(e2);
          throw new Error(`${shown(prefix)}: cannot make a directory (${why})`);
        }
      }
      closeSync(fd);
      fd = next;
    }
    return fd;
  }

  /** Replaces the file at `path` inside the rootfs (a link there is replaced, not followed). */
  writeFile(path: string, data: string | Buffer, mode = 0o644): void {
    const segs = segments(path);
    const base = segs.pop();
    if (base === undefined) throw new Error(`rootfs ${shown(this.path)}: no file name in ${shown(path)}`);
    let parent: number;
    try {
      parent = this.dir(segs, true);
    } catch (e) {
      throw new Error(`rootfs ${shown(this.path)}: ${(e as Error).message}`);
    }
    const tmp = `.wirescope-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    let created = false;
    try {
      const fd = openat2(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, IN_ROOT, 0o600);
      created = true;
      try {
        const buf = typeof data === 'string' ? Buffer.from(data) : data;
        for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      renameat(parent, tmp, parent, base);
      created = false;
    } catch (e) {
      throw new Error(`rootfs ${shown(this.path)}: ${path}: ${errText(e)}`);
    } finally {
      if (created) {
        try {
          unlinkat(parent, tmp);
        } catch {
          /* already gone */
        }
      }
      closeSync(parent);
    }
  }

  /** Makes a directory inside the rootfs when it is missing (`mkdir -p`). */
  mkdirs(path: string): void {
    try {
      closeSync(this.dir(segments(path), true));
    } catch (e) {
      throw new Error(`rootfs ${shown(this.path)}: ${(e as Error).message}`);
    }
  }
}
