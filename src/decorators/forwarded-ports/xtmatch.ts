/**
 * xtables matches → packet requirements, shared by iptables-nft's `match`
 * expressions and legacy ip_tables entries (both carry the same extension
 * name, revision and private struct). Pure.
 */
import { NftDecodeError } from '../../kernel/nftables/expr.js';
import {
  decodeXtAddrtype,
  decodeXtMultiport,
  decodeXtTcpUdp,
  XT_ADDRTYPE_LOCAL,
} from '../../kernel/nftables/xt.js';
import { type Action, type Match, mergeMatch, type NatRule, type PortRange } from './natgraph.js';

/** Matches that do not decide which address or port a packet is forwarded for. */
const HARMLESS_XT_MATCHES = new Set([
  'comment',
  'statistic',
  'mark',
  'connmark',
  'conntrack',
  'state',
  'physdev',
  'limit',
  'owner',
  'mac',
  'pkttype',
  'recent',
  'hashlimit',
  'connlimit',
  'devgroup',
  'socket',
  'cgroup',
  'rpfilter',
  'helper',
  'length',
  'ttl',
  'hl',
  'tos',
  'dscp',
  'ecn',
  'quota',
  'time',
  'icmp',
  'icmp6',
  'ah',
  'esp',
  'nfacct',
  'cpu',
  'string',
  'policy',
]);

export interface XtMatchResult {
  match?: Match;
  /** Destination ports listed by a multiport match: the rule applies once per entry. */
  ports?: PortRange[];
  /** Set when the match decides the forward in a way we do not decode. */
  uncertain?: string;
}

export function xtMatch(name: string, rev: number, info: Buffer): XtMatchResult {
  try {
    if (name === 'tcp' || name === 'udp') {
      const t = decodeXtTcpUdp(info, name);
      const match: Match = { protocol: name === 'tcp' ? 6 : 17 };
      if (!t.dportInverted && !(t.dport.min === 0 && t.dport.max === 65535)) match.dport = t.dport;
      return { match };
    }
    if (name === 'addrtype') {
      const a = decodeXtAddrtype(info, rev);
      return a.dest & XT_ADDRTYPE_LOCAL && !a.destInverted ? { match: { localDest: true } } : {};
    }
    if (name === 'multiport') {
      const mp = decodeXtMultiport(info, rev);
      if (!mp) return { uncertain: `multiport match revision ${rev} is not decoded` };
      if (mp.which === 'destination') return { ports: mp.ports };
      return mp.which === 'source' ? {} : { uncertain: 'multiport match on source-or-destination ports' };
    }
    if (HARMLESS_XT_MATCHES.has(name)) return {};
    return { uncertain: `xtables match "${name}" is not decoded` };
  } catch (err) {
    if (err instanceof NftDecodeError) return { uncertain: err.message };
    throw err;
  }
}

/**
 * The NatRules a rule stands for once its multiport lists are applied: one
 * per destination port (range) of the first list, or the rule itself when
 * there is none.
 */
export function perListedPort(match: Match, action: Action, portLists: readonly PortRange[][]): NatRule[] {
  if (portLists.length === 0) return [{ match, action }];
  const out: NatRule[] = [];
  for (const p of portLists[0] ?? []) {
    const m = mergeMatch(match, { dport: p });
    if (m) out.push({ match: m, action });
  }
  return out;
}
