/** 802.1Q/802.1ad VLAN devices (net/8021q/vlan_netlink.c): IFLA_VLAN_ID, IFLA_VLAN_PROTOCOL; parent is IFLA_LINK. */
import { parseAttrs, u16, u16be } from '../../kernel/netlink.js';
import { ethProtocol } from './bridge.js';
import type { KindHandler } from './types.js';

const IFLA_VLAN_ID = 1;
const IFLA_VLAN_PROTOCOL = 5;

export const vlan: KindHandler = {
  kinds: ['vlan'],
  hasIflink: true,
  decode(iface, data) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    iface.vlan = {
      id: u16(m.get(IFLA_VLAN_ID)) ?? 0,
      // Absent on kernels before 3.10: 802.1Q is the only protocol they had.
      protocol: ethProtocol(u16be(m.get(IFLA_VLAN_PROTOCOL)) ?? 0x8100),
    };
  },
  onLink(iface, ref) {
    if (iface.vlan) iface.vlan.parent = { netns: ref.netns, index: ref.index };
  },
};
