/**
 * nftables rules → NatRules. Pure: a small symbolic evaluation of each rule's
 * expressions over the nf_tables registers (what each register holds: a meta
 * key, a slice of a header, a constant), so `cmp` expressions become packet
 * requirements and `nat`/DNAT-target expressions become actions.
 *
 * Covers native nft syntax (`tcp dport 8080 dnat to 10.1.1.2:80`, ranges,
 * prefixes, inet tables with `meta nfproto`) and iptables-nft's compatibility
 * expressions (xt `tcp`/`udp`/`addrtype`/`multiport` matches, `DNAT` target rev
 * 0/1/2), which is what Docker and kube-proxy produce through iptables-nft.
 * A rule whose meaning we cannot establish (unknown expression, set or map
 * lookup on what decides the forward) is skipped with a note when it could
 * forward — never guessed.
 */
import {
  NFT_CMP_EQ,
  NFT_CMP_GT,
  NFT_CMP_GTE,
  NFT_CMP_LT,
  NFT_CMP_LTE,
  NFT_FIB_RESULT_ADDRTYPE,
  NFT_GOTO,
  NFT_JUMP,
  NFT_META_L4PROTO,
  NFT_META_NFPROTO,
  NFT_META_PROTOCOL,
  NFT_NAT_DNAT,
  NFT_PAYLOAD_NETWORK_HEADER,
  NFT_PAYLOAD_TRANSPORT_HEADER,
  NFT_RANGE_EQ,
  NFTA_FIB_F_DADDR,
  NftDecodeError,
  type NftExpr,
} from '../../kernel/nftables/expr.js';
import { NF_INET_LOCAL_OUT, NF_INET_PRE_ROUTING, type NftRule } from '../../kernel/nftables/messages.js';
import { familyName, NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6 } from '../../kernel/nftables/nfnetlink.js';
import type { NftRuleset } from '../../kernel/nftables/ruleset.js';
import { decodeXtNat } from '../../kernel/nftables/xt.js';
import {
  type Action,
  type Family,
  type Match,
  mergeMatch,
  type NatChain,
  type NatRule,
  type NatTable,
} from './natgraph.js';
import { xtMatch } from './xtmatch.js';

/** Table families that can NAT. */
export const NAT_FAMILIES: ReadonlySet<number> = new Set([NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET]);

/** Statement-like expressions that neither narrow which packets a rule takes nor forward them. */
const HARMLESS = new Set([
  'counter',
  'log',
  'limit',
  'quota',
  'ct',
  'notrack',
  'masq',
  'redir',
  'reject',
  'dynset',
  'objref',
  'connlimit',
  'last',
  'queue',
  'dup',
  'fwd',
  'synproxy',
  'tproxy',
  'flow_offload',
  'exthdr',
  'rt',
  'socket',
  'numgen',
  'hash',
  'osf',
  'xfrm',
  'tunnel',
  'byteorder',
  'secmark',
]);

type Sym =
  | { k: 'meta'; key: number }
  | { k: 'payload'; base: number; offset: number; len: number; mask?: Buffer }
  | { k: 'const'; value: Buffer }
  | { k: 'fib'; result: number; flags: number }
  | { k: 'unknown' };

/** NFT_REG_1..4 are 16-byte registers aliasing NFT_REG32_00..15 in groups of four (nf_tables_api.c nft_parse_register). */
function reg32(r: number): number {
  return r <= 4 ? (r - 1) * 4 : r - 8;
}

function familyOf(nfproto: number): Family | undefined {
  return nfproto === NFPROTO_IPV4 ? 'inet' : nfproto === NFPROTO_IPV6 ? 'inet6' : undefined;
}

/** Prefix length of a contiguous netmask, or undefined when it is not one. */
function maskLen(mask: Buffer): number | undefined {
  let n = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && ended) return undefined;
      if (set) n++;
      else ended = true;
    }
  }
  return n;
}

export interface RuleResult {
  /** One NatRule, or several when a match lists several ports (multiport). */
  rules: NatRule[];
  /** Why the rule was skipped, when it could have forwarded ports. */
  skipped?: string;
}

/** Translates one nf_tables rule (its table's family sets the address family of ip/ip6 tables). Pure. */
export function translateRule(rule: NftRule): RuleResult {
  const regs = new Map<number, Sym>();
  const match: Match = {};
  const fam = familyOf(rule.family);
  if (fam) match.family = fam;
  let action: Action = { kind: 'none' };
  let uncertain: string | undefined;
  let vmap = false;
  const extraPorts: { min: number; max: number }[][] = [];
  let impossible = false;

  const set = (r: number, s: Sym) => regs.set(reg32(r), s);
  const get = (r: number): Sym => regs.get(reg32(r)) ?? { k: 'unknown' };
  const narrow = (m: Match) => {
    const merged = mergeMatch(match, m);
    if (!merged) impossible = true;
    else Object.assign(match, merged);
  };
  const ipFamily = (): Family | undefined => match.family;

  for (const e of rule.exprs) {
    switch (e.type) {
      case 'meta':
        if (e.dreg !== undefined) set(e.dreg, { k: 'meta', key: e.key });
        break;
      case 'payload':
        if (e.dreg !== undefined) set(e.dreg, { k: 'payload', base: e.base, offset: e.offset, len: e.len });
        break;
      case 'bitwise': {
        const src = get(e.sreg);
        const xorZero = !e.xor || e.xor.every((x) => x === 0);
        if (src.k === 'payload' && e.op === 0 && e.mask && xorZero) set(e.dreg, { ...src, mask: e.mask });
        else set(e.dreg, { k: 'unknown' });
        break;
      }
      case 'immediate':
        if (e.dreg === 0 && e.verdict) {
          if ((e.verdict.code === NFT_JUMP || e.verdict.code === NFT_GOTO) && e.verdict.chain)
            action = { kind: e.verdict.code === NFT_JUMP ? 'jump' : 'goto', chain: e.verdict.chain };
        } else if (e.value) set(e.dreg, { k: 'const', value: e.value });
        break;
      case 'fib':
        set(e.dreg, { k: 'fib', result: e.result, flags: e.flags });
        break;
      case 'cmp':
        cmp(get(e.sreg), e.op, e.value);
        break;
      case 'range': {
        const s = get(e.sreg);
        if (e.op === NFT_RANGE_EQ && isDport(s) && e.from.length >= 2 && e.to.length >= 2)
          narrow({ dport: { min: e.from.readUInt16BE(0), max: e.to.readUInt16BE(0) } });
        break;
      }
      case 'lookup': {
        const s = get(e.sreg);
        if (e.dreg === 0) {
          vmap = true;
          uncertain ??= `verdict map @${e.set} is not read`;
        } else if (e.dreg !== undefined) {
          set(e.dreg, { k: 'unknown' });
          uncertain ??= `map @${e.set} is not read`;
        } else if (e.flags & 1) {
          // NFT_LOOKUP_F_INV: "not in set" narrows nothing we report.
        } else if (isDport(s) || isDaddr(s) || s.k === 'unknown' || isL4proto(s)) {
          uncertain ??= `set @${e.set} is not read`;
        }
        break;
      }
      case 'nat':
        if (e.natType === NFT_NAT_DNAT) action = natAction(e);
        break;
      case 'match':
        applyXt(e.name, e.rev, e.info);
        break;
      case 'target':
        if (e.name === 'DNAT') {
          try {
            const r = decodeXtNat(e.info, e.rev, rule.family === NFPROTO_IPV6);
            const a: Action = { kind: 'dnat', family: r.family };
            if (r.minAddress) a.address = r.minAddress;
            if (r.minPort !== undefined) {
              a.port = r.minPort;
              if (r.maxPort !== undefined && r.maxPort > r.minPort) a.portEnd = r.maxPort;
            }
            action = a;
          } catch (err) {
            if (err instanceof NftDecodeError) uncertain ??= err.message;
            else throw err;
          }
        }
        break;
      case 'other':
        if (e.dreg !== undefined) set(e.dreg, { k: 'unknown' });
        if (!HARMLESS.has(e.name)) uncertain ??= `unknown expression "${e.name}"`;
        break;
    }
  }

  if (impossible) return { rules: [] };
  const relevant = action.kind !== 'none' || vmap;
  if (uncertain) return relevant ? { rules: [], skipped: uncertain } : { rules: [] };
  if (extraPorts.length === 0) return { rules: [{ match, action }] };
  // multiport: one NatRule per listed destination port (range).
  const out: NatRule[] = [];
  for (const p of extraPorts[0] ?? []) {
    const m = mergeMatch(match, { dport: p });
    if (m) out.push({ match: m, action });
  }
  return { rules: out };

  function cmp(s: Sym, op: number, v: Buffer): void {
    if (isL4proto(s)) {
      if (op === NFT_CMP_EQ && v.length >= 1) narrow({ protocol: v.readUInt8(0) });
    } else if (s.k === 'meta' && s.key === NFT_META_NFPROTO) {
      const f = v.length >= 1 ? familyOf(v.readUInt8(0)) : undefined;
      if (op === NFT_CMP_EQ && f) narrow({ family: f });
    } else if (s.k === 'meta' && s.key === NFT_META_PROTOCOL) {
      // Ethertype, network order: 0x0800 IPv4, 0x86dd IPv6.
      const t = v.length >= 2 ? v.readUInt16BE(0) : 0;
      if (op === NFT_CMP_EQ && (t === 0x0800 || t === 0x86dd))
        narrow({ family: t === 0x0800 ? 'inet' : 'inet6' });
    } else if (isDaddr(s) && s.k === 'payload') {
      if (op !== NFT_CMP_EQ) return;
      const full = ipFamily() === 'inet' ? 4 : 16;
      const addr = Buffer.alloc(full);
      const masked = s.mask ? Buffer.from(v.map((x, i) => x & (s.mask?.[i] ?? 0))) : v;
      masked.copy(addr, 0, 0, Math.min(full, s.len));
      const prefixlen = s.mask ? maskLen(s.mask.subarray(0, s.len)) : s.len * 8;
      if (prefixlen === undefined) uncertain ??= 'destination address compared under a non-prefix mask';
      else narrow({ daddr: { address: addr, prefixlen } });
    } else if (isDport(s)) {
      if (v.length < 2) return;
      const p = v.readUInt16BE(0);
      if (op === NFT_CMP_EQ) narrow({ dport: { min: p, max: p } });
      else if (op === NFT_CMP_GTE) narrow({ dport: { min: p, max: 65535 } });
      else if (op === NFT_CMP_GT) narrow({ dport: { min: p + 1, max: 65535 } });
      else if (op === NFT_CMP_LTE) narrow({ dport: { min: 0, max: p } });
      else if (op === NFT_CMP_LT) narrow({ dport: { min: 0, max: p - 1 } });
    } else if (s.k === 'fib' && s.result === NFT_FIB_RESULT_ADDRTYPE && s.flags & NFTA_FIB_F_DADDR) {
      // `fib daddr type local`: the value is the RTN_* type in host order (RTN_LOCAL = 2).
      if (op === NFT_CMP_EQ && v.length >= 4 && v.readUInt32LE(0) === 2) narrow({ localDest: true });
    }
    // Anything else (interface names, marks, ct state...) does not change which port is forwarded.
  }

  function applyXt(name: string, rev: number, info: Buffer): void {
    const r = xtMatch(name, rev, info);
    if (r.uncertain) uncertain ??= r.uncertain;
    if (r.match) narrow(r.match);
    if (r.ports) extraPorts.push(r.ports);
  }

  function natAction(e: Extract<NftExpr, { type: 'nat' }>): Action {
    const a: Action = { kind: 'dnat' };
    const f = familyOf(e.family);
    if (f) a.family = f;
    if (e.regAddrMin !== undefined) {
      const s = get(e.regAddrMin);
      if (s.k !== 'const') {
        uncertain ??= 'DNAT address comes from a register we cannot follow';
        return a;
      }
      a.address = Buffer.from(s.value.subarray(0, f === 'inet6' ? 16 : 4));
    }
    if (e.regProtoMin !== undefined) {
      const s = get(e.regProtoMin);
      if (s.k !== 'const' || s.value.length < 2) {
        uncertain ??= 'DNAT port comes from a register we cannot follow';
        return a;
      }
      a.port = s.value.readUInt16BE(0);
      if (e.regProtoMax !== undefined) {
        const mx = get(e.regProtoMax);
        if (mx.k === 'const' && mx.value.length >= 2 && mx.value.readUInt16BE(0) > a.port)
          a.portEnd = mx.value.readUInt16BE(0);
      }
    }
    return a;
  }

  function isL4proto(s: Sym): boolean {
    if (s.k === 'meta') return s.key === NFT_META_L4PROTO;
    // ip protocol (IPv4 header byte 9) / ip6 nexthdr (byte 6)
    if (s.k !== 'payload' || s.base !== NFT_PAYLOAD_NETWORK_HEADER || s.len !== 1 || s.mask) return false;
    return (ipFamily() === 'inet' && s.offset === 9) || (ipFamily() === 'inet6' && s.offset === 6);
  }
  function isDaddr(s: Sym): boolean {
    if (s.k !== 'payload' || s.base !== NFT_PAYLOAD_NETWORK_HEADER) return false;
    // IPv4 daddr at 16 (4 bytes), IPv6 daddr at 24 (16 bytes); shorter loads compare a prefix.
    if (ipFamily() === 'inet') return s.offset === 16 && s.len <= 4;
    if (ipFamily() === 'inet6') return s.offset === 24 && s.len <= 16;
    return false;
  }
  function isDport(s: Sym): boolean {
    // TCP/UDP/SCTP destination port: transport header offset 2, two bytes.
    return (
      s.k === 'payload' && s.base === NFT_PAYLOAD_TRANSPORT_HEADER && s.offset === 2 && s.len === 2 && !s.mask
    );
  }
}

/** Builds NatTables from a ruleset (NAT families only). Pure. */
export function natTablesOf(rs: NftRuleset): NatTable[] {
  const tables = new Map<string, NatTable>();
  const key = (family: number, table: string) => `${family}/${table}`;
  for (const t of rs.tables) {
    if (!NAT_FAMILIES.has(t.family)) continue;
    const table: NatTable = { label: `${familyName(t.family)} ${t.name}`, chains: new Map() };
    const f = familyOf(t.family);
    if (f) table.family = f;
    tables.set(key(t.family, t.name), table);
  }
  for (const c of rs.chains) {
    const table = tables.get(key(c.family, c.table));
    if (!table) continue;
    const entry = c.type === 'nat' && (c.hook === NF_INET_PRE_ROUTING || c.hook === NF_INET_LOCAL_OUT);
    table.chains.set(c.name, { name: c.name, entry, rules: [], skipped: [] });
  }
  for (const r of rs.rules) {
    const table = tables.get(key(r.family, r.table));
    const chain: NatChain | undefined = table?.chains.get(r.chain);
    if (!table || !chain) continue;
    const res = translateRule(r);
    if (res.skipped) chain.skipped.push(`rule ${r.handle ?? '?'} skipped: ${res.skipped}`);
    chain.rules.push(...res.rules);
  }
  return [...tables.values()].filter((t) => t.chains.size > 0);
}
