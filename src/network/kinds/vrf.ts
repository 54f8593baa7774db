/** VRF devices (drivers/net/vrf.c): IFLA_VRF_TABLE; members via IFLA_MASTER. */
import { parseAttrs, u32 } from '../../kernel/netlink.js';
import type { KindHandler } from './types.js';

const IFLA_VRF_TABLE = 1;

export const vrf: KindHandler = {
  kinds: ['vrf'],
  decode(iface, data) {
    iface.vrf = { table: (data ? u32(parseAttrs(data).map.get(IFLA_VRF_TABLE)) : undefined) ?? 0 };
  },
};
