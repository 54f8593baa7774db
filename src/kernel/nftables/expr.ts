/**
 * nf_tables expression decoders (include/uapi/linux/netfilter/nf_tables.h,
 * nf_tables_compat.h). Pure functions over the NFTA_EXPR_DATA bytes of one
 * expression. Only what a reader of NAT rules needs is decoded in full; every
 * other expression keeps its name (and, if it writes a register, the register)
 * so an evaluator can tell "harmless" from "unknown".
 *
 * Integer attributes of nf_tables are big-endian (nla_put_be32); register
 * contents (immediate/cmp data) are raw bytes in packet order.
 */
import { parseAttrs, str } from '../netlink.js';

/** Thrown by decoders for malformed expressions; the caller skips the rule. */
export class NftDecodeError extends Error {
  override name = 'NftDecodeError';
}

// Verdict codes (enum nft_verdicts and the NF_* verdicts of linux/netfilter.h).
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NFT_CONTINUE = -1;
export const NFT_BREAK = -2;
export const NFT_JUMP = -3;
export const NFT_GOTO = -4;
export const NFT_RETURN = -5;

// enum nft_cmp_ops
export const NFT_CMP_EQ = 0;
export const NFT_CMP_NEQ = 1;
export const NFT_CMP_LT = 2;
export const NFT_CMP_LTE = 3;
export const NFT_CMP_GT = 4;
export const NFT_CMP_GTE = 5;

// enum nft_payload_bases
export const NFT_PAYLOAD_LL_HEADER = 0;
export const NFT_PAYLOAD_NETWORK_HEADER = 1;
export const NFT_PAYLOAD_TRANSPORT_HEADER = 2;
export const NFT_PAYLOAD_INNER_HEADER = 3;

// enum nft_meta_keys (the ones an evaluator of NAT rules cares about)
export const NFT_META_PROTOCOL = 1;
export const NFT_META_IIFNAME = 6;
export const NFT_META_OIFNAME = 7;
export const NFT_META_NFPROTO = 15;
export const NFT_META_L4PROTO = 16;

// enum nft_nat_types
export const NFT_NAT_SNAT = 0;
export const NFT_NAT_DNAT = 1;

// enum nft_range_ops
export const NFT_RANGE_EQ = 0;
export const NFT_RANGE_NEQ = 1;

// enum nft_bitwise_ops
export const NFT_BITWISE_MASK_XOR = 0;

// enum nft_lookup_flags
export const NFT_LOOKUP_F_INV = 1;

// enum nft_fib_result / flags
export const NFT_FIB_RESULT_OIFNAME = 2;
export const NFT_FIB_RESULT_ADDRTYPE = 3;
export const NFTA_FIB_F_DADDR = 1 << 1;

export interface Verdict {
  code: number;
  chain?: string;
}

export type NftExpr =
  | { type: 'immediate'; dreg: number; value?: Buffer; verdict?: Verdict }
  | { type: 'cmp'; sreg: number; op: number; value: Buffer }
  | { type: 'range'; sreg: number; op: number; from: Buffer; to: Buffer }
  | { type: 'payload'; base: number; offset: number; len: number; dreg?: number; sreg?: number }
  | { type: 'meta'; key: number; dreg?: number; sreg?: number }
  | { type: 'bitwise'; sreg: number; dreg: number; len: number; op: number; mask?: Buffer; xor?: Buffer }
  | {
      type: 'nat';
      natType: number;
      family: number;
      regAddrMin?: number;
      regAddrMax?: number;
      regProtoMin?: number;
      regProtoMax?: number;
      flags: number;
    }
  /** `redirect [to :port]`: DNAT to the receiving interface's own address. */
  | { type: 'redir'; regProtoMin?: number; regProtoMax?: number; flags: number }
  | { type: 'lookup'; set: string; sreg: number; dreg?: number; flags: number }
  | { type: 'fib'; dreg: number; result: number; flags: number }
  | { type: 'match'; name: string; rev: number; info: Buffer }
  | { type: 'target'; name: string; rev: number; info: Buffer }
  /** Any other expression: its name, and the register it loads, if any. */
  | { type: 'other'; name: string; dreg?: number };

const be32 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readUInt32BE(0) : undefined;
const sbe32 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readInt32BE(0) : undefined;

function need<T>(v: T | undefined, what: string, expr: string): T {
  if (v === undefined) throw new NftDecodeError(`${expr} expression without ${what}`);
  return v;
}

/** nft_data: NFTA_DATA_VALUE (raw bytes) or NFTA_DATA_VERDICT (nested code + chain). */
export function decodeData(b: Buffer, expr: string): { value?: Buffer; verdict?: Verdict } {
  const a = parseAttrs(b);
  if (a.truncated) throw new NftDecodeError(`${expr}: truncated data attribute`);
  const value = a.map.get(1); // NFTA_DATA_VALUE
  if (value) return { value: Buffer.from(value) };
  const v = a.map.get(2); // NFTA_DATA_VERDICT
  if (v) {
    const va = parseAttrs(v);
    const code = need(sbe32(va.map.get(1)), 'verdict code', expr); // NFTA_VERDICT_CODE
    const chain = str(va.map.get(2)); // NFTA_VERDICT_CHAIN
    return { verdict: chain !== undefined ? { code, chain } : { code } };
  }
  throw new NftDecodeError(`${expr}: data attribute with neither value nor verdict`);
}

/** Expressions that load a register under this attribute number (their DREG), for 'other'. */
const DREG_OF: Record<string, number> = {
  ct: 1, // NFTA_CT_DREG
  rt: 1, // NFTA_RT_DREG
  exthdr: 1, // NFTA_EXTHDR_DREG
  socket: 2, // NFTA_SOCKET_DREG
  numgen: 1, // NFTA_NG_DREG
  hash: 2, // NFTA_HASH_DREG
  osf: 1, // NFTA_OSF_DREG
  xfrm: 1, // NFTA_XFRM_DREG
  tunnel: 2, // NFTA_TUNNEL_DREG
};

/** Decodes one expression from its name and NFTA_EXPR_DATA payload. */
export function decodeExpr(name: string, data: Buffer | undefined): NftExpr {
  const a = parseAttrs(data ?? Buffer.alloc(0));
  if (a.truncated) throw new NftDecodeError(`${name} expression: truncated attributes`);
  const m = a.map;
  switch (name) {
    case 'immediate': {
      const dreg = need(be32(m.get(1)), 'destination register', name);
      const d = decodeData(need(m.get(2), 'data', name), name);
      return { type: 'immediate', dreg, ...d };
    }
    case 'cmp': {
      const d = decodeData(need(m.get(3), 'data', name), name);
      return {
        type: 'cmp',
        sreg: need(be32(m.get(1)), 'source register', name),
        op: need(be32(m.get(2)), 'operator', name),
        value: need(d.value, 'value', name),
      };
    }
    case 'range': {
      const from = decodeData(need(m.get(3), 'from', name), name).value;
      const to = decodeData(need(m.get(4), 'to', name), name).value;
      return {
        type: 'range',
        sreg: need(be32(m.get(1)), 'source register', name),
        op: need(be32(m.get(2)), 'operator', name),
        from: need(from, 'from value', name),
        to: need(to, 'to value', name),
      };
    }
    case 'payload': {
      const e: NftExpr = {
        type: 'payload',
        base: need(be32(m.get(2)), 'base', name),
        offset: need(be32(m.get(3)), 'offset', name),
        len: need(be32(m.get(4)), 'length', name),
      };
      const dreg = be32(m.get(1));
      const sreg = be32(m.get(5));
      if (dreg !== undefined) e.dreg = dreg;
      if (sreg !== undefined) e.sreg = sreg;
      if (dreg === undefined && sreg === undefined)
        throw new NftDecodeError('payload expression without register');
      return e;
    }
    case 'meta': {
      const e: NftExpr = { type: 'meta', key: need(be32(m.get(2)), 'key', name) };
      const dreg = be32(m.get(1));
      const sreg = be32(m.get(3));
      if (dreg !== undefined) e.dreg = dreg;
      if (sreg !== undefined) e.sreg = sreg;
      return e;
    }
    case 'bitwise': {
      const e: NftExpr = {
        type: 'bitwise',
        sreg: need(be32(m.get(1)), 'source register', name),
        dreg: need(be32(m.get(2)), 'destination register', name),
        len: need(be32(m.get(3)), 'length', name),
        op: be32(m.get(6)) ?? NFT_BITWISE_MASK_XOR,
      };
      const mask = m.get(4);
      const xor = m.get(5);
      if (mask) {
        const v = decodeData(mask, name).value;
        if (v) e.mask = v;
      }
      if (xor) {
        const v = decodeData(xor, name).value;
        if (v) e.xor = v;
      }
      return e;
    }
    case 'nat': {
      const e: NftExpr = {
        type: 'nat',
        natType: need(be32(m.get(1)), 'type', name),
        family: need(be32(m.get(2)), 'family', name),
        flags: be32(m.get(7)) ?? 0,
      };
      const r = (k: number) => be32(m.get(k));
      const amin = r(3);
      const amax = r(4);
      const pmin = r(5);
      const pmax = r(6);
      if (amin !== undefined) e.regAddrMin = amin;
      if (amax !== undefined) e.regAddrMax = amax;
      if (pmin !== undefined) e.regProtoMin = pmin;
      if (pmax !== undefined) e.regProtoMax = pmax;
      return e;
    }
    case 'redir': {
      // NFTA_REDIR_REG_PROTO_MIN = 1, _MAX = 2, NFTA_REDIR_FLAGS = 3
      const e: NftExpr = { type: 'redir', flags: be32(m.get(3)) ?? 0 };
      const pmin = be32(m.get(1));
      const pmax = be32(m.get(2));
      if (pmin !== undefined) e.regProtoMin = pmin;
      if (pmax !== undefined) e.regProtoMax = pmax;
      return e;
    }
    case 'lookup': {
      const e: NftExpr = {
        type: 'lookup',
        set: need(str(m.get(1)), 'set name', name),
        sreg: need(be32(m.get(2)), 'source register', name),
        flags: be32(m.get(5)) ?? 0,
      };
      const dreg = be32(m.get(3));
      if (dreg !== undefined) e.dreg = dreg;
      return e;
    }
    case 'fib':
      return {
        type: 'fib',
        dreg: need(be32(m.get(1)), 'destination register', name),
        result: need(be32(m.get(2)), 'result', name),
        flags: be32(m.get(3)) ?? 0,
      };
    case 'match':
    case 'target':
      // NFTA_MATCH_NAME/REV/INFO share numbers with NFTA_TARGET_*: the xtables
      // extension's name, revision and its private struct, verbatim.
      return {
        type: name,
        name: need(str(m.get(1)), 'extension name', name),
        rev: need(be32(m.get(2)), 'revision', name),
        info: Buffer.from(m.get(3) ?? Buffer.alloc(0)),
      };
    default: {
      const at = DREG_OF[name];
      const dreg = at ? be32(m.get(at)) : undefined;
      return dreg !== undefined ? { type: 'other', name, dreg } : { type: 'other', name };
    }
  }
}
