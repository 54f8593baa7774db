/**
 * The diff between what a lab declares and what a namespace has, object by
 * object (pure). apply.ts walks the topology, reads each namespace once and
 * turns these differences into steps; with --dry-run it only prints them.
 */

import { RULE_ACTIONS } from '../../kernel/rtnetlink/constants.js';
import type { RuleSpec } from '../../kernel/rtnetlink/rule-msg.js';
import type { Draft } from '../../model/types.js';
import { routeBriefLabel } from '../../views/labels.js';
import { type Cidr, contains, ipBytes, parseCidr } from '../file/ip.js';
import { type DesiredRule, kernelRule, RT_TABLE_MAIN, ruleMatches, tableText } from '../file/rules.js';
import type { DesiredIf, DesiredRoute } from '../file/topology.js';
import type { AddrState, LinkState, RouteState } from './netlink-ops.js';

export interface Step {
  /** What the step does, e.g. "create veth a:eth1 <-> b:eth1". */
  text: string;
  op: 'create' | 'delete' | 'change';
}

export interface LinkFix {
  mtu?: number;
  mac?: string;
  up?: boolean;
  master?: number;
  alias?: string;
}

/** Attribute changes an owned, existing interface needs. */
export function linkFix(d: DesiredIf, a: LinkState, mark: string, masterIndex: number | undefined): LinkFix {
  const f: LinkFix = {};
  if (d.mtu !== undefined && a.mtu !== d.mtu) f.mtu = d.mtu;
  if (d.mac !== undefined && a.mac !== d.mac) f.mac = d.mac;
  if (!a.up) f.up = true;
  if (masterIndex !== undefined && a.master !== masterIndex) f.master = masterIndex;
  if (d.master === undefined && a.master !== undefined) f.master = 0;
  if (a.alias !== mark) f.alias = mark;
  return f;
}

/**
 * Why an existing interface of the right kind must be replaced rather than
 * changed: macvlan and VXLAN parameters are fixed at creation (the kernel
 * rejects most changes), so a difference means delete and create. Parent and
 * underlay indexes are only compared when they live in the same namespace.
 */
export function replaceReason(
  d: DesiredIf,
  a: LinkState,
  indexIn: (ns: string, name: string) => number | undefined,
  modes: Record<string, number>,
): string | undefined {
  if (d.macvlan) {
    if (a.macvlanMode !== undefined && a.macvlanMode !== modes[d.macvlan.mode]) return 'macvlan mode differs';
    if (d.macvlan.parentNs === d.ns && !a.linkElsewhere) {
      const p = indexIn(d.ns, d.macvlan.parent);
      if (p !== undefined && a.link !== p) return 'macvlan parent differs';
    }
  }
  if (d.vxlan && a.vxlan) {
    const v = d.vxlan;
    if (a.vxlan.vni !== v.vni) return `VNI ${a.vxlan.vni} is not ${v.vni}`;
    if ((v.remote ?? undefined) !== (a.vxlan.remote ?? undefined)) return 'remote differs';
    if (v.local !== undefined && a.vxlan.local !== v.local) return 'local differs';
    if (a.vxlan.port !== undefined && a.vxlan.port !== v.port) return 'port differs';
    if (v.underlay && (v.underlayNs ?? d.ns) === d.ns) {
      const u = indexIn(d.ns, v.underlay);
      if (u !== undefined && a.vxlan.link !== u) return 'underlay differs';
    }
  }
  return undefined;
}

export function describeFix(f: LinkFix, a: LinkState): string[] {
  const out: string[] = [];
  if (f.mtu !== undefined) out.push(`mtu ${a.mtu} -> ${f.mtu}`);
  if (f.mac !== undefined) out.push(`mac ${a.mac ?? '-'} -> ${f.mac}`);
  if (f.up) out.push('up');
  if (f.master !== undefined) out.push(f.master === 0 ? 'nomaster' : 'master');
  if (f.alias !== undefined) out.push('mark');
  return out;
}

/**
 * Kernel-made addresses are not the lab's business: IPv6 link-local
 * (fe80::/10) and anything not permanent (autoconf, DHCP-like lifetimes).
 */
export function isKernelAddr(a: { family: string; address: string; permanent?: boolean }): boolean {
  if (a.family === 'inet6' && a.address.toLowerCase().startsWith('fe8')) return true;
  return a.permanent === false;
}

export function addrFix(want: readonly Cidr[], have: readonly AddrState[]): { add: Cidr[]; del: Cidr[] } {
  const key = (c: { address: string; prefixlen: number }) => `${c.address}/${c.prefixlen}`;
  const haveKeys = new Set(have.map(key));
  const wantKeys = new Set(want.map(key));
  return {
    add: want.filter((c) => !haveKeys.has(key(c))),
    del: have
      .filter((a) => !isKernelAddr(a) && !wantKeys.has(key(a)))
      .map((a) => ({ family: a.family, address: a.address, prefixlen: a.prefixlen })),
  };
}

/** Whether an actual route is the declared one (in the declared table). */
export function routeMatches(r: DesiredRoute, a: RouteState, oif: number | undefined): boolean {
  if (a.table !== r.table) return false;
  const net = parseCidr(a.dst);
  if (a.family !== r.dst.family || !net || net.prefixlen !== r.dst.prefixlen) return false;
  if (net.address !== r.dst.address) return false;
  if ((r.via ?? undefined) !== (a.gateway ?? undefined)) return false;
  if (oif !== undefined && a.dev !== oif) return false;
  if (r.metric !== undefined && (a.metric ?? 0) !== r.metric) return false;
  return true;
}

/** Route protocols the kernel itself uses (rtnetlink.h RTPROT_REDIRECT, RTPROT_KERNEL, RTPROT_RA). */
const KERNEL_PROTOCOLS = new Set(['redirect', 'kernel', 'ra']);

/**
 * Unicast routes whose removal is the lab's business: in its own namespaces
 * every route not made by the kernel (also one added by hand with `ip route`,
 * protocol boot), elsewhere only the ones it installed (protocol static).
 */
export const labRoute = (a: RouteState, ownNamespace: boolean): boolean =>
  ownNamespace ? !KERNEL_PROTOCOLS.has(a.protocol) : a.protocol === 'static';

export function routeFix(
  want: readonly DesiredRoute[],
  have: readonly RouteState[],
  oifOf: (dev: string) => number | undefined,
  removable: (a: RouteState) => boolean,
): { add: DesiredRoute[]; del: RouteState[] } {
  const add = want.filter((r) => !have.some((a) => routeMatches(r, a, r.dev ? oifOf(r.dev) : undefined)));
  const del = have.filter(
    (a) =>
      a.type === 'unicast' &&
      removable(a) &&
      !want.some((r) => routeMatches(r, a, r.dev ? oifOf(r.dev) : undefined)),
  );
  return { add, del };
}

/** The destination of a route found in a dump ("addr/len") as a prefix. */
export function foundDst(a: RouteState): Cidr {
  const [address = '', len = '0'] = a.dst.split('/');
  return { family: a.family, address, prefixlen: Number(len) };
}

/** A found route as the step messages name it: "default" or "addr/len", gateway, table. */
export const foundRouteText = (a: RouteState): string =>
  `${a.dst.endsWith('/0') ? 'default' : a.dst}${a.gateway ? ` via ${a.gateway}` : ''}${a.table !== RT_TABLE_MAIN ? ` table ${tableText(a.table)}` : ''}`;

export const routeText = (r: DesiredRoute): string =>
  routeBriefLabel({ ...r, dst: `${r.dst.address}/${r.dst.prefixlen}`, gateway: r.via });

/**
 * Rules to add and to delete in one namespace. Kernel-made rules are never
 * deleted; `removable` says which others are the lab's (all of them in its
 * own namespaces, on the host only those it declared before).
 */
export function ruleFix(
  want: readonly DesiredRule[],
  have: readonly Draft.Rule[],
  removable: (a: Draft.Rule) => boolean,
): { add: DesiredRule[]; del: Draft.Rule[] } {
  return {
    add: want.filter((r) => !have.some((a) => ruleMatches(r, a))),
    del: have.filter((a) => !kernelRule(a) && removable(a) && !want.some((r) => ruleMatches(r, a))),
  };
}

const prefix = (s: string): { addr: Buffer; len: number } => {
  const c = parseCidr(s);
  return c ? { addr: ipBytes(c.address), len: c.prefixlen } : { addr: Buffer.alloc(0), len: 0 };
};

/** The request for a declared rule. */
export function desiredRuleSpec(r: DesiredRule): Omit<RuleSpec, 'protocol'> {
  return {
    family: r.family,
    priority: r.priority,
    table: r.table,
    ...(r.src ? { src: { addr: ipBytes(r.src.address), len: r.src.prefixlen } } : {}),
    ...(r.dst ? { dst: { addr: ipBytes(r.dst.address), len: r.dst.prefixlen } } : {}),
    ...(r.iif !== undefined ? { iif: r.iif } : {}),
    ...(r.oif !== undefined ? { oif: r.oif } : {}),
    ...(r.fwmark ? { fwmark: r.fwmark.mark, fwmask: r.fwmark.mask } : {}),
  };
}

/** The request that deletes exactly a rule found in a dump (selectors, action, table). */
export function foundRuleSpec(a: Draft.Rule): Omit<RuleSpec, 'protocol'> {
  const action = RULE_ACTIONS.indexOf(a.action);
  return {
    family: a.family,
    priority: a.priority,
    table: a.table,
    ...(action >= 0 ? { action } : {}),
    ...(a.invert ? { invert: true } : {}),
    ...(a.src ? { src: prefix(a.src) } : {}),
    ...(a.dst ? { dst: prefix(a.dst) } : {}),
    ...(a.iif !== undefined ? { iif: a.iif } : {}),
    ...(a.oif !== undefined ? { oif: a.oif } : {}),
    ...(a.fwmark !== undefined ? { fwmark: a.fwmark } : {}),
    ...(a.fwmask !== undefined ? { fwmask: a.fwmask } : {}),
  };
}

/** Whether a gateway is reachable through one of the given connected prefixes (for ordering). */
export const onLink = (gw: string, nets: readonly Cidr[]): boolean => nets.some((n) => contains(n, gw));
