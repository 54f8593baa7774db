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
  const line = new RegExp(`^${proto}: (.*)$`, 'm').exec(text);
  if (!line) return undefined;
  const m = new RegExp(`(?:^| )${name} (\\d+)`).exec(line[1] as string);
  return m ? Number(m[1]) : undefined;
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
