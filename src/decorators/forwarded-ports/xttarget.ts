/**
 * xtables NAT targets → actions, shared by iptables-nft's `target`
 * expressions and legacy ip_tables entries (both carry the same extension
 * name, revision and private struct). Pure.
 */
import { NftDecodeError } from '../../kernel/nftables/expr.js';
import { decodeXtNat } from '../../kernel/nftables/xt.js';
import type { Action } from './natgraph.js';

export interface XtTargetResult {
  action: Extract<Action, { kind: 'dnat' | 'redirect' }>;
  /** Set when the target's info could not be decoded: the rule forwards, but where to is unknown. */
  uncertain?: string;
}

/** A DNAT or REDIRECT target as an action; undefined for any other target (it cannot forward). */
export function xtNatTarget(
  name: string,
  rev: number,
  info: Buffer,
  ipv6Table: boolean,
): XtTargetResult | undefined {
  if (name !== 'DNAT' && name !== 'REDIRECT') return undefined;
  const kind = name === 'DNAT' ? 'dnat' : 'redirect';
  try {
    // REDIRECT has only revision 0, but its struct differs by family (xt_REDIRECT.c):
    // ipt_REDIRECT carries nf_nat_ipv4_multi_range_compat (DNAT rev 0's layout),
    // ip6t_REDIRECT nf_nat_range (DNAT rev 1's).
    const r = decodeXtNat(info, kind === 'redirect' ? (ipv6Table ? 1 : 0) : rev, ipv6Table);
    const action: XtTargetResult['action'] = kind === 'dnat' ? { kind, family: r.family } : { kind };
    if (action.kind === 'dnat' && r.minAddress) action.address = r.minAddress;
    if (r.minPort !== undefined) {
      action.port = r.minPort;
      if (r.maxPort !== undefined && r.maxPort > r.minPort) action.portEnd = r.maxPort;
    }
    return { action };
  } catch (err) {
    if (!(err instanceof NftDecodeError)) throw err;
    return { action: { kind }, uncertain: err.message };
  }
}
