/**
 * Legacy ip_tables / ip6_tables "nat" entries → NatTable (pure). The entry's own header
 * gives destination address/mask and protocol; its xt matches go through the
 * same decoder as iptables-nft's; the target is a jump (standard target with
 * a byte offset), a DNAT (nf_nat_ipv4_multi_range_compat / nf_nat_range[2]),
 * or anything else (ignored).
 */
import type { IpFamily, IptEntry } from '../../kernel/iptables-legacy.js';
import { NftDecodeError } from '../../kernel/nftables/expr.js';
import { decodeXtNat } from '../../kernel/nftables/xt.js';
import {
  type Action,
  type Match,
  mergeMatch,
  type NatChain,
  type NatRule,
  type NatTable,
} from './natgraph.js';
import { xtMatch } from './xtmatch.js';

const ENTRY_CHAINS = new Set(['PREROUTING', 'OUTPUT']);

function prefixOf(mask: Buffer): number | undefined {
  let n = 0;
  let ended = false;
  for (const byte of mask)
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && ended) return undefined;
      if (set) n++;
      else ended = true;
    }
  return n;
}

export function legacyNatTable(entries: readonly IptEntry[], family: IpFamily = 4, table = 'nat'): NatTable {
  const fam = family === 6 ? 'inet6' : 'inet';
  const chains = new Map<string, NatChain>();
  const chainAt = new Map<number, string>();
  for (const e of entries) {
    if (!chains.has(e.chain)) {
      chains.set(e.chain, { name: e.chain, entry: ENTRY_CHAINS.has(e.chain), rules: [], skipped: [] });
      chainAt.set(e.offset, e.chain);
    }
  }
  for (const e of entries) {
    const chain = chains.get(e.chain);
    if (!chain) continue;
    let uncertain: string | undefined;
    let match: Match | undefined = { family: fam };
    const narrow = (m: Match) => {
      match = match ? mergeMatch(match, m) : undefined;
    };
    if (e.proto !== 0 && !e.protoInverted) narrow({ protocol: e.proto });
    const plen = prefixOf(e.dmsk);
    if (plen === undefined) uncertain ??= 'destination mask is not a prefix';
    else if (plen > 0 && !e.dstInverted) narrow({ daddr: { address: Buffer.from(e.dst), prefixlen: plen } });
    const portLists: { min: number; max: number }[][] = [];
    for (const m of e.matches) {
      const r = xtMatch(m.name, m.rev, m.data);
      if (r.uncertain) uncertain ??= r.uncertain;
      if (r.match) narrow(r.match);
      if (r.ports) portLists.push(r.ports);
    }
    let action: Action = { kind: 'none' };
    const jump = e.target.name === '' && e.target.verdict !== undefined && e.target.verdict >= 0;
    if (jump && e.target.verdict !== undefined) {
      const to = chainAt.get(e.target.verdict);
      if (to) action = { kind: e.goto ? 'goto' : 'jump', chain: to };
      else uncertain ??= `jump to offset ${e.target.verdict}, which starts no chain`;
    } else if (e.target.name === 'REDIRECT') {
      try {
        // ipt_REDIRECT rev 0: nf_nat_ipv4_multi_range_compat; ip6t_REDIRECT: nf_nat_range.
        const r = decodeXtNat(e.target.data, family === 6 ? 1 : 0, family === 6);
        const a: Action = { kind: 'redirect' };
        if (r.minPort !== undefined) {
          a.port = r.minPort;
          if (r.maxPort !== undefined && r.maxPort > r.minPort) a.portEnd = r.maxPort;
        }
        action = a;
      } catch (err) {
        if (!(err instanceof NftDecodeError)) throw err;
        uncertain ??= err.message;
      }
    } else if (e.target.name === 'DNAT') {
      try {
        const r = decodeXtNat(e.target.data, e.target.rev, family === 6);
        const a: Action = { kind: 'dnat', family: fam };
        if (r.minAddress) a.address = r.minAddress;
        if (r.minPort !== undefined) {
          a.port = r.minPort;
          if (r.maxPort !== undefined && r.maxPort > r.minPort) a.portEnd = r.maxPort;
        }
        action = a;
      } catch (err) {
        if (!(err instanceof NftDecodeError)) throw err;
        uncertain ??= err.message;
      }
    }
    // Entries that neither jump nor DNAT cannot forward; contradictory ones match no packet.
    if ((!jump && e.target.name !== 'DNAT' && e.target.name !== 'REDIRECT') || !match) continue;
    if (uncertain) {
      chain.skipped.push(`entry at offset ${e.offset} skipped: ${uncertain}`);
      continue;
    }
    const rules: NatRule[] = [];
    const base: Match = match;
    if (portLists.length === 0) rules.push({ match: base, action });
    else
      for (const p of portLists[0] ?? []) {
        const m = mergeMatch(base, { dport: p });
        if (m) rules.push({ match: m, action });
      }
    chain.rules.push(...rules);
  }
  return { label: `${family === 6 ? 'ip6' : 'ip'} ${table}`, family: fam, chains };
}
