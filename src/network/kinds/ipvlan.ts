/** ipvlan and ipvtap (drivers/net/ipvlan): IFLA_IPVLAN_MODE and _FLAGS; the parent is IFLA_LINK. */
import { parseAttrs, u16 } from '../../kernel/netlink.js';
import type { KindHandler } from './types.js';

const IFLA_IPVLAN_MODE = 1;
const IFLA_IPVLAN_FLAGS = 2;
/** enum ipvlan_mode: IPVLAN_MODE_L2, _L3, _L3S. */
const MODES = ['l2', 'l3', 'l3s'];
/** IPVLAN_F_PRIVATE 0x01, IPVLAN_F_VEPA 0x02; neither = bridge. */
function flagNames(f: number): string[] {
  const out: string[] = [];
  if (f & 1) out.push('private');
  if (f & 2) out.push('vepa');
  if (!(f & 3)) out.push('bridge');
  return out;
}

export const ipvlan: KindHandler = {
  kinds: ['ipvlan', 'ipvtap'],
  hasIflink: true,
  decode(iface, data) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const mode = u16(m.get(IFLA_IPVLAN_MODE));
    iface.ipvlan = {
      mode: mode === undefined ? 'unknown' : (MODES[mode] ?? String(mode)),
      flags: flagNames(u16(m.get(IFLA_IPVLAN_FLAGS)) ?? 0),
    };
  },
  onLink(iface, ref) {
    if (iface.ipvlan) iface.ipvlan.parent = { netns: ref.netns, index: ref.index };
  },
};
