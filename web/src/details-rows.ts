/**
 * What a namespace's details list, as text: the routing tables' rows, the
 * listening sockets, the DNS configurations its tenants share. No DOM:
 * unit-tested in Node; details.ts lays them out.
 */
import { ruleActionLabel, ruleSelectorLabel, tableName } from '../../src/views/labels.js';
import { type Graph, ikey } from './graph.js';
import type { Discovery, Dns, NetworkNamespace, Process, Route, Rule } from './model.js';

type Socket = NetworkNamespace['sockets'][number];
type ForwardedPort = NetworkNamespace['forwardedPorts'][number];

export function processOf(d: Discovery, pid: number | undefined): Process | undefined {
  if (pid === undefined) return undefined;
  return d.processes[String(pid)] ?? Object.values(d.processes).find((p) => p.pid === pid);
}

/** An interface's name in a namespace, "#<index>" when it was not discovered. */
export const ifName = (g: Graph, netns: number, index: number | undefined): string =>
  index === undefined ? '' : (g.ifaces.get(ikey(netns, index))?.name ?? `#${index}`);

/** A route's row: table, destination, gateway(s), device, type, protocol, scope, metric, source. */
export function routeRow(g: Graph, net: NetworkNamespace, r: Route): string[] {
  const via =
    r.gateway ??
    r.nexthops
      .map((n) => n.gateway)
      .filter(Boolean)
      .join(', ');
  return [
    tableName(r.table),
    r.dst,
    via || '',
    ifName(g, net.ino, r.dev),
    r.type,
    r.protocol,
    r.scope,
    r.metric === undefined ? '' : String(r.metric),
    r.prefsrc ?? '',
  ];
}

/** A rule's row: priority, family, what it matches (with a fwmark's mask), what it does. */
export function ruleRow(r: Rule): string[] {
  return [String(r.priority), r.family, ruleSelectorLabel(r), ruleActionLabel(r)];
}

/** The routes, rules and neighbours shown: IPv6 ones only when the IPv6 setting is on. */
export function routingRows(
  g: Graph,
  net: NetworkNamespace,
  ipv6: boolean,
): { routes: string[][]; rules: string[][]; neighbours: string[][] } {
  return {
    routes: net.routes.filter((r) => ipv6 || r.family === 'inet').map((r) => routeRow(g, net, r)),
    rules: net.rules.filter((r) => ipv6 || r.family === 'inet').map(ruleRow),
    neighbours: net.neighbours
      .filter((n) => ipv6 || n.family !== 'inet6')
      .map((n) => [n.address ?? '', n.mac ?? '', ifName(g, net.ino, n.dev), n.state.join(' ')]),
  };
}

/**
 * The sockets that serve: listening TCP and unconnected UDP, by port; IPv6
 * ones only with the IPv6 setting, unless they also serve IPv4 (dual stack).
 */
export function servingSockets(net: NetworkNamespace, ipv6: boolean): Socket[] {
  return net.sockets
    .filter((s) => s.macrostate === 'listening' || (s.protocol === 'udp' && s.macrostate === 'unconnected'))
    .filter((s) => ipv6 || s.family === 'inet' || s.dualStack)
    .sort((a, b) => a.localPort - b.localPort);
}

/** A forwarded port's protocol, host address and port (range), destination and the rule that forwards it. */
export function forwardedRow(f: ForwardedPort): [string, string, string, string] {
  return [
    f.protocol,
    `${f.hostAddress}:${f.hostPort}${f.hostPortEnd ? `-${f.hostPortEnd}` : ''}`,
    `${f.destAddress}:${f.destPort}`,
    `${f.source}${f.chain ? ` ${f.chain}` : ''}`,
  ];
}

/** The DNS configurations of a namespace's tenants, each once, with who sees it (a container by its name). */
export function sharedDns(d: Discovery, net: NetworkNamespace): { who: string[]; dns: Dns }[] {
  const seen = new Map<string, { who: string[]; dns: Dns }>();
  for (const t of net.tenants) {
    const k = JSON.stringify(t.dns);
    const who = t.container ? (d.containers[t.container]?.name ?? t.comm) : `${t.comm} (${t.pid})`;
    const e = seen.get(k);
    if (e) e.who.push(who);
    else seen.set(k, { who: [who], dns: t.dns });
  }
  return [...seen.values()];
}
