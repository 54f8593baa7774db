/**
 * RTM_NEWROUTE / RTM_DELROUTE request payloads (struct rtmsg + RTA_*
 * attributes, include/uapi/linux/rtnetlink.h), the inverse of decodeRoute().
 * Pure: the caller sends them on a NETLINK_ROUTE socket.
 */
import { AttrBuilder } from '../netlink.js';
import {
  AF_INET,
  AF_INET6,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PRIORITY,
  RTA_TABLE,
  RTMSG_LEN,
  RTN_UNICAST,
  RTPROT_STATIC,
} from './constants.js';

/** A unicast route; `table` defaults to main. */
export interface RouteSpec {
  family: 'inet' | 'inet6';
  /** Destination bytes (4 or 16) and prefix length; length 0 is the default route. */
  dst: { addr: Buffer; len: number };
  gateway?: Buffer;
  oif?: number;
  metric?: number;
  table?: number;
}

/**
 * The payload of an RTM_NEWROUTE (protocol static, like `ip route add`) or
 * of an RTM_DELROUTE (`forDelete`: protocol 0 matches any). Scope universe
 * with a gateway, link without. The table goes in rtm_table (8 bits;
 * RT_TABLE_UNSPEC when larger, as iproute2 sends) and in RTA_TABLE (32 bits).
 */
export function routeMsg(r: RouteSpec, forDelete: boolean): Buffer {
  const table = r.table ?? RT_TABLE_MAIN;
  const h = Buffer.alloc(RTMSG_LEN);
  h.writeUInt8(r.family === 'inet' ? AF_INET : AF_INET6, 0);
  h.writeUInt8(r.dst.len, 1);
  h.writeUInt8(table < 256 ? table : 0, 4);
  h.writeUInt8(forDelete ? 0 : RTPROT_STATIC, 5);
  h.writeUInt8(r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, 6);
  h.writeUInt8(RTN_UNICAST, 7);
  const a = new AttrBuilder().u32(RTA_TABLE, table);
  if (r.dst.len > 0) a.raw(RTA_DST, r.dst.addr);
  if (r.gateway) a.raw(RTA_GATEWAY, r.gateway);
  if (r.oif !== undefined) a.u32(RTA_OIF, r.oif);
  if (r.metric !== undefined) a.u32(RTA_PRIORITY, r.metric);
  return Buffer.concat([h, a.build()]);
}
