/** veth pairs (drivers/net/veth.c): the peer is IFLA_LINK (+ IFLA_LINK_NETNSID); no IFLA_INFO_DATA in dumps. */
import type { KindHandler } from './types.js';

export const veth: KindHandler = {
  kinds: ['veth'],
  hasIflink: true,
  decode(iface) {
    iface.veth = {};
  },
  onLink(iface, ref) {
    iface.veth = { peer: { netns: ref.netns, index: ref.index } };
  },
};
