/**
 * Per-namespace socket counters from /proc/net/sockstat and sockstat6
 * (net/ipv4/proc.c sockstat_seq_show, net/ipv6/proc.c): "TCP: inuse N ... tw T",
 * "UDP: inuse N", "TCP6: inuse N", "UDP6: inuse N". The inuse and tw counters
 * are per network namespace, while sock_diag walks the kernel's *global* TCP
 * established hash for every dump (milliseconds on a large host) — so the
 * counters tell which dumps can be skipped because they would find nothing.
 */

export interface SockStat {
  tcp4: number;
  tcp6: number;
  /** TIME_WAIT sockets, both families. */
  tw: number;
  udp4: number;
  udp6: number;
}

function field(text: string, proto: string, name: string): number | undefined {
  // "PROTO: k1 v1 k2 v2 ..." — plain string search: this runs for every namespace.
  let at = text.startsWith(`${proto}: `) ? 0 : text.indexOf(`\n${proto}: `);
  if (at < 0) return undefined;
  if (at > 0) at++;
  const eol = text.indexOf('\n', at);
  const words = text.slice(at + proto.length + 2, eol < 0 ? text.length : eol).split(' ');
  for (let i = 0; i + 1 < words.length; i += 2) {
    if (words[i] !== name) continue;
    // A counter is decimal digits (sockstat_seq_show's %d of a non-negative count); anything
    // else is not a count, and Number() would make '' 0 and '-' NaN.
    const v = words[i + 1] ?? '';
    return /^\d{1,15}$/.test(v) ? Number(v) : undefined;
  }
  return undefined;
}

/** Pure parser over the text of sockstat and sockstat6; undefined when a counter is missing. */
export function parseSockStat(v4: string, v6: string): SockStat | undefined {
  const tcp4 = field(v4, 'TCP', 'inuse');
  const tw = field(v4, 'TCP', 'tw');
  const udp4 = field(v4, 'UDP', 'inuse');
  const tcp6 = field(v6, 'TCP6', 'inuse');
  const udp6 = field(v6, 'UDP6', 'inuse');
  if (
    tcp4 === undefined ||
    tw === undefined ||
    udp4 === undefined ||
    tcp6 === undefined ||
    udp6 === undefined
  ) {
    return undefined;
  }
  return { tcp4, tcp6, tw, udp4, udp6 };
}
