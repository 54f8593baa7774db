/**
 * Decoders for nf_tables table, chain and rule messages (NFT_MSG_NEWTABLE,
 * NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE as sent in reply to GET dumps).
 * Pure functions over one message payload (nfgenmsg + attributes).
 */
import { type NlMsg, parseAttrList, parseAttrs, str, u32be } from '../netlink.js';
import { decodeExpr, NftDecodeError, type NftExpr } from './expr.js';
import { familyName, parseNfgenmsg, s32be, u64be, withPresent } from './nfnetlink.js';

export interface NftTable {
  family: number;
  name: string;
  flags: number;
  handle?: number;
}

export interface NftChain {
  family: number;
  table: string;
  name: string;
  handle?: number;
  /** Base chains only: netfilter hook number (NF_INET_PRE_ROUTING = 0 ...) and priority. */
  hook?: number;
  priority?: number;
  /** Base chains only: "filter", "nat", "route". */
  type?: string;
  policy?: number;
}

export interface NftRule {
  family: number;
  table: string;
  chain: string;
  handle?: number;
  exprs: NftExpr[];
  /** NFTA_RULE_COMPAT: the l4 protocol iptables-nft recorded for its xt matches. */
  compatProto?: number;
}

/** NF_INET_* hook numbers (include/uapi/linux/netfilter.h). */
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;

export function hookName(hook: number): string {
  return ['prerouting', 'input', 'forward', 'output', 'postrouting'][hook] ?? `hook${hook}`;
}

/**
 * The frame every nf_tables object message shares: struct nfgenmsg (its
 * family) then the object's attributes. `what` names the object in errors.
 */
export function decodeHeader(msg: NlMsg, what: string): { family: number; attrs: Map<number, Buffer> } {
  const g = parseNfgenmsg(msg.data);
  if (!g) throw new NftDecodeError(`${what} message shorter than its nfgenmsg header`);
  const a = parseAttrs(msg.data, 4);
  if (a.truncated) throw new NftDecodeError(`${what} message with truncated attributes`);
  return { family: g.family, attrs: a.map };
}

export function decodeTable(msg: NlMsg): NftTable {
  const { family, attrs } = decodeHeader(msg, 'table');
  const name = str(attrs.get(1)); // NFTA_TABLE_NAME
  if (name === undefined) throw new NftDecodeError('table message without a name');
  // NFTA_TABLE_FLAGS 2, NFTA_TABLE_HANDLE 4
  return withPresent({ family, name, flags: u32be(attrs.get(2)) ?? 0 }, { handle: u64be(attrs.get(4)) });
}

export function decodeChain(msg: NlMsg): NftChain {
  const { family, attrs } = decodeHeader(msg, 'chain');
  const table = str(attrs.get(1)); // NFTA_CHAIN_TABLE
  const name = str(attrs.get(3)); // NFTA_CHAIN_NAME
  if (table === undefined || name === undefined)
    throw new NftDecodeError('chain message without table or name');
  const hook = attrs.get(4); // NFTA_CHAIN_HOOK (nested; base chains only)
  const h = hook ? parseAttrs(hook).map : undefined;
  return withPresent(
    { family, table, name },
    {
      handle: u64be(attrs.get(2)), // NFTA_CHAIN_HANDLE
      hook: u32be(h?.get(1)), // NFTA_HOOK_HOOKNUM
      priority: s32be(h?.get(2)), // NFTA_HOOK_PRIORITY
      type: str(attrs.get(7)), // NFTA_CHAIN_TYPE
      policy: u32be(attrs.get(5)), // NFTA_CHAIN_POLICY
    },
  );
}

/** Decodes a rule and its expressions; throws NftDecodeError when any expression is malformed. */
export function decodeRule(msg: NlMsg): NftRule {
  const { family, attrs } = decodeHeader(msg, 'rule');
  const table = str(attrs.get(1)); // NFTA_RULE_TABLE
  const chain = str(attrs.get(2)); // NFTA_RULE_CHAIN
  if (table === undefined || chain === undefined)
    throw new NftDecodeError('rule message without table or chain');
  const r: NftRule = withPresent({ family, table, chain, exprs: [] }, { handle: u64be(attrs.get(3)) });
  const list = attrs.get(4); // NFTA_RULE_EXPRESSIONS: NFTA_LIST_ELEM*
  if (list) {
    for (const el of parseAttrList(list)) {
      if (el.type !== 1) continue; // NFTA_LIST_ELEM
      const e = parseAttrs(el.value);
      if (e.truncated) throw new NftDecodeError(`${where(r)}: truncated expression`);
      const name = str(e.map.get(1)); // NFTA_EXPR_NAME
      if (name === undefined) throw new NftDecodeError(`${where(r)}: expression without a name`);
      try {
        r.exprs.push(decodeExpr(name, e.map.get(2))); // NFTA_EXPR_DATA
      } catch (err) {
        if (err instanceof NftDecodeError) throw new NftDecodeError(`${where(r)}: ${err.message}`);
        throw err;
      }
    }
  }
  const compat = attrs.get(5); // NFTA_RULE_COMPAT: NFTA_RULE_COMPAT_PROTO, _FLAGS
  if (compat) {
    const proto = u32be(parseAttrs(compat).map.get(1));
    if (proto !== undefined) r.compatProto = proto;
  }
  return r;
}

function where(r: NftRule): string {
  return `rule ${r.handle ?? '?'} in ${familyName(r.family)} ${r.table} ${r.chain}`;
}
