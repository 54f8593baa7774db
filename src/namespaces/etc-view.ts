/**
 * Reads one view's /etc files (one root directory in one mount namespace):
 * in the reader child (etc-reader-child.ts), and in-process for the one view
 * that is wirescope's own (etc-reader.ts, ownViewKey).
 */
import { statSync } from 'node:fs';
import { AT_EMPTY_PATH, AT_FDCWD, AT_STATX_DONT_SYNC, close, SyscallError, statx } from '../kernel/libc.js';
import { readEtcDns } from './dns.js';
import type { ViewJob, ViewResult } from './etc-reader.js';
import { openRoot } from './rootfs.js';

/** The view's files through the first of its processes that still has the root the scan saw. */
export function readView(procRoot: string, job: ViewJob): ViewResult {
  let last: { message: string; vanished: boolean } | undefined;
  // Through the first of the view's processes that is still there and still
  // has the root the parent saw (a PID reused since has another).
  for (const pid of job.pids) {
    let rootFd: number;
    try {
      rootFd = openRoot(`${procRoot}/${pid}/root`);
    } catch (err) {
      last = { message: String(err instanceof Error ? err.message : err), vanished: isVanished(err) };
      continue;
    }
    try {
      if (job.root !== undefined) {
        const st = statx(rootFd, '', AT_EMPTY_PATH | AT_STATX_DONT_SYNC);
        if (`${st.dev}:${st.ino}` !== job.root) {
          last = { message: `the root of process ${pid} changed`, vanished: true };
          continue;
        }
      }
      const { dns, notes } = readEtcDns(rootFd);
      return { key: job.key, pid, dns, notes };
    } catch (err) {
      last = { message: String(err instanceof Error ? err.message : err), vanished: isVanished(err) };
    } finally {
      close(rootFd);
    }
  }
  return { key: job.key, error: last ?? { message: 'no process to read through', vanished: true } };
}

const isVanished = (err: unknown): boolean => err instanceof SyscallError && err.vanished;

/**
 * The key (as tenants.ts makes it: "mnt:dev:ino") of the view wirescope itself has: its own
 * mount namespace and root directory. undefined when unreadable.
 */
export function ownViewKey(): string | undefined {
  try {
    // As rootIdentity (roots.ts) reads a tenant's: no request reaches the filesystem.
    const st = statx(AT_FDCWD, '/proc/self/root', AT_STATX_DONT_SYNC);
    return `${statSync('/proc/self/ns/mnt').ino}:${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}
