/**
 * nftables rules → NatRules. Pure: a small symbolic evaluation of each rule's
 * expressions over the nf_tables registers (what each register holds: a meta
 * key, a slice of a header, a constant), so `cmp` expressions become packet
 * requirements and `nat`/DNAT-target expressions become actions.
 *
 * Covers native nft syntax (`tcp dport 8080 dnat to 10.1.1.2:80`, ranges,
 * prefixes, inet tables with `meta nfproto`) and iptables-nft's compatibility
 * expressions (xt `tcp`/`udp`/`addrtype`/`multiport` matches, `DNAT` target rev
 * 0/1/2), which is what Docker and kube-proxy produce through iptables-nft,
 * and set/map/verdict-map lookups (anonymous sets, interval sets, `dnat to
 * tcp dport map {...}`, kube-proxy's nftables mode with its service verdict
 * map and numgen endpoint maps), one evaluation branch per element.
 * A rule whose meaning we cannot establish (unknown expression, a lookup in a
 * set that was not read) is skipped with a note when it could forward —
 * never guessed.
 */
import {
  NFT_CMP_EQ,
  NFT_CMP_GT,
  NFT_CMP_GTE,
  NFT_CMP_LT,
  NFT_CMP_LTE,
  NFT_FIB_RESULT_ADDRTYPE,
  NFT_FIB_RESULT_OIFNAME,
  NFT_GOTO,
  NFT_JUMP,
  NFT_LOOKUP_F_INV,
  NFT_META_IIFNAME,
  NFT_META_L4PROTO,
  NFT_META_NFPROTO,
  NFT_META_OIFNAME,
  NFT_META_PROTOCOL,
  NFT_NAT_DNAT,
  NFT_PAYLOAD_NETWORK_HEADER,
  NFT_PAYLOAD_TRANSPORT_HEADER,
  NFT_RANGE_EQ,
  NFTA_FIB_F_DADDR,
  type NftExpr,
  type Verdict,
} from '../../kernel/nftables/expr.js';
import { NF_INET_LOCAL_OUT, NF_INET_PRE_ROUTING, type NftRule } from '../../kernel/nftables/messages.js';
import { familyName, NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6 } from '../../kernel/nftables/nfnetlink.js';
import { type NftRuleset, type NftSetContents, setKey } from '../../kernel/nftables/ruleset.js';
import { elementRanges } from '../../kernel/nftables/sets.js';
import {
  type Action,
  type Family,
  type Match,
  maskPrefixLen,
  mergeMatch,
  type NatChain,
  type NatRule,
  type NatTable,
  type PortRange,
} from './natgraph.js';
import { perListedPort, xtMatch } from './xtmatch.js';
import { xtNatTarget } from './xttarget.js';

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
/** NFT_DATA_VALUE_MAXLEN (nf_tables.h): the longest register value, and so the longest set key. */
const NFT_DATA_VALUE_MAXLEN = 64;

function reg32(r: number): number {
  return r <= 4 ? (r - 1) * 4 : r - 8;
}

function familyOf(nfproto: number): Family | undefined {
  return nfproto === NFPROTO_IPV4 ? 'inet' : nfproto === NFPROTO_IPV6 ? 'inet6' : undefined;
}

export interface RuleResult {
  /** NatRules the rule stands for: several when a match lists ports (multiport) or a set is looked up. */
  rules: NatRule[];
  /** Why (part of) the rule was skipped, when it could have forwarded ports. */
  skipped?: string;
}

/** Resolves a set name of the rule's table to its contents, when they were read. */
export type SetLookup = (name: string) => NftSetContents | undefined;

/** Upper bound of evaluation branches per rule (one per set element looked up). */
const MAX_BRANCHES = 1 << 16;

interface State {
  regs: Map<number, Sym>;
  match: Match;
  action: Action;
  uncertain?: string;
  /** A verdict map that was not read decides where packets go. */
  vmap: boolean;
  impossible: boolean;
  ports: PortRange[][];
}

const clone = (st: State): State => ({
  ...st,
  regs: new Map(st.regs),
  match: { ...st.match },
  ports: [...st.ports],
});

const align4 = (n: number) => (n + 3) & ~3;

/** Bytes a register load of this kind occupies (concatenated set keys are laid out by it). */
function symLen(s: Sym): number {
  switch (s.k) {
    case 'payload':
      return s.len;
    case 'const':
      return s.value.length;
    case 'meta':
      if (s.key === NFT_META_L4PROTO || s.key === NFT_META_NFPROTO) return 1;
      if (s.key === NFT_META_PROTOCOL) return 2;
      return s.key === NFT_META_IIFNAME || s.key === NFT_META_OIFNAME ? 16 : 4;
    case 'fib':
      return s.result === NFT_FIB_RESULT_OIFNAME ? 16 : 4;
    default:
      return 4;
  }
}

/**
 * Translates one nf_tables rule (its table's family sets the address family of
 * ip/ip6 tables). A lookup in a set whose elements were read forks the
 * evaluation: one branch per element, with the element's key as a requirement
 * and its data (map) or verdict (verdict map) as what the rule does. Pure.
 */
export function translateRule(rule: NftRule, sets?: SetLookup): RuleResult {
  const out: NatRule[] = [];
  let skipped: string | undefined;
  let budget = MAX_BRANCHES;
  const start: State = {
    regs: new Map(),
    match: {},
    action: { kind: 'none' },
    vmap: false,
    impossible: false,
    ports: [],
  };
  const fam = familyOf(rule.family);
  if (fam) start.match.family = fam;
  run(0, start);
  return skipped !== undefined ? { rules: out, skipped } : { rules: out };

  function finish(st: State): void {
    if (st.impossible) return;
    const relevant = st.action.kind !== 'none' || st.vmap;
    if (st.uncertain) {
      if (relevant) skipped ??= st.uncertain;
      return;
    }
    out.push(...perListedPort(st.match, st.action, st.ports));
  }

  function run(from: number, st: State): void {
    const set = (r: number, sym: Sym) => st.regs.set(reg32(r), sym);
    const get = (r: number): Sym => st.regs.get(reg32(r)) ?? { k: 'unknown' };
    for (let i = from; i < rule.exprs.length; i++) {
      const e = rule.exprs[i] as NftExpr;
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
          if (e.dreg === 0 && e.verdict) st.action = verdictAction(e.verdict);
          else if (e.value) setConst(st, e.dreg, e.value);
          break;
        case 'fib':
          set(e.dreg, { k: 'fib', result: e.result, flags: e.flags });
          break;
        case 'cmp':
          cmp(st, get(e.sreg), e.op, e.value);
          break;
        case 'range':
          if (e.op === NFT_RANGE_EQ) rangeCond(st, get(e.sreg), e.from, e.to);
          break;
        case 'lookup': {
          const contents = sets?.(e.set);
          const s = get(e.sreg);
          if (e.flags & NFT_LOOKUP_F_INV) {
            // "not in set" narrows nothing we report.
          } else if (!contents) {
            if (e.dreg === 0) {
              st.vmap = true;
              st.uncertain ??= `verdict map @${e.set} is not read`;
            } else if (e.dreg !== undefined) {
              set(e.dreg, { k: 'unknown' });
              st.uncertain ??= `map @${e.set} is not read`;
            } else if (isDport(st, s) || isDaddr(st, s) || isL4proto(st, s) || s.k === 'unknown') {
              st.uncertain ??= `set @${e.set} is not read`;
            }
          } else {
            const comps = components(st, e.sreg, contents.keyLen);
            if (!comps) {
              st.uncertain ??= `key layout of set @${e.set} not understood`;
              if (e.dreg === 0) st.vmap = true;
              break;
            }
            for (const r of elementRanges(contents, contents.elems)) {
              if (--budget < 0) {
                skipped ??= `more than ${MAX_BRANCHES} set elements`;
                return;
              }
              const b = clone(st);
              if (r.from && r.to)
                for (const c of comps)
                  rangeCond(
                    b,
                    c.sym,
                    r.from.subarray(c.off, c.off + c.len),
                    r.to.subarray(c.off, c.off + c.len),
                  );
              if (e.dreg === 0) b.action = r.elem.verdict ? verdictAction(r.elem.verdict) : { kind: 'none' };
              else if (e.dreg !== undefined) {
                if (r.elem.value) setConst(b, e.dreg, r.elem.value);
                else b.regs.set(reg32(e.dreg), { k: 'unknown' });
              }
              run(i + 1, b);
            }
            return; // every branch ran the rest of the rule
          }
          break;
        }
        case 'nat':
          if (e.natType === NFT_NAT_DNAT) st.action = natAction(st, e);
          break;
        case 'redir':
          st.action = redirAction(st, e.regProtoMin, e.regProtoMax);
          break;
        case 'match': {
          const r = xtMatch(e.name, e.rev, e.info);
          if (r.uncertain) st.uncertain ??= r.uncertain;
          if (r.match) narrow(st, r.match);
          if (r.ports) st.ports.push(r.ports);
          break;
        }
        case 'target': {
          const t = xtNatTarget(e.name, e.rev, e.info, rule.family === NFPROTO_IPV6);
          if (t) st.action = t.action;
          if (t?.uncertain) st.uncertain ??= t.uncertain;
          break;
        }
        case 'other':
          if (e.dreg !== undefined) set(e.dreg, { k: 'unknown' });
          if (!HARMLESS.has(e.name)) st.uncertain ??= `unknown expression "${e.name}"`;
          break;
      }
    }
    finish(st);
  }
}

/**
 * Loads a constant: a value longer than four bytes fills consecutive 32-bit
 * registers, so a map value like `address . port` is readable from the
 * register that holds each part.
 */
function setConst(st: State, reg: number, value: Buffer): void {
  const idx = reg32(reg);
  for (let k = 0; k * 4 < value.length; k++)
    st.regs.set(idx + k, { k: 'const', value: value.subarray(k * 4) });
}

function verdictAction(v: Verdict): Action {
  if ((v.code === NFT_JUMP || v.code === NFT_GOTO) && v.chain)
    return { kind: v.code === NFT_JUMP ? 'jump' : 'goto', chain: v.chain };
  return { kind: 'none' };
}

function narrow(st: State, m: Match): void {
  const merged = mergeMatch(st.match, m);
  if (!merged) st.impossible = true;
  else st.match = merged;
}

/** The symbols a set key of `keyLen` bytes is made of, starting at register `sreg` (concatenations span registers). */
function components(
  st: State,
  sreg: number,
  keyLen: number,
): { sym: Sym; off: number; len: number }[] | undefined {
  // A key spans at most the 16 32-bit registers (NFT_DATA_VALUE_MAXLEN, 64 bytes: the kernel
  // refuses longer NFTA_SET_KEY_LEN); a longer one is not a layout, and walking it would loop
  // for as long as the 32-bit length says.
  if (!(keyLen >= 1 && keyLen <= NFT_DATA_VALUE_MAXLEN)) return undefined;
  const out: { sym: Sym; off: number; len: number }[] = [];
  let idx = reg32(sreg);
  let off = 0;
  while (off < keyLen) {
    const sym = st.regs.get(idx) ?? { k: 'unknown' };
    const len = Math.min(symLen(sym), keyLen - off);
    // A zero-length load (payload len 0) covers no key byte: the layout is not understood.
    if (len <= 0) return undefined;
    out.push({ sym, off, len });
    off += align4(len);
    idx += align4(len) / 4;
  }
  return off === align4(keyLen) ? out : undefined;
}

/** A key component between `from` and `to` (inclusive, packet byte order). */
function rangeCond(st: State, s: Sym, from: Buffer, to: Buffer): void {
  if (from.equals(to)) {
    cmp(st, s, NFT_CMP_EQ, from);
    return;
  }
  if (isDport(st, s) && from.length >= 2 && to.length >= 2) {
    narrow(st, { dport: { min: from.readUInt16BE(0), max: to.readUInt16BE(0) } });
  } else if (isDaddr(st, s) && s.k === 'payload') {
    // An address range narrows the forward only when it is a prefix: from = net, to = net | ~mask.
    const full = st.match.family === 'inet' ? 4 : 16;
    let len = 0;
    while (len < from.length * 8) {
      const byte = len >> 3;
      const bit = 7 - (len & 7);
      if ((((from[byte] ?? 0) >> bit) & 1) !== (((to[byte] ?? 0) >> bit) & 1)) break;
      len++;
    }
    for (let k = len; k < from.length * 8; k++) {
      const byte = k >> 3;
      const bit = 7 - (k & 7);
      if (((from[byte] ?? 0) >> bit) & 1 || !(((to[byte] ?? 0) >> bit) & 1)) {
        st.uncertain ??= 'destination address range that is not a prefix';
        return;
      }
    }
    const address = Buffer.alloc(full);
    from.copy(address, 0, 0, Math.min(full, s.len));
    narrow(st, { daddr: { address, prefixlen: len } });
  } else if (isL4proto(st, s)) {
    st.uncertain ??= 'protocol range';
  }
}

function cmp(st: State, s: Sym, op: number, v: Buffer): void {
  if (isL4proto(st, s)) {
    if (op === NFT_CMP_EQ && v.length >= 1) narrow(st, { protocol: v.readUInt8(0) });
  } else if (s.k === 'meta' && s.key === NFT_META_NFPROTO) {
    const f = v.length >= 1 ? familyOf(v.readUInt8(0)) : undefined;
    if (op === NFT_CMP_EQ && f) narrow(st, { family: f });
  } else if (s.k === 'meta' && s.key === NFT_META_PROTOCOL) {
    // Ethertype, network order: 0x0800 IPv4, 0x86dd IPv6.
    const t = v.length >= 2 ? v.readUInt16BE(0) : 0;
    if (op === NFT_CMP_EQ && (t === 0x0800 || t === 0x86dd))
      narrow(st, { family: t === 0x0800 ? 'inet' : 'inet6' });
  } else if (isDaddr(st, s) && s.k === 'payload') {
    if (op !== NFT_CMP_EQ) return;
    const full = st.match.family === 'inet' ? 4 : 16;
    const addr = Buffer.alloc(full);
    const masked = s.mask ? Buffer.from(v.map((x, i) => x & (s.mask?.[i] ?? 0))) : v;
    masked.copy(addr, 0, 0, Math.min(full, s.len));
    const prefixlen = s.mask ? maskPrefixLen(s.mask.subarray(0, s.len)) : s.len * 8;
    if (prefixlen === undefined) st.uncertain ??= 'destination address compared under a non-prefix mask';
    else narrow(st, { daddr: { address: addr, prefixlen } });
  } else if (isDport(st, s)) {
    if (v.length < 2) return;
    const p = v.readUInt16BE(0);
    if (op === NFT_CMP_EQ) narrow(st, { dport: { min: p, max: p } });
    else if (op === NFT_CMP_GTE) narrow(st, { dport: { min: p, max: 65535 } });
    else if (op === NFT_CMP_GT) narrow(st, { dport: { min: p + 1, max: 65535 } });
    else if (op === NFT_CMP_LTE) narrow(st, { dport: { min: 0, max: p } });
    else if (op === NFT_CMP_LT) narrow(st, { dport: { min: 0, max: p - 1 } });
  } else if (s.k === 'fib' && s.result === NFT_FIB_RESULT_ADDRTYPE && s.flags & NFTA_FIB_F_DADDR) {
    // `fib daddr type local`: the value is the RTN_* type in host order (RTN_LOCAL = 2).
    if (op === NFT_CMP_EQ && v.length >= 4 && v.readUInt32LE(0) === 2) narrow(st, { localDest: true });
  }
  // Anything else (interface names, marks, ct state...) does not change which port is forwarded.
}

function natAction(st: State, e: Extract<NftExpr, { type: 'nat' }>): Action {
  const get = (r: number): Sym => st.regs.get(reg32(r)) ?? { k: 'unknown' };
  const a: Action = { kind: 'dnat' };
  const f = familyOf(e.family);
  if (f) a.family = f;
  if (e.regAddrMin !== undefined) {
    const s = get(e.regAddrMin);
    if (s.k !== 'const') {
      st.uncertain ??= 'DNAT address comes from a register we cannot follow';
      return a;
    }
    const len = f === 'inet6' ? 16 : 4;
    // The kernel loads NFTA_NAT_REG_ADDR_MIN as an address of the nat family's size; a shorter
    // constant (a mutated or foreign rule) is not an address.
    if (s.value.length < len) {
      st.uncertain ??= `DNAT address of ${s.value.length} bytes`;
      return a;
    }
    a.address = Buffer.from(s.value.subarray(0, len));
  }
  if (e.regProtoMin !== undefined && !loadPorts(st, a, e.regProtoMin, e.regProtoMax))
    st.uncertain ??= 'DNAT port comes from a register we cannot follow';
  return a;
}

function redirAction(st: State, regMin: number | undefined, regMax: number | undefined): Action {
  const a: Action = { kind: 'redirect' };
  if (regMin !== undefined && !loadPorts(st, a, regMin, regMax))
    st.uncertain ??= 'redirect port comes from a register we cannot follow';
  return a;
}

/**
 * The port range a nat/redir expression takes from its REG_PROTO_MIN/MAX
 * registers (network order, like the header field they are written into).
 * False when the low port is not a constant we followed; a high port that is
 * not one, or not above the low, leaves a single port.
 */
function loadPorts(
  st: State,
  a: { port?: number; portEnd?: number },
  regMin: number,
  regMax: number | undefined,
): boolean {
  const s = st.regs.get(reg32(regMin));
  if (s?.k !== 'const' || s.value.length < 2) return false;
  a.port = s.value.readUInt16BE(0);
  const mx = regMax !== undefined ? st.regs.get(reg32(regMax)) : undefined;
  if (mx?.k === 'const' && mx.value.length >= 2 && mx.value.readUInt16BE(0) > a.port)
    a.portEnd = mx.value.readUInt16BE(0);
  return true;
}

function isL4proto(st: State, s: Sym): boolean {
  if (s.k === 'meta') return s.key === NFT_META_L4PROTO;
  // ip protocol (IPv4 header byte 9) / ip6 nexthdr (byte 6)
  if (s.k !== 'payload' || s.base !== NFT_PAYLOAD_NETWORK_HEADER || s.len !== 1 || s.mask) return false;
  return (st.match.family === 'inet' && s.offset === 9) || (st.match.family === 'inet6' && s.offset === 6);
}

function isDaddr(st: State, s: Sym): boolean {
  if (s.k !== 'payload' || s.base !== NFT_PAYLOAD_NETWORK_HEADER) return false;
  // IPv4 daddr at 16 (4 bytes), IPv6 daddr at 24 (16 bytes); shorter loads compare a prefix.
  if (st.match.family === 'inet') return s.offset === 16 && s.len <= 4;
  if (st.match.family === 'inet6') return s.offset === 24 && s.len <= 16;
  return false;
}

function isDport(_st: State, s: Sym): boolean {
  // TCP/UDP/SCTP destination port: transport header offset 2, two bytes.
  return (
    s.k === 'payload' && s.base === NFT_PAYLOAD_TRANSPORT_HEADER && s.offset === 2 && s.len === 2 && !s.mask
  );
}

/** Builds NatTables from a ruleset (NAT families only). Pure. */
export function natTablesOf(rs: NftRuleset): NatTable[] {
  const sets = new Map(rs.sets.map((x) => [setKey(x.family, x.table, x.name), x]));
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
    const res = translateRule(r, (name) => sets.get(setKey(r.family, r.table, name)));
    if (res.skipped) chain.skipped.push(`rule ${r.handle ?? '?'} skipped: ${res.skipped}`);
    chain.rules.push(...res.rules);
  }
  return [...tables.values()].filter((t) => t.chains.size > 0);
}
