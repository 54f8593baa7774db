/**
 * TUN/TAP (drivers/net/tun.c tun_fill_info, Linux >= 4.15): IFLA_TUN_TYPE,
 * OWNER, GROUP and the flag attributes. Holders (processes with the device
 * open) come from /proc/PID/fdinfo "iff:" lines, filled in later.
 */
import { parseAttrs, u8, u32 } from '../../kernel/netlink.js';
import type { Draft } from '../../model/types.js';
import type { KindHandler } from './types.js';

const IFLA_TUN_OWNER = 1;
const IFLA_TUN_GROUP = 2;
const IFLA_TUN_TYPE = 3;
const IFLA_TUN_PI = 4;
const IFLA_TUN_VNET_HDR = 5;
const IFLA_TUN_PERSIST = 6;
const IFLA_TUN_MULTI_QUEUE = 7;
/** IFF_TUN 0x0001, IFF_TAP 0x0002 (include/uapi/linux/if_tun.h). */
const IFF_TAP = 2;

export const tuntap: KindHandler = {
  kinds: ['tun'],
  decode(iface, data, link) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const type = u8(m.get(IFLA_TUN_TYPE));
    // Without IFLA_TUN_TYPE (old kernels) a tap still has an Ethernet ARPHRD (1), a tun has ARPHRD_NONE.
    const mode = type !== undefined ? (type === IFF_TAP ? 'tap' : 'tun') : link.type === 1 ? 'tap' : 'tun';
    const flags: string[] = [];
    if (u8(m.get(IFLA_TUN_PI))) flags.push('pi');
    if (u8(m.get(IFLA_TUN_VNET_HDR))) flags.push('vnet_hdr');
    if (u8(m.get(IFLA_TUN_PERSIST))) flags.push('persist');
    if (u8(m.get(IFLA_TUN_MULTI_QUEUE))) flags.push('multi_queue');
    const t: NonNullable<Draft.Interface['tuntap']> = { mode, flags, holders: [] };
    // (uid_t)-1 / (gid_t)-1 mean "no owner".
    const owner = u32(m.get(IFLA_TUN_OWNER));
    if (owner !== undefined && owner !== 0xffffffff) t.owner = owner;
    const group = u32(m.get(IFLA_TUN_GROUP));
    if (group !== undefined && group !== 0xffffffff) t.group = group;
    iface.tuntap = t;
  },
};
