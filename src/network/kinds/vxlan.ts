/**
 * VXLAN (drivers/net/vxlan/vxlan_core.c vxlan_fill_info): VNI, default
 * destination (IFLA_VXLAN_GROUP/GROUP6: multicast group, or unicast remote),
 * local address, UDP port, and the underlay device IFLA_VXLAN_LINK — an ifindex
 * in the namespace of the vxlan's UDP socket, reported as IFLA_LINK_NETNSID
 * when that differs from the device's own namespace (vxlan_get_link_net).
 */
import { parseAttrs, u8, u16be, u32 } from '../../kernel/netlink.js';
import {
  IFLA_VXLAN_GROUP,
  IFLA_VXLAN_GROUP6,
  IFLA_VXLAN_ID,
  IFLA_VXLAN_LEARNING,
  IFLA_VXLAN_LINK,
  IFLA_VXLAN_LOCAL,
  IFLA_VXLAN_LOCAL6,
  IFLA_VXLAN_PORT,
  IFLA_VXLAN_TTL,
} from '../../kernel/rtnetlink/constants.js';
import { ip } from '../../kernel/rtnetlink/format.js';
import type { Draft } from '../../model/types.js';
import type { KindHandler } from './types.js';

export function isMulticast(addr: string): boolean {
  if (addr.includes(':')) return addr.toLowerCase().startsWith('ff');
  const first = Number(addr.split('.')[0]);
  return first >= 224 && first <= 239;
}

export const vxlan: KindHandler = {
  kinds: ['vxlan'],
  decode(iface, data) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const v: NonNullable<Draft.Interface['vxlan']> = { vni: u32(m.get(IFLA_VXLAN_ID)) ?? 0 };
    const dst = ip(m.get(IFLA_VXLAN_GROUP)) ?? ip(m.get(IFLA_VXLAN_GROUP6));
    // The kernel sends the unset any-address too; that means "no default destination".
    if (dst && dst !== '0.0.0.0' && dst !== '::') {
      if (isMulticast(dst)) v.group = dst;
      else v.remote = dst;
    }
    const local = ip(m.get(IFLA_VXLAN_LOCAL)) ?? ip(m.get(IFLA_VXLAN_LOCAL6));
    if (local && local !== '0.0.0.0' && local !== '::') v.local = local;
    const port = u16be(m.get(IFLA_VXLAN_PORT));
    if (port !== undefined) v.port = port;
    const ttl = u8(m.get(IFLA_VXLAN_TTL));
    if (ttl !== undefined) v.ttl = ttl;
    const learning = u8(m.get(IFLA_VXLAN_LEARNING));
    if (learning !== undefined) v.learning = learning !== 0;
    iface.vxlan = v;
  },
  lower(data) {
    const l = data ? u32(parseAttrs(data).map.get(IFLA_VXLAN_LINK)) : undefined;
    return l ? l : undefined;
  },
  onLower(iface, ref) {
    if (iface.vxlan) iface.vxlan.underlay = { netns: ref.netns, index: ref.index };
  },
};
