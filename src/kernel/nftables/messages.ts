/**
 * Decoders for nf_tables table, chain and rule messages (NFT_MSG_NEWTABLE,
 * NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE as sent in reply to GET dumps).
 * Pure functions over one message payload (nfgenmsg + attributes).
 */
import { type NlMsg, parseAttrList, parseAttrs, str } from '../netlink.js';
import { decodeExpr, NftDecodeError, type NftExpr } from './expr.js';
import { familyName, parseNfgenmsg } from './nfnetlink.js';

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

const be32 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readUInt32BE(0) : undefined;
const sbe32 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readInt32BE(0) : undefined;
const be64 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 8 ? Number(b.readBigUInt64BE(0)) : undefined;

function header(msg: NlMsg, what: string): { family: number; attrs: Map<number, Buffer> } {
  const g = parseNfgenmsg(msg.data);
  if (!g) throw new NftDecodeError(`${what} message shorter than its nfgenmsg header`);
  const a = parseAttrs(msg.data, 4);
  if (a.truncated) throw new NftDecodeError(`${what} message with truncated attributes`);
  return { family: g.family, attrs: a.map };
}

export function decodeTable(msg: NlMsg): NftTable {
  const { family, attrs } = header(msg, 'table');
  const name = str(attrs.get(1)); // NFTA_TABLE_NAME
  if (name === undefined) throw new NftDecodeError('table message without a name');
  const t: NftTable = { family, name, flags: be32(attrs.get(2)) ?? 0 };
  const handle = be64(attrs.get(4));
  if (handle !== undefined) t.handle = handle;
  return t;
}

export function decodeChain(msg: NlMsg): NftChain {
  const { family, attrs } = header(msg, 'chain');
  const table = str(attrs.get(1)); // NFTA_CHAIN_TABLE
  const name = str(attrs.get(3)); // NFTA_CHAIN_NAME
  if (table === undefined || name === undefined)
    throw new NftDecodeError('chain message without table or name');
  const c: NftChain = { family, table, name };
  const handle = be64(attrs.get(2));
  if (handle !== undefined) c.handle = handle;
  const hook = attrs.get(4); // NFTA_CHAIN_HOOK (nested)
  if (hook) {
    const h = parseAttrs(hook).map;
    const num = be32(h.get(1)); // NFTA_HOOK_HOOKNUM
    const prio = sbe32(h.get(2)); // NFTA_HOOK_PRIORITY
    if (num !== undefined) c.hook = num;
    if (prio !== undefined) c.priority = prio;
  }
  const type = str(attrs.get(7)); // NFTA_CHAIN_TYPE
  if (type !== undefined) c.type = type;
  const policy = be32(attrs.get(5));
  if (policy !== undefined) c.policy = policy;
  return c;
}

/** Decodes a rule and its expressions; throws NftDecodeError when any expression is malformed. */
export function decodeRule(msg: NlMsg): NftRule {
  const { family, attrs } = header(msg, 'rule');
  const table = str(attrs.get(1)); // NFTA_RULE_TABLE
  const chain = str(attrs.get(2)); // NFTA_RULE_CHAIN
  if (table === undefined || chain === undefined)
    throw new NftDecodeError('rule message without table or chain');
  const r: NftRule = { family, table, chain, exprs: [] };
  const handle = be64(attrs.get(3));
  if (handle !== undefined) r.handle = handle;
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
    const proto = be32(parseAttrs(compat).map.get(1));
    if (proto !== undefined) r.compatProto = proto;
  }
  return r;
}

function where(r: NftRule): string {
  return `rule ${r.handle ?? '?'} in ${familyName(r.family)} ${r.table} ${r.chain}`;
}
