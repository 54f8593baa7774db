/**
 * Kinds with nothing to decode from IFLA_INFO_DATA for the model: dummy, ifb,
 * wireguard (its peers come through generic netlink, not rtnetlink), team
 * (configured through generic netlink too), nlmon.
 */
import type { KindHandler } from './types.js';

export const dummy: KindHandler = { kinds: ['dummy', 'ifb', 'nlmon'] };

export const wireguard: KindHandler = {
  kinds: ['wireguard'],
  decode(iface) {
    iface.wireguard = {};
  },
};

export const team: KindHandler = {
  kinds: ['team'],
  decode(iface) {
    iface.team = {};
  },
};
