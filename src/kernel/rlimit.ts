/**
 * RLIMIT_NOFILE: the socket cache keeps three netlink sockets (dump, sock_diag,
 * change monitor) and two sockstat files per network
 * namespace, so the soft limit is raised to the hard limit once (as systemd
 * recommends for programs that need many fds and do not use select(2)).
 */
import koffi from 'koffi';

const RLIMIT_NOFILE = 7;
type Fn = ReturnType<ReturnType<typeof koffi.load>['func']>;
let lib: { get: Fn; set: Fn } | undefined;

interface Rlimit {
  cur: bigint | number;
  max: bigint | number;
}

function fns() {
  if (!lib) {
    const libc = koffi.load('libc.so.6');
    // Anonymous struct: koffi's type names are process-wide and workers load this module too.
    const rlimit = koffi.struct({ cur: 'uint64_t', max: 'uint64_t' });
    lib = {
      get: libc.func('getrlimit', 'int', ['int', koffi.out(koffi.pointer(rlimit))]),
      set: libc.func('setrlimit', 'int', ['int', koffi.pointer(rlimit)]),
    };
  }
  return lib;
}

/** Current soft and hard RLIMIT_NOFILE (hard may be Infinity for RLIM_INFINITY). */
export function getNofile(): { soft: number; hard: number } {
  const out: Rlimit = { cur: 0, max: 0 };
  if ((fns().get(RLIMIT_NOFILE, out) as number) !== 0) return { soft: 1024, hard: 1024 };
  const num = (v: bigint | number) =>
    BigInt(v) >= 0xffffffffffffffffn ? Number.POSITIVE_INFINITY : Number(v);
  return { soft: num(out.cur), hard: num(out.max) };
}

/** Raises the soft limit to the hard limit (never lowers it); returns the resulting soft limit. */
export function raiseNofile(): number {
  const { soft, hard } = getNofile();
  if (hard <= soft) return soft;
  const max = Number.isFinite(hard) ? BigInt(hard) : 0xffffffffffffffffn;
  const lim: Rlimit = { cur: max, max };
  if ((fns().set(RLIMIT_NOFILE, lim) as number) !== 0) return soft;
  return getNofile().soft;
}
