/**
 * Linux bridges (net/bridge/br_netlink.c): IFLA_BR_* in IFLA_INFO_DATA, and
 * IFLA_BRPORT_* in IFLA_INFO_SLAVE_DATA of each port. Ports are found through
 * the ports' IFLA_MASTER. Times are in USER_HZ (1/100 s) as the kernel sends them.
 */
import { parseAttrs, u8, u16, u16be, u32 } from '../../kernel/netlink.js';
import type { Draft } from '../../model/types.js';
import type { KindHandler } from './types.js';

// enum IFLA_BR_* (include/uapi/linux/if_link.h)
const IFLA_BR_FORWARD_DELAY = 1;
const IFLA_BR_AGEING_TIME = 4;
const IFLA_BR_STP_STATE = 5;
const IFLA_BR_VLAN_FILTERING = 7;
const IFLA_BR_VLAN_PROTOCOL = 8;
const IFLA_BR_VLAN_DEFAULT_PVID = 39;
// enum IFLA_BRPORT_*
const IFLA_BRPORT_STATE = 1;
const IFLA_BRPORT_PRIORITY = 2;
const IFLA_BRPORT_COST = 3;

/** BR_STATE_* (include/uapi/linux/if_bridge.h). */
const PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

export const ethProtocol = (p: number): string =>
  p === 0x8100 ? '802.1Q' : p === 0x88a8 ? '802.1ad' : `0x${p.toString(16).padStart(4, '0')}`;

export const bridge: KindHandler = {
  kinds: ['bridge'],
  decode(iface, data) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const br: NonNullable<Draft.Interface['bridge']> = {
      stp: (u32(m.get(IFLA_BR_STP_STATE)) ?? 0) !== 0,
      vlanFiltering: (u8(m.get(IFLA_BR_VLAN_FILTERING)) ?? 0) !== 0,
    };
    const fd = u32(m.get(IFLA_BR_FORWARD_DELAY));
    if (fd !== undefined) br.forwardDelay = fd;
    const at = u32(m.get(IFLA_BR_AGEING_TIME));
    if (at !== undefined) br.ageingTime = at;
    const vp = u16be(m.get(IFLA_BR_VLAN_PROTOCOL));
    if (vp !== undefined) br.vlanProtocol = ethProtocol(vp);
    const pvid = u16(m.get(IFLA_BR_VLAN_DEFAULT_PVID));
    if (pvid !== undefined) br.defaultPvid = pvid;
    iface.bridge = br;
  },
};

/** IFLA_INFO_SLAVE_DATA of a bridge port. */
export function decodeBridgePort(data: Buffer | undefined): NonNullable<Draft.Interface['bridgePort']> {
  const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
  const out: NonNullable<Draft.Interface['bridgePort']> = {};
  const st = u8(m.get(IFLA_BRPORT_STATE));
  if (st !== undefined) out.state = PORT_STATES[st] ?? String(st);
  const cost = u32(m.get(IFLA_BRPORT_COST));
  if (cost !== undefined) out.cost = cost;
  const prio = u16(m.get(IFLA_BRPORT_PRIORITY));
  if (prio !== undefined) out.priority = prio;
  return out;
}
