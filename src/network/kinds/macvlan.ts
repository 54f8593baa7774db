/** macvlan and macvtap (drivers/net/macvlan.c): IFLA_MACVLAN_MODE; the parent is IFLA_LINK. */
import { parseAttrs, u32 } from '../../kernel/netlink.js';
import { IFLA_MACVLAN_MODE } from '../../kernel/rtnetlink/constants.js';
import type { KindHandler } from './types.js';

/** MACVLAN_MODE_* (include/uapi/linux/if_link.h), single bits. */
const MODES: Record<number, string> = { 1: 'private', 2: 'vepa', 4: 'bridge', 8: 'passthru', 16: 'source' };

export const macvlan: KindHandler = {
  kinds: ['macvlan', 'macvtap'],
  hasIflink: true,
  decode(iface, data, link) {
    const mode = data ? u32(parseAttrs(data).map.get(IFLA_MACVLAN_MODE)) : undefined;
    iface.macvlan = {
      mode: mode === undefined ? 'unknown' : (MODES[mode] ?? String(mode)),
      macvtap: link.kind === 'macvtap',
    };
  },
  onLink(iface, ref) {
    if (iface.macvlan) iface.macvlan.parent = { netns: ref.netns, index: ref.index };
  },
};
