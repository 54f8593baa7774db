/**
 * Native routes → v1 routes. Unlike Ghostwire (main and local tables only),
 * every table is passed on; the `table` field tells them apart.
 */
import type { Route } from '../../model/types.js';
import type { V1Context } from './context.js';
import { nifId } from './ids.js';
import { familyNumber } from './interfaces.js';
import type { IPRoute, RouteType } from './schema.js';
import { RouteTypes } from './values.js';

const ROUTE_TYPES = new Set<string>(RouteTypes);

/**
 * RTA_PREF (RFC 4191 router preference) as the two-bit binary string the
 * server prints with `%02b`: medium 00, high 01, low 11.
 */
export function preferenceBits(pref: string | undefined): IPRoute['preference'] {
  switch (pref?.toLowerCase()) {
    case 'high':
    case '1':
      return '01';
    case 'low':
    case '3':
      return '11';
    case 'invalid':
    case '2':
      return '10';
    default:
      return '00';
  }
}

/** "10.0.0.0/24" → ["10.0.0.0", 24]; a bare address is a host route. */
export function splitCidr(cidr: string, family: 'inet' | 'inet6'): [string, number] {
  if (cidr === 'default' || cidr === '') return [family === 'inet' ? '0.0.0.0' : '::', 0];
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return [cidr, family === 'inet' ? 32 : 128];
  return [cidr.slice(0, slash), Number.parseInt(cidr.slice(slash + 1), 10)];
}

/**
 * Appends one v1 route per next hop: v1 has room for a single device and gateway, so
 * a multipath route becomes one entry per path (same destination, table and
 * metric) instead of losing its paths.
 */
export function v1Routes(ctx: V1Context, netnsIno: number, route: Route, out: IPRoute[]): void {
  if (route.nexthops.length === 0) {
    out.push(v1Route(ctx, netnsIno, route, route.dev, route.gateway));
    return;
  }
  for (const h of route.nexthops) out.push(v1Route(ctx, netnsIno, route, h.dev, h.gateway));
}

/** One route object, built as a single literal: thousands of them per host, so no spreads. */
function v1Route(
  ctx: V1Context,
  netnsIno: number,
  route: Route,
  dev: number | undefined,
  gateway: string | undefined,
): IPRoute {
  const [destination, prefixlen] = splitCidr(route.dst, route.family);
  const type = ROUTE_TYPES.has(route.type) ? route.type : route.type.toLowerCase();
  const nif = dev === undefined ? undefined : ctx.interfaces.get(netnsIno)?.get(dev);
  const r: IPRoute = {
    family: familyNumber(route.family),
    type: (ROUTE_TYPES.has(type) ? type : 'unspec') as RouteType,
    destination,
    'destination-prefixlen': prefixlen,
    // The spec: "If -1 or 0, then no network interface is passed".
    index: dev ?? 0,
    'network-interface-idref': nif ? nifId(nif.netns, nif.index) : '',
    preference: preferenceBits(route.pref),
    priority: route.metric ?? 0,
    table: route.table,
  };
  if (gateway) {
    r['next-hop'] = gateway;
    r.nexthop = gateway;
  }
  return r;
}
