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
import { parseAttrs, str, u32be } from '../netlink.js';
import { s32be, withPresent } from './nfnetlink.js';

/**
 * Thrown by decoders for malformed expressions; the caller skips the rule and keeps the
 * message as one line of `NftRuleset.errors`. Messages quote table, chain, set and expression
 * names from the message, which whoever owns the namespace chose: control characters (C0,
 * DEL, C1) in them are escaped as \xHH so an error stays one line of plain text.
 */
export class NftDecodeError extends Error {
  override name = 'NftDecodeError';
  constructor(message: string) {
    super(message.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

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
    const code = need(s32be(va.map.get(1)), 'verdict code', expr); // NFTA_VERDICT_CODE
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

/**
 * Decodes one expression from its name and NFTA_EXPR_DATA payload. Attribute
 * numbers are the NFTA_<EXPR>_* enums of nf_tables.h; required ones throw
 * when absent, optional ones (registers an expression may or may not use)
 * leave their field out.
 */
export function decodeExpr(name: string, data: Buffer | undefined): NftExpr {
  const a = parseAttrs(data ?? Buffer.alloc(0));
  if (a.truncated) throw new NftDecodeError(`${name} expression: truncated attributes`);
  const m = a.map;
  const opt = (attr: number) => u32be(m.get(attr));
  const req = (attr: number, what: string) => need(opt(attr), what, name);
  const nftData = (attr: number, what: string) => decodeData(need(m.get(attr), what, name), name);
  switch (name) {
    case 'immediate': {
      // DREG 1, DATA 2
      const dreg = req(1, 'destination register');
      return { type: 'immediate', dreg, ...nftData(2, 'data') };
    }
    case 'cmp': {
      // SREG 1, OP 2, DATA 3
      const d = nftData(3, 'data');
      return {
        type: 'cmp',
        sreg: req(1, 'source register'),
        op: req(2, 'operator'),
        value: need(d.value, 'value', name),
      };
    }
    case 'range': {
      // SREG 1, OP 2, FROM_DATA 3, TO_DATA 4
      const from = nftData(3, 'from').value;
      const to = nftData(4, 'to').value;
      return {
        type: 'range',
        sreg: req(1, 'source register'),
        op: req(2, 'operator'),
        from: need(from, 'from value', name),
        to: need(to, 'to value', name),
      };
    }
    case 'payload': {
      // DREG 1 (a load) or SREG 5 (a write: `payload set`), BASE 2, OFFSET 3, LEN 4
      const e: Extract<NftExpr, { type: 'payload' }> = withPresent(
        { type: 'payload', base: req(2, 'base'), offset: req(3, 'offset'), len: req(4, 'length') },
        { dreg: opt(1), sreg: opt(5) },
      );
      if (e.dreg === undefined && e.sreg === undefined)
        throw new NftDecodeError('payload expression without register');
      return e;
    }
    case 'meta':
      // DREG 1 (a load) or SREG 3 (`meta mark set`), KEY 2
      return withPresent({ type: 'meta', key: req(2, 'key') }, { dreg: opt(1), sreg: opt(3) });
    case 'bitwise': {
      // SREG 1, DREG 2, LEN 3, MASK 4, XOR 5 (nft_data), OP 6 (absent before Linux 5.6: mask/xor)
      const e: Extract<NftExpr, { type: 'bitwise' }> = {
        type: 'bitwise',
        sreg: req(1, 'source register'),
        dreg: req(2, 'destination register'),
        len: req(3, 'length'),
        op: opt(6) ?? NFT_BITWISE_MASK_XOR,
      };
      const optValue = (attr: number) => {
        const b = m.get(attr);
        return b ? decodeData(b, name).value : undefined;
      };
      return withPresent(e, { mask: optValue(4), xor: optValue(5) });
    }
    case 'nat':
      // TYPE 1, FAMILY 2, REG_ADDR_MIN 3, _MAX 4, REG_PROTO_MIN 5, _MAX 6, FLAGS 7
      return withPresent(
        { type: 'nat', natType: req(1, 'type'), family: req(2, 'family'), flags: opt(7) ?? 0 },
        { regAddrMin: opt(3), regAddrMax: opt(4), regProtoMin: opt(5), regProtoMax: opt(6) },
      );
    case 'redir':
      // REG_PROTO_MIN 1, _MAX 2, FLAGS 3
      return withPresent({ type: 'redir', flags: opt(3) ?? 0 }, { regProtoMin: opt(1), regProtoMax: opt(2) });
    case 'lookup':
      // SET 1, SREG 2, DREG 3 (maps only), FLAGS 5
      return withPresent(
        {
          type: 'lookup',
          set: need(str(m.get(1)), 'set name', name),
          sreg: req(2, 'source register'),
          flags: opt(5) ?? 0,
        },
        { dreg: opt(3) },
      );
    case 'fib':
      // DREG 1, RESULT 2, FLAGS 3
      return {
        type: 'fib',
        dreg: req(1, 'destination register'),
        result: req(2, 'result'),
        flags: opt(3) ?? 0,
      };
    case 'match':
    case 'target':
      // NFTA_MATCH_NAME/REV/INFO share numbers with NFTA_TARGET_*: the xtables
      // extension's name, revision and its private struct, verbatim.
      return {
        type: name,
        name: need(str(m.get(1)), 'extension name', name),
        rev: req(2, 'revision'),
        info: Buffer.from(m.get(3) ?? Buffer.alloc(0)),
      };
    default: {
      const at = DREG_OF[name];
      return withPresent({ type: 'other', name }, { dreg: at ? opt(at) : undefined });
    }
  }
}
