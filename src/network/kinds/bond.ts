/** Bonding (drivers/net/bonding/bond_netlink.c): IFLA_BOND_MODE, ACTIVE_SLAVE, MIIMON; slaves via IFLA_MASTER. */
import { parseAttrs, u8, u32 } from '../../kernel/netlink.js';
import type { Draft } from '../../model/types.js';
import type { KindHandler } from './types.js';

const IFLA_BOND_MODE = 1;
const IFLA_BOND_ACTIVE_SLAVE = 2;
const IFLA_BOND_MIIMON = 3;
/** BOND_MODE_* (include/uapi/linux/if_bonding.h). */
const MODES = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
];

export const bond: KindHandler = {
  kinds: ['bond'],
  decode(iface, data) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const mode = u8(m.get(IFLA_BOND_MODE));
    const b: NonNullable<Draft.Interface['bond']> = {
      mode: mode === undefined ? 'unknown' : (MODES[mode] ?? String(mode)),
    };
    const mii = u32(m.get(IFLA_BOND_MIIMON));
    if (mii !== undefined) b.miimon = mii;
    // The active slave is always in the bond's own namespace (slaves must be).
    const active = u32(m.get(IFLA_BOND_ACTIVE_SLAVE));
    if (active) b.activeSlave = { netns: iface.netns, index: active };
    iface.bond = b;
  },
};
