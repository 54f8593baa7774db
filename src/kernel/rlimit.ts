/**
 * RLIMIT_NOFILE: the socket cache keeps three netlink sockets (dump, sock_diag,
 * change monitor) and two sockstat files per network
 * namespace, so the soft limit is raised to the hard limit once (as systemd
 * recommends for programs that need many fds and do not use select(2)).
 */
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
