/**
 * Legacy ip_tables / ip6_tables "nat" entries → NatTable (pure). The entry's own header
 * gives destination address/mask and protocol; its xt matches and its
 * DNAT/REDIRECT target go through the same decoders as iptables-nft's
 * (xtmatch.ts, xttarget.ts); any other target is a jump (standard target with
 * a byte offset) or cannot forward (ignored).
 */
import type { IpFamily, IptEntry } from '../../kernel/iptables-legacy.js';
import {
  type Action,
  type Match,
  maskPrefixLen,
  mergeMatch,
  type NatChain,
  type NatTable,
} from './natgraph.js';
import { perListedPort, xtMatch } from './xtmatch.js';
import { xtNatTarget } from './xttarget.js';

const ENTRY_CHAINS = new Set(['PREROUTING', 'OUTPUT']);

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
    const plen = maskPrefixLen(e.dmsk);
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
    const nat = xtNatTarget(e.target.name, e.target.rev, e.target.data, family === 6);
    if (jump && e.target.verdict !== undefined) {
      const to = chainAt.get(e.target.verdict);
      if (to) action = { kind: e.goto ? 'goto' : 'jump', chain: to };
      else uncertain ??= `jump to offset ${e.target.verdict}, which starts no chain`;
    } else if (nat) {
      action = nat.action;
      if (nat.uncertain) uncertain ??= nat.uncertain;
    }
    // Entries that neither jump nor DNAT/REDIRECT cannot forward; contradictory ones match no packet.
    if ((!jump && !nat) || !match) continue;
    if (uncertain) {
      chain.skipped.push(`entry at offset ${e.offset} skipped: ${uncertain}`);
      continue;
    }
    chain.rules.push(...perListedPort(match, action, portLists));
  }
  return { label: `${family === 6 ? 'ip6' : 'ip'} ${table}`, family: fam, chains };
}
