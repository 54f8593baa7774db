/**
 * One label per kernel object — route, rule, routing table, default rule,
 * socket, forwarded port — in ip(8)'s words, shared by the text tree
 * (text-tree.ts), the change lines of `watch` and the web UI (changes.ts) and
 * the web UI's detail tables (web/src/details.ts). Pure, and free of node
 * imports: the web UI bundles this file.
 */
import type { ForwardedPort, Route, Rule, Socket } from '../model/types.js';

/** What a label needs of the discovery: interface and namespace names. */
export interface LabelContext {
  ifname(netns: number, index: number | undefined): string;
  netnsName(ino: number): string;
}

/** Well-known routing tables (/etc/iproute2/rt_tables). */
const TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };
export const tableName = (t: number): string => TABLES[t] ?? String(t);

/**
 * The rules every namespace starts with (fib_default_rules_init): 0 lookup
 * local, 32766 lookup main, 32767 lookup default (IPv4 only) — shown only
 * when other rules exist, as they decide nothing by themselves.
 */
export function isDefaultRule(r: Rule): boolean {
  const plain =
    !r.invert &&
    r.src === undefined &&
    r.dst === undefined &&
    r.iif === undefined &&
    r.oif === undefined &&
    r.fwmark === undefined;
  return (
    plain &&
    ((r.priority === 0 && r.table === 255) ||
      (r.priority === 32766 && r.table === 254) ||
      (r.priority === 32767 && r.table === 253 && r.family === 'inet'))
  );
}

/** A local-table route the kernel adds for an address or device by itself (fib_add_ifaddr, addrconf). */
export const isKernelLocal = (r: Route): boolean => r.table === 255 && r.protocol === 'kernel';

/**
 * `fwmark 0x10/0xff` as ip-rule(8) prints it: the mask only when it is not all
 * ones (FRA_FWMASK defaults to 0xffffffff when a mark is given, fib_rules.c).
 */
export function fwmarkLabel(mark: number, mask: number | undefined): string {
  return `fwmark 0x${mark.toString(16)}${mask !== undefined && mask !== 0xffffffff ? `/0x${mask.toString(16)}` : ''}`;
}

/** What a rule does: `lookup <table>` for the table actions, else the action (and its table). */
export function ruleActionLabel(r: Pick<Rule, 'action' | 'table'>): string {
  return r.action === 'to_tbl' || r.action === 'table' || r.action === 'unicast'
    ? `lookup ${tableName(r.table)}`
    : `${r.action}${r.table ? ` ${tableName(r.table)}` : ''}`;
}

/** What a rule matches, `from all` when it names no source: `from 10.0.2.0/24 fwmark 0x10/0xff`. */
export function ruleSelectorLabel(r: Rule): string {
  return [
    r.invert ? 'not' : '',
    `from ${r.src ?? 'all'}`,
    r.dst ? `to ${r.dst}` : '',
    r.iif ? `iif ${r.iif}` : '',
    r.oif ? `oif ${r.oif}` : '',
    r.fwmark !== undefined ? fwmarkLabel(r.fwmark, r.fwmask) : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** A policy rule as ip-rule(8) lists it: `1000: from 10.0.2.0/24 lookup 100`. */
export function ruleLabel(r: Rule): string {
  return [
    `${r.priority}:`,
    r.invert ? 'not' : '',
    `from ${r.src ?? 'all'}`,
    r.dst ? `to ${r.dst}` : '',
    r.iif ? `iif ${r.iif}` : '',
    r.oif ? `oif ${r.oif}` : '',
    r.fwmark !== undefined ? fwmarkLabel(r.fwmark, r.fwmask) : '',
    ruleActionLabel(r),
    r.family === 'inet6' ? '(ipv6)' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

const QUIET_PROTOCOLS = new Set(['kernel', 'boot', 'unspec']);
/** The RTNH_F_* flags ip-route(8) prints after a route or next hop (`linkdown` on a down device). */
const SHOWN_ROUTE_FLAGS = new Set([
  'dead',
  'onlink',
  'pervasive',
  'offload',
  'trap',
  'linkdown',
  'unresolved',
]);

export function routeLabel(ctx: LabelContext, ns: { ino: number }, r: Route): string {
  const dst = r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst;
  const parts = [r.type !== 'unicast' ? r.type : '', dst];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev !== undefined) parts.push(`dev ${ctx.ifname(ns.ino, r.dev)}`);
  // Like ip-route(8), leave out the protocols that say nothing: `kernel` (derived from an address)
  // and `boot` (RTPROT_BOOT, what `ip route add` and most engines set when nothing else is said).
  if (r.protocol && !QUIET_PROTOCOLS.has(r.protocol)) parts.push(`proto ${r.protocol}`);
  if (r.scope && r.scope !== 'universe' && r.scope !== 'global') parts.push(`scope ${r.scope}`);
  if (r.prefsrc) parts.push(`src ${r.prefsrc}`);
  if (r.metric !== undefined && r.metric !== 0) parts.push(`metric ${r.metric}`);
  if (r.pref && r.pref !== 'medium') parts.push(`pref ${r.pref}`);
  if (r.mtu) parts.push(`mtu ${r.mtu}`);
  parts.push(...r.flags.filter((f) => SHOWN_ROUTE_FLAGS.has(f)));
  for (const h of r.nexthops) {
    parts.push(
      `nexthop${h.gateway ? ` via ${h.gateway}` : ''}${h.dev !== undefined ? ` dev ${ctx.ifname(ns.ino, h.dev)}` : ''}${h.weight !== undefined ? ` weight ${h.weight}` : ''}`,
      ...h.flags.filter((f) => SHOWN_ROUTE_FLAGS.has(f)),
    );
  }
  if (r.family === 'inet6' && !dst.includes(':') && dst !== 'default') parts.push('(ipv6)');
  return parts.filter(Boolean).join(' ');
}

/**
 * A route in brief, as the lab's messages name one whether declared or
 * found: destination (`default` for a /0), gateway, device, metric and a
 * table other than main — what a lab file can say about a route.
 */
export function routeBriefLabel(r: {
  dst: string;
  gateway?: string | undefined;
  dev?: string | undefined;
  metric?: number | undefined;
  table: number;
}): string {
  return [
    r.dst.endsWith('/0') ? 'default' : r.dst,
    r.gateway ? `via ${r.gateway}` : '',
    r.dev ? `dev ${r.dev}` : '',
    r.metric !== undefined ? `metric ${r.metric}` : '',
    r.table !== 254 ? `table ${tableName(r.table)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

const hostPort = (addr: string, port: number): string =>
  addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

export function socketLabel(s: Socket): string {
  const owners = s.owners.length
    ? s.owners.map((o) => `${o.comm}(${o.pid})`).join(', ')
    : 'no owning process found';
  const remote = s.macrostate === 'connected' ? ` ⇄ ${hostPort(s.remoteAddress, s.remotePort)}` : '';
  return (
    `${s.protocol}${s.family === 'inet6' ? '6' : ''} ${hostPort(s.localAddress, s.localPort)}` +
    `${s.service ? ` (${s.service})` : ''}${remote}` +
    `${s.synthetic ? ' [via dual-stack IPv6 socket]' : ''} ← ${owners}`
  );
}

export function forwardedLabel(ctx: LabelContext, f: ForwardedPort): string {
  const range = f.hostPortEnd !== undefined && f.hostPortEnd !== f.hostPort ? `-${f.hostPortEnd}` : '';
  const dest = f.destNetns !== undefined ? ` in netns ${f.destNetns} (${ctx.netnsName(f.destNetns)})` : '';
  const owners = f.owners.length ? ` ← ${f.owners.map((o) => `${o.comm}(${o.pid})`).join(', ')}` : '';
  return `${f.protocol} ${hostPort(f.hostAddress, f.hostPort)}${range} → ${hostPort(f.destAddress, f.destPort)}${dest}${owners} [${f.source}${f.chain ? ` ${f.chain}` : ''}]`;
}
