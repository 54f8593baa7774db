/**
 * Reading a file as another process sees it, through /proc/PID/root. The
 * kernel resolves /proc/PID/root itself to that process's root (chroot,
 * pivot_root, overlay), but an *absolute* symlink found below it
 * (/etc/resolv.conf → /run/systemd/resolve/stub-resolv.conf) would resolve
 * against our own root. So symlinks are followed here, component by
 * component, with absolute targets re-anchored at the process's root.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';

/** Like Linux's MAXSYMLINKS (40): beyond that, ELOOP. */
const MAX_LINKS = 40;

/** The path below `root` that `path` (absolute, as the process sees it) leads to. */
export function resolveInRoot(root: string, path: string): string {
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '..') {
      // ".." never climbs above the process's root, as in the kernel.
      done.pop();
      continue;
    }
    const here = `${root}/${[...done, c].join('/')}`;
    const st = lstatSync(here);
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) {
      const err = new Error(`too many symlinks resolving ${path}`) as NodeJS.ErrnoException;
      err.code = 'ELOOP';
      throw err;
    }
    const target = readlinkSync(here);
    const parts = target.split('/').filter((x) => x !== '' && x !== '.');
    if (target.startsWith('/')) done.length = 0;
    pending = [...parts, ...pending];
  }
  return `${root}/${done.join('/')}`;
}

/** Text of `path` as the process behind `root` sees it; undefined when it does not exist. */
export function readInRoot(root: string, path: string): string | undefined {
  try {
    return readFileSync(resolveInRoot(root, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
