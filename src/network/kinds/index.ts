/** The kind registry: IFLA_INFO_KIND → handler. Unknown kinds keep their kind string and no extra data. */
import { bond } from './bond.js';
import { bridge } from './bridge.js';
import { geneve } from './geneve.js';
import { ipvlan } from './ipvlan.js';
import { macvlan } from './macvlan.js';
import { dummy, team, wireguard } from './simple.js';
import { tunnel } from './tunnel.js';
import { tuntap } from './tuntap.js';
import type { KindHandler } from './types.js';
import { veth } from './veth.js';
import { vlan } from './vlan.js';
import { vrf } from './vrf.js';
import { vxlan } from './vxlan.js';

const handlers = new Map<string, KindHandler>();
for (const h of [
  veth,
  bridge,
  macvlan,
  ipvlan,
  vlan,
  vxlan,
  geneve,
  tunnel,
  bond,
  vrf,
  tuntap,
  dummy,
  wireguard,
  team,
]) {
  for (const k of h.kinds) handlers.set(k, h);
}

export function kindHandler(kind: string): KindHandler | undefined {
  return handlers.get(kind);
}

export type { KindHandler } from './types.js';
