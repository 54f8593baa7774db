/**
 * A source-neutral view of NAT rules and the walk that turns them into port
 * forwards. nftables rules and legacy ip_tables entries are both translated
 * into `NatRule`s (what a rule requires of a packet, what it does), grouped in
 * chains; the walk starts at the base chains where DNAT can happen
 * (prerouting and output) and follows jumps and gotos, narrowing the
 * requirements along the path — that is how Docker's `PREROUTING → DOCKER`
 * and kube-proxy's `KUBE-SERVICES → KUBE-SVC-* → KUBE-SEP-*` chains resolve
 * to "daddr:dport → destination".
 *
 * Not modelled on purpose: rule order and early `return`/`accept` (a forward
 * is reported if some path reaches its DNAT), negated conditions (they do not
 * change which port is forwarded) and interface names.
 */
import { ipv4, ipv6 } from '../../kernel/rtnetlink/format.js';
import type { Draft } from '../../model/types.js';

export interface PortRange {
  min: number;
  max: number;
}

export type Family = 'inet' | 'inet6';

/** What a rule (or a path of rules) requires of a packet. */
export interface Match {
  family?: Family;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp). */
  protocol?: number;
  daddr?: { address: Buffer; prefixlen: number };
  dport?: PortRange;
  /** Destination must be a local address (addrtype LOCAL, `fib daddr type local`). */
  localDest?: boolean;
}

export type Action =
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'dnat'; family?: Family; address?: Buffer; port?: number; portEnd?: number }
  /** To the forwarding namespace itself (the receiving interface's address). */
  | { kind: 'redirect'; port?: number; portEnd?: number }
  | { kind: 'none' };

export interface NatRule {
  match: Match;
  action: Action;
}

export interface NatChain {
  name: string;
  /** True for chains the kernel enters directly in prerouting or output (DNAT hooks). */
  entry: boolean;
  rules: NatRule[];
  /** Rules left out because their meaning could not be established (reported when the chain is reached). */
  skipped: string[];
}

export interface NatTable {
  /** Label prefix for chains, e.g. "ip nat" (nftables) or "nat" (legacy iptables). */
  label: string;
  /** Family of every rule in the table; undefined for nftables "inet" tables. */
  family?: Family;
  chains: Map<string, NatChain>;
}

export type Forward = Omit<Draft.ForwardedPort, 'source' | 'netns' | 'owners'> & { chain: string };

const PROTOCOLS: Record<number, 'tcp' | 'udp' | 'sctp'> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** Maximum jump depth (the kernel's NFT_JUMP_STACK_SIZE is 16; xtables is similar). */
const MAX_DEPTH = 16;

/** Chain visits per table: bounds the walk on pathological jump graphs (paths can multiply). */
export const MAX_VISITS = 1_000_000;

/** Both requirements at once, or undefined when no packet can meet both. */
export function mergeMatch(a: Match, b: Match): Match | undefined {
  const out: Match = { ...a };
  if (b.family !== undefined) {
    if (a.family !== undefined && a.family !== b.family) return undefined;
    out.family = b.family;
  }
  if (b.protocol !== undefined) {
    if (a.protocol !== undefined && a.protocol !== b.protocol) return undefined;
    out.protocol = b.protocol;
  }
  if (b.dport) {
    if (a.dport) {
      const min = Math.max(a.dport.min, b.dport.min);
      const max = Math.min(a.dport.max, b.dport.max);
      if (min > max) return undefined;
      out.dport = { min, max };
    } else out.dport = b.dport;
  }
  if (b.daddr) {
    if (a.daddr) {
      const narrow = a.daddr.prefixlen >= b.daddr.prefixlen ? a.daddr : b.daddr;
      const wide = narrow === a.daddr ? b.daddr : a.daddr;
      if (narrow.address.length !== wide.address.length || !prefixContains(wide, narrow.address))
        return undefined;
      out.daddr = narrow;
    } else out.daddr = b.daddr;
  }
  if (b.localDest) out.localDest = true;
  return out;
}

function prefixContains(net: { address: Buffer; prefixlen: number }, addr: Buffer): boolean {
  let bits = net.prefixlen;
  for (let i = 0; i < net.address.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((net.address[i] ?? 0) & mask) !== ((addr[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Prefix length of a contiguous netmask (network order bytes), or undefined when it is not one. */
export function maskPrefixLen(mask: Buffer): number | undefined {
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

/**
 * Text of a rule's address: 4 bytes as a dotted quad, 16 in RFC 5952 form —
 * rtnetlink's formatters, so an address reads the same in a forward as on
 * the interface that holds it.
 */
export function addrText(b: Buffer): string {
  if (b.length === 4) return ipv4(b);
  if (b.length < 16) throw new RangeError(`address of ${b.length} bytes`);
  return ipv6(b);
}

/**
 * A note as one line: table, chain, set and expression names come from the kernel's answer, and
 * whoever owns the namespace chose them (a name may hold a newline). Notes become warnings, one
 * line each; terminal views escape the rest.
 */
const oneLine = (s: string): string =>
  s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Every forward the table's DNAT rules make, deduplicated; `notes` say what was left out and why. */
export function forwardsOf(table: NatTable): { forwards: Forward[]; notes: string[] } {
  const forwards = new Map<string, Forward>();
  const notes: string[] = [];
  const reported = new Set<string>();
  let budget = MAX_VISITS;
  const walk = (chain: NatChain, acc: Match, stack: string[]): void => {
    if (--budget < 0) {
      if (budget === -1)
        notes.push(`${table.label}: more than ${MAX_VISITS} chain visits, the walk stopped early`);
      return;
    }
    if (!reported.has(chain.name)) {
      reported.add(chain.name);
      for (const s of chain.skipped) notes.push(`${table.label} ${chain.name}: ${s}`);
    }
    if (stack.length > MAX_DEPTH) {
      notes.push(`${table.label} ${chain.name}: jumps nested deeper than ${MAX_DEPTH}, not followed`);
      return;
    }
    for (const rule of chain.rules) {
      const m = mergeMatch(acc, rule.match);
      if (!m) continue;
      const a = rule.action;
      if (a.kind === 'jump' || a.kind === 'goto') {
        const next = table.chains.get(a.chain);
        if (next && !stack.includes(next.name)) walk(next, m, [...stack, next.name]);
      } else if (a.kind === 'dnat' || a.kind === 'redirect') {
        const f = toForward(table, `${table.label} ${chain.name}`, m, a);
        if (typeof f === 'string') notes.push(`${table.label} ${chain.name}: ${f}`);
        else if (f)
          forwards.set(
            JSON.stringify([
              f.protocol,
              f.family,
              f.hostAddress,
              f.hostPort,
              f.hostPortEnd,
              f.destAddress,
              f.destPort,
              f.redirect,
            ]),
            f,
          );
      }
    }
  };
  for (const chain of table.chains.values())
    if (chain.entry) walk(chain, table.family ? { family: table.family } : {}, [chain.name]);
  return { forwards: [...forwards.values()], notes: notes.map(oneLine) };
}

/** A forward; undefined when the path forwards no port; a note when its addresses are not addresses. */
function toForward(
  table: NatTable,
  chain: string,
  m: Match,
  a: Extract<Action, { kind: 'dnat' | 'redirect' }>,
): Forward | string | undefined {
  const protocol = m.protocol !== undefined ? PROTOCOLS[m.protocol] : undefined;
  // A DNAT without a destination port match forwards whole addresses, not ports.
  if (!protocol || !m.dport) return undefined;
  const bad = [m.daddr?.address, a.kind === 'dnat' ? a.address : undefined].find(
    (b) => b !== undefined && b.length !== 4 && b.length !== 16,
  );
  if (bad) return `a DNAT with an address of ${bad.length} bytes, left out`;
  let family: Family | undefined;
  let destAddress: string;
  if (a.kind === 'redirect') {
    family = m.family ?? table.family;
    if (!family) return undefined;
    // The receiving interface's own address: the matched one when exact, else any.
    destAddress = hostAddressOf(family, m, true);
  } else {
    family =
      a.family ??
      m.family ??
      table.family ??
      (a.address?.length === 16 ? 'inet6' : a.address ? 'inet' : undefined);
    if (!family) return undefined;
    // iptables' `--to-destination :port` keeps the address; only an exact daddr match says which one.
    const dest =
      a.address ??
      (m.daddr && m.daddr.prefixlen === m.daddr.address.length * 8 ? m.daddr.address : undefined);
    if (!dest) return undefined;
    destAddress = addrText(dest);
  }
  const f: Forward = {
    protocol,
    family,
    hostAddress: hostAddressOf(family, m),
    hostPort: m.dport.min,
    destAddress,
    destPort: a.port ?? m.dport.min,
    chain,
  };
  if (a.kind === 'redirect') f.redirect = true;
  if (m.dport.max > m.dport.min) f.hostPortEnd = m.dport.max;
  return f;
}

/** The matched destination: exact address, prefix (CIDR text), or the family's wildcard. */
function hostAddressOf(family: Family, m: Match, exactOnly = false): string {
  const any = family === 'inet' ? '0.0.0.0' : '::';
  if (!m.daddr) return any;
  if (m.daddr.prefixlen === m.daddr.address.length * 8) return addrText(m.daddr.address);
  return exactOnly ? any : `${addrText(m.daddr.address)}/${m.daddr.prefixlen}`;
}
