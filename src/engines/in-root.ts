/**
 * A path as a process sees it, reached from outside through /proc/PID/root.
 *
 * The kernel resolves an absolute symlink met below /proc/PID/root against
 * the *caller's* root, not that process's (the magic link only sets the
 * starting point; path_walk jumps to current->fs->root on a leading '/').
 * dockerd binds /var/run/docker.sock, and /var/run is the symlink "/run" on
 * Debian and most distributions: on the host both roots are the same and it
 * works, but from a container (wirescope's image, a pod) the link lands in
 * the container's own /run and connect(2) fails with ENOENT. So the path is
 * resolved here one component at a time, absolute links restarting at the
 * process's root and ".." stopping there, as chroot(2) would have it.
 */
import { lstatSync, readlinkSync } from 'node:fs';

/** MAXSYMLINKS of fs/namei.c: more links than this in one walk is ELOOP. */
const MAX_LINKS = 40;

/**
 * `${root}${path}` with every symlink in `path` resolved inside `root`
 * (e.g. /proc/123/root). Components that do not exist or cannot be read end
 * the resolution: the rest is appended as it is, so the caller's own open
 * or connect reports the error it would have reported anyway.
 */
export function pathInRoot(root: string, path: string): string {
  const done: string[] = [];
  let todo = path.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift() as string;
    if (c === '..') {
      done.pop();
      continue;
    }
    const here = `${root}/${[...done, c].join('/')}`;
    let isLink: boolean;
    try {
      isLink = lstatSync(here).isSymbolicLink();
    } catch {
      return `${root}/${[...done, c, ...todo].join('/')}`;
    }
    if (!isLink) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) return `${root}/${[...done, c, ...todo].join('/')}`;
    let target: string;
    try {
      target = readlinkSync(here);
    } catch {
      return `${root}/${[...done, c, ...todo].join('/')}`;
    }
    if (target.startsWith('/')) done.length = 0;
    todo = [...target.split('/').filter((t) => t !== '' && t !== '.'), ...todo];
  }
  return `${root}/${done.join('/')}`;
}
