/** Geneve (drivers/net/geneve.c geneve_fill_info): IFLA_GENEVE_ID, REMOTE/REMOTE6, PORT, TTL. */
import { parseAttrs, u8, u16be, u32 } from '../../kernel/netlink.js';
import { ip } from '../../kernel/rtnetlink/format.js';
import type { Draft } from '../../model/types.js';
import type { KindHandler } from './types.js';

const IFLA_GENEVE_ID = 1;
const IFLA_GENEVE_REMOTE = 2;
const IFLA_GENEVE_TTL = 3;
const IFLA_GENEVE_PORT = 5;
const IFLA_GENEVE_REMOTE6 = 7;

export const geneve: KindHandler = {
  kinds: ['geneve'],
  decode(iface, data) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const g: NonNullable<Draft.Interface['geneve']> = { vni: u32(m.get(IFLA_GENEVE_ID)) ?? 0 };
    const remote = ip(m.get(IFLA_GENEVE_REMOTE)) ?? ip(m.get(IFLA_GENEVE_REMOTE6));
    if (remote && remote !== '0.0.0.0' && remote !== '::') g.remote = remote;
    const port = u16be(m.get(IFLA_GENEVE_PORT));
    if (port !== undefined) g.port = port;
    const ttl = u8(m.get(IFLA_GENEVE_TTL));
    if (ttl !== undefined) g.ttl = ttl;
    iface.geneve = g;
  },
};
