/**
 * RTM_NEWROUTE decoding (struct rtmsg + RTA_* attributes, include/uapi/linux/rtnetlink.h).
 * Dumped with family AF_UNSPEC, the kernel answers for every family with a route
 * dump (IPv4, IPv6, and also IPMR/IP6MR/MPLS); only IPv4 and IPv6 are kept.
 */
import type { Draft } from '../../model/types.js';
import { NLA_TYPE_MASK, parseAttrs, u32 } from '../netlink.js';
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
import { bits, familyName, ip, ipAt } from './format.js';
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
  const typeNum = data[7] as number;
  const protoNum = data[5] as number;
  const scopeNum = data[6] as number;
  const route: Draft.Route = {
    family,
    type: ROUTE_TYPES[typeNum] ?? String(typeNum),
    protocol: ROUTE_PROTOCOLS[protoNum] ?? String(protoNum),
    scope: SCOPES[scopeNum] ?? String(scopeNum),
    // RTA_TABLE (u32) below carries table ids above 255; rtm_table is 8 bits (RT_TABLE_COMPAT when large).
    table: data[4] as number,
    dst: '',
    flags: bits(data.readUInt32LE(8), RTM_F_NAMES),
    nexthops: [],
  };
  let dst: string | undefined;
  let gateway: string | undefined;
  let via: string | undefined;
  // Walked in place (no attribute map): routes are the most numerous messages.
  const n = data.length;
  let off = RTMSG_LEN;
  while (off + 4 <= n) {
    const len = data.readUInt16LE(off);
    if (len < 4 || off + len > n) {
      if (issues) issues.truncated++;
      break;
    }
    const type = data.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    const v = off + 4;
    const vlen = len - 4;
    switch (type) {
      case RTA_DST:
        dst = ipAt(data, v, vlen);
        break;
      case RTA_SRC: {
        const a = ipAt(data, v, vlen);
        if (a) route.src = `${a}/${data[2]}`;
        break;
      }
      case RTA_PREFSRC: {
        const a = ipAt(data, v, vlen);
        if (a) route.prefsrc = a;
        break;
      }
      case RTA_GATEWAY:
        gateway = ipAt(data, v, vlen);
        break;
      case RTA_VIA:
        // struct rtvia { __kernel_sa_family_t rtvia_family; __u8 rtvia_addr[]; }
        if (vlen > 2) via = ipAt(data, v + 2, vlen - 2);
        break;
      case RTA_OIF:
        if (vlen >= 4 && data.readUInt32LE(v)) route.dev = data.readUInt32LE(v);
        break;
      case RTA_PRIORITY:
        if (vlen >= 4) route.metric = data.readUInt32LE(v);
        break;
      case RTA_TABLE:
        if (vlen >= 4) route.table = data.readUInt32LE(v);
        break;
      case RTA_PREF:
        if (vlen >= 1 && family === 'inet6') route.pref = ROUTER_PREFS[data[v] as number] ?? String(data[v]);
        break;
      case RTA_METRICS: {
        const mtu = u32(parseAttrs(data.subarray(v, v + vlen)).map.get(RTAX_MTU));
        if (mtu) route.mtu = mtu;
        break;
      }
      case RTA_MULTIPATH:
        route.nexthops = decodeMultipath(data.subarray(v, v + vlen), issues);
        break;
    }
    off += (len + 3) & ~3;
  }
  route.dst = `${dst ?? (family === 'inet' ? '0.0.0.0' : '::')}/${data[1]}`;
  const gw = gateway ?? via;
  if (gw) route.gateway = gw;
  const tos = data[3] as number;
  if (tos) route.tos = tos;
  return route;
}
