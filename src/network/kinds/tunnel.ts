/**
 * IP tunnels: GRE family (net/ipv4/ip_gre.c, net/ipv6/ip6_gre.c: IFLA_GRE_*) and
 * ipip/sit/ip6tnl/vti (IFLA_IPTUN_* / IFLA_VTI_*). The underlay device is
 * IFLA_LINK (ip_tunnel_get_iflink returns parms.link), in the link namespace.
 */
import { parseAttrs, u8, u32be } from '../../kernel/netlink.js';
import { ip } from '../../kernel/rtnetlink/format.js';
import type { Draft } from '../../model/types.js';
import type { KindHandler } from './types.js';

// enum IFLA_GRE_* (include/uapi/linux/if_tunnel.h)
const IFLA_GRE_IKEY = 4;
const IFLA_GRE_OKEY = 5;
const IFLA_GRE_LOCAL = 6;
const IFLA_GRE_REMOTE = 7;
const IFLA_GRE_TTL = 8;
// enum IFLA_IPTUN_*
const IFLA_IPTUN_LOCAL = 2;
const IFLA_IPTUN_REMOTE = 3;
const IFLA_IPTUN_TTL = 4;
// enum IFLA_VTI_*
const IFLA_VTI_IKEY = 2;
const IFLA_VTI_OKEY = 3;
const IFLA_VTI_LOCAL = 4;
const IFLA_VTI_REMOTE = 5;

const GRE = ['gre', 'gretap', 'ip6gre', 'ip6gretap', 'erspan', 'ip6erspan'];
const IPTUN = ['ipip', 'sit', 'ip6tnl'];
const VTI = ['vti', 'vti6'];

const addr = (b: Buffer | undefined): string | undefined => {
  const a = ip(b);
  return a && a !== '0.0.0.0' && a !== '::' ? a : undefined;
};

export const tunnel: KindHandler = {
  kinds: [...GRE, ...IPTUN, ...VTI],
  hasIflink: true,
  decode(iface, data, link) {
    const m = data ? parseAttrs(data).map : new Map<number, Buffer>();
    const type = link.kind ?? 'unknown';
    const t: NonNullable<Draft.Interface['tunnel']> = { type };
    const [lo, re, ttl, ik, ok] = GRE.includes(type)
      ? [IFLA_GRE_LOCAL, IFLA_GRE_REMOTE, IFLA_GRE_TTL, IFLA_GRE_IKEY, IFLA_GRE_OKEY]
      : VTI.includes(type)
        ? [IFLA_VTI_LOCAL, IFLA_VTI_REMOTE, -1, IFLA_VTI_IKEY, IFLA_VTI_OKEY]
        : [IFLA_IPTUN_LOCAL, IFLA_IPTUN_REMOTE, IFLA_IPTUN_TTL, -1, -1];
    const local = addr(m.get(lo));
    if (local) t.local = local;
    const remote = addr(m.get(re));
    if (remote) t.remote = remote;
    const tt = u8(m.get(ttl));
    if (tt !== undefined) t.ttl = tt;
    // GRE/VTI keys are __be32 on the wire.
    const ikey = u32be(m.get(ik));
    if (ikey) t.ikey = ikey;
    const okey = u32be(m.get(ok));
    if (okey) t.okey = okey;
    iface.tunnel = t;
  },
  onLink(iface, ref) {
    if (iface.tunnel) iface.tunnel.underlay = { netns: ref.netns, index: ref.index };
  },
};
