/**
 * RTM_NEWROUTE decoding (struct rtmsg + RTA_* attributes, include/uapi/linux/rtnetlink.h).
 * Dumped with family AF_UNSPEC, the kernel answers for every family with a route
 * dump (IPv4, IPv6, and also IPMR/IP6MR/MPLS); only IPv4 and IPv6 are kept.
 */
import type { Draft } from '../../model/types.js';
import { parseAttrs, u8, u32 } from '../netlink.js';
import {
  ROUTE_PROTOCOLS,
  ROUTE_TYPES,
  ROUTER_PREFS,
  RTA_DST,
  RTA_GATEWAY,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTA_VIA,
  RTAX_MTU,
  RTM_F_NAMES,
  RTMSG_LEN,
  RTNH_F_NAMES,
  SCOPES,
} from './constants.js';
import { bits, familyName, ip } from './format.js';
import type { DecodeIssues } from './issues.js';

/** RTA_VIA carries struct rtvia { __kernel_sa_family_t rtvia_family; __u8 rtvia_addr[]; }. */
function via(b: Buffer | undefined): string | undefined {
  if (!b || b.length < 2) return undefined;
  return ip(b.subarray(2));
}

/** struct rtnexthop { __u16 rtnh_len; __u8 rtnh_flags; __u8 rtnh_hops; int rtnh_ifindex; } + attributes. */
export function decodeMultipath(b: Buffer, issues?: DecodeIssues): Draft.Route['nexthops'] {
  const out: Draft.Route['nexthops'] = [];
  let off = 0;
  while (off + 8 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 8 || off + len > b.length) {
      if (issues) issues.truncated++;
      break;
    }
    const nh: Draft.Route['nexthops'][number] = {
      flags: bits(b[off + 2] as number, RTNH_F_NAMES),
      weight: (b[off + 3] as number) + 1,
    };
    const dev = b.readInt32LE(off + 4);
    if (dev > 0) nh.dev = dev;
    if (len > 8) {
      const a = parseAttrs(b.subarray(off + 8, off + len));
      if (a.truncated && issues) issues.truncated++;
      const gw = ip(a.map.get(RTA_GATEWAY)) ?? via(a.map.get(RTA_VIA));
      if (gw) nh.gateway = gw;
    }
    out.push(nh);
    off += (len + 3) & ~3;
  }
  return out;
}

export function decodeRoute(data: Buffer, issues?: DecodeIssues): Draft.Route | undefined {
  if (data.length < RTMSG_LEN) {
    if (issues) issues.malformed++;
    return undefined;
  }
  const family = familyName(data[0] as number);
  if (!family) return undefined;
  const a = parseAttrs(data, RTMSG_LEN);
  if (a.truncated && issues) issues.truncated++;
  const m = a.map;
  const dstLen = data[1] as number;
  const srcLen = data[2] as number;
  const typeNum = data[7] as number;
  const protoNum = data[5] as number;
  const scopeNum = data[6] as number;
  const dst = ip(m.get(RTA_DST)) ?? (family === 'inet' ? '0.0.0.0' : '::');
  const route: Draft.Route = {
    family,
    type: ROUTE_TYPES[typeNum] ?? String(typeNum),
    protocol: ROUTE_PROTOCOLS[protoNum] ?? String(protoNum),
    scope: SCOPES[scopeNum] ?? String(scopeNum),
    // RTA_TABLE (u32) carries table ids above 255; rtm_table is 8 bits (RT_TABLE_COMPAT when large).
    table: u32(m.get(RTA_TABLE)) ?? (data[4] as number),
    dst: `${dst}/${dstLen}`,
    flags: bits(data.readUInt32LE(8), RTM_F_NAMES),
    nexthops: [],
  };
  const src = ip(m.get(RTA_SRC));
  if (src) route.src = `${src}/${srcLen}`;
  const prefsrc = ip(m.get(RTA_PREFSRC));
  if (prefsrc) route.prefsrc = prefsrc;
  const gw = ip(m.get(RTA_GATEWAY)) ?? via(m.get(RTA_VIA));
  if (gw) route.gateway = gw;
  const oif = u32(m.get(RTA_OIF));
  if (oif) route.dev = oif;
  const metric = u32(m.get(RTA_PRIORITY));
  if (metric !== undefined) route.metric = metric;
  const pref = u8(m.get(RTA_PREF));
  if (pref !== undefined && family === 'inet6') route.pref = ROUTER_PREFS[pref] ?? String(pref);
  const tos = data[3] as number;
  if (tos) route.tos = tos;
  const metrics = m.get(RTA_METRICS);
  if (metrics) {
    const mtu = u32(parseAttrs(metrics).map.get(RTAX_MTU));
    if (mtu) route.mtu = mtu;
  }
  const mp = m.get(RTA_MULTIPATH);
  if (mp) route.nexthops = decodeMultipath(mp, issues);
  return route;
}
