/**
 * RLIMIT_NOFILE: the socket cache keeps three netlink sockets (dump, sock_diag,
 * change monitor) and two sockstat files per network
 * namespace, so the soft limit is raised to the hard limit once (as systemd
 * recommends for programs that need many fds and do not use select(2)).
 */

/**
 * The shares of the fd limit the per-namespace caches may fill. Together they
 * leave 40% for what is not cached and cannot wait: the watcher's rtnetlink
 * socket per namespace, HTTP clients, /proc reads, module files loaded on
 * first use. (When the network stage took the whole limit and the
 * forwarded-port decorator half of it, a service at 2,000 namespaces under a
 * 20,000 limit held 18,000 fds and its next open failed with EMFILE.)
 * A namespace past its cache's share is entered on every discovery instead.
 */
export const FD_SHARE = { network: 0.4, forwardedPorts: 0.2 } as const;

/** The fds one cache may hold: its share of the soft limit (a large number when unlimited). */
export function fdShare(share: number, soft = getNofile().soft): number {
  return Number.isFinite(soft) ? Math.floor(soft * share) : 1 << 20;
}

import { getrlimit, RLIM_INFINITY, setrlimit } from './libc.js';

const RLIMIT_NOFILE = 7;

/** Current soft and hard RLIMIT_NOFILE (hard may be Infinity for RLIM_INFINITY). */
export function getNofile(): { soft: number; hard: number } {
  let lim: { cur: bigint; max: bigint };
  try {
    lim = getrlimit(RLIMIT_NOFILE);
  } catch {
    return { soft: 1024, hard: 1024 };
  }
  const num = (v: bigint) => (v >= RLIM_INFINITY ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: num(lim.cur), hard: num(lim.max) };
}

/** Raises the soft limit to the hard limit (never lowers it); returns the resulting soft limit. */
export function raiseNofile(): number {
  const { soft, hard } = getNofile();
  if (hard <= soft) return soft;
  const max = Number.isFinite(hard) ? BigInt(hard) : RLIM_INFINITY;
  try {
    setrlimit(RLIMIT_NOFILE, max, max);
  } catch {
    return soft;
  }
  return getNofile().soft;
}
