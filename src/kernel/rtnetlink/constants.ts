/**
 * rtnetlink numbers, from the kernel's uapi headers:
 * include/uapi/linux/rtnetlink.h (RTM_*, RTA_*, RTN_*, RTPROT_*, RT_SCOPE_*),
 * include/uapi/linux/if_link.h (IFLA_*), include/uapi/linux/if_addr.h (IFA_*),
 * include/uapi/linux/neighbour.h (NDA_*, NUD_*, NTF_*), include/uapi/linux/fib_rules.h
 * (FRA_*, FR_ACT_*), include/uapi/linux/net_namespace.h (NETNSA_*), include/uapi/linux/if.h (IFF_*),
 * include/uapi/linux/veth.h (VETH_INFO_*), include/uapi/linux/pkt_sched.h (TC_H_*, netem).
 */

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNEIGH = 28;
export const RTM_GETNEIGH = 30;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;
export const RTM_NEWQDISC = 36;
export const RTM_NEWNSID = 88;
export const RTM_GETNSID = 90;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;

/** sizeof(struct ifinfomsg), ifaddrmsg, rtmsg, ndmsg, fib_rule_hdr, rtgenmsg (aligned). */
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;
export const NDMSG_LEN = 12;
export const FIB_RULE_HDR_LEN = 12;
export const RTGENMSG_LEN = 4;

// enum IFLA_* (if_link.h)
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_TXQLEN = 13;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_IFALIAS = 20;
export const IFLA_STATS64 = 23;
export const IFLA_NET_NS_FD = 28;
export const IFLA_LINK_NETNSID = 37;
export const IFLA_EXT_MASK = 29;
export const IFLA_PROP_LIST = 52;
export const IFLA_ALT_IFNAME = 53;
export const IFLA_PARENT_DEV_NAME = 56;
export const IFLA_PARENT_DEV_BUS_NAME = 57;

// enum IFLA_INFO_* (if_link.h)
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_INFO_SLAVE_KIND = 4;
export const IFLA_INFO_SLAVE_DATA = 5;

/** VETH_INFO_PEER (veth.h): the peer's struct ifinfomsg + IFLA_* attributes. */
export const VETH_INFO_PEER = 1;
/** IFLA_MACVLAN_MODE (if_link.h) and enum macvlan_mode, single bits. */
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODES: Record<string, number> = {
  private: 1,
  vepa: 2,
  bridge: 4,
  passthru: 8,
  source: 16,
};
// enum IFLA_VXLAN_* (if_link.h)
export const IFLA_VXLAN_ID = 1;
export const IFLA_VXLAN_GROUP = 2;
export const IFLA_VXLAN_LINK = 3;
export const IFLA_VXLAN_LOCAL = 4;
export const IFLA_VXLAN_TTL = 5;
export const IFLA_VXLAN_LEARNING = 7;
export const IFLA_VXLAN_PORT = 15;
export const IFLA_VXLAN_GROUP6 = 16;
export const IFLA_VXLAN_LOCAL6 = 17;

/** RTEXT_FILTER_SKIP_STATS would drop IFLA_STATS; we want stats64, so no ext mask at all. */

// enum IFA_* (if_addr.h)
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_ANYCAST = 5;
export const IFA_CACHEINFO = 6;
export const IFA_FLAGS = 8;
/** IFA_F_NODAD, IFA_F_PERMANENT (if_addr.h; all names in IFA_F_NAMES). */
export const IFA_F_NODAD = 0x02;
export const IFA_F_PERMANENT = 0x80;

// enum RTA_* (rtnetlink.h)
export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_MULTIPATH = 9;
export const RTA_TABLE = 15;
export const RTA_VIA = 18;
export const RTA_PREF = 20;
export const RTA_NH_ID = 30;
/** enum RTAX_* inside RTA_METRICS. */
export const RTAX_MTU = 2;

// enum FRA_* (fib_rules.h)
export const FRA_DST = 1;
export const FRA_SRC = 2;
export const FRA_IIFNAME = 3;
export const FRA_GOTO = 4;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_SUPPRESS_PREFIXLEN = 14;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_PROTOCOL = 21;
export const FIB_RULE_INVERT = 0x2;
/** FR_ACT_TO_TBL: look the packet up in the rule's table. */
export const FR_ACT_TO_TBL = 1;

// enum NDA_* (neighbour.h)
export const NDA_DST = 1;
export const NDA_LLADDR = 2;

// enum NETNSA_* (net_namespace.h)
export const NETNSA_NSID = 1;
export const NETNSA_PID = 2;
export const NETNSA_FD = 3;
/** NETNSA_NSID_NOT_ASSIGNED */
export const NSID_NOT_ASSIGNED = -1;

/** IFF_* net_device_flags (if.h), in bit order. */
export const IFF_NAMES: readonly [number, string][] = [
  [0x1, 'up'],
  [0x2, 'broadcast'],
  [0x4, 'debug'],
  [0x8, 'loopback'],
  [0x10, 'pointopoint'],
  [0x20, 'notrailers'],
  [0x40, 'running'],
  [0x80, 'noarp'],
  [0x100, 'promisc'],
  [0x200, 'allmulti'],
  [0x400, 'master'],
  [0x800, 'slave'],
  [0x1000, 'multicast'],
  [0x2000, 'portsel'],
  [0x4000, 'automedia'],
  [0x8000, 'dynamic'],
  [0x10000, 'lower_up'],
  [0x20000, 'dormant'],
  [0x40000, 'echo'],
];
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;

/** IF_OPER_* (RFC 2863 operational states, if.h). */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

/** IFA_F_* (if_addr.h). */
export const IFA_F_NAMES: readonly [number, string][] = [
  [0x01, 'secondary'],
  [0x02, 'nodad'],
  [0x04, 'optimistic'],
  [0x08, 'dadfailed'],
  [0x10, 'homeaddress'],
  [0x20, 'deprecated'],
  [0x40, 'tentative'],
  [0x80, 'permanent'],
  [0x100, 'managetempaddr'],
  [0x200, 'noprefixroute'],
  [0x400, 'mcautojoin'],
  [0x800, 'stable-privacy'],
];

/** RT_SCOPE_* (rtnetlink.h); other values are user-defined and shown as numbers. */
export const SCOPES: Record<number, string> = {
  0: 'global',
  200: 'site',
  253: 'link',
  254: 'host',
  255: 'nowhere',
};

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;

/** RTN_UNICAST; every RTN_* route type (rtnetlink.h), by value, in ROUTE_TYPES. */
export const RTN_UNICAST = 1;
/** RTN_* route types (rtnetlink.h), by value. */
export const ROUTE_TYPES = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
];

/** RTPROT_STATIC: what `ip route add` and the lab builder install ("proto static"). */
export const RTPROT_STATIC = 4;
/** RTPROT_* (rtnetlink.h) plus the well-known values of /etc/iproute2/rt_protos. */
export const ROUTE_PROTOCOLS: Record<number, string> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  17: 'mrouted',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};

/** RTNH_F_* next-hop flags and RTM_F_* route flags (rtnetlink.h). */
export const RTNH_F_NAMES: readonly [number, string][] = [
  [0x1, 'dead'],
  [0x2, 'pervasive'],
  [0x4, 'onlink'],
  [0x8, 'offload'],
  [0x10, 'linkdown'],
  [0x20, 'unresolved'],
  [0x40, 'trap'],
];
export const RTM_F_NAMES: readonly [number, string][] = [
  ...RTNH_F_NAMES,
  [0x200, 'cloned'],
  [0x400, 'equalize'],
  [0x800, 'prefix'],
];

/** ICMPV6_ROUTER_PREF_* values as carried in RTA_PREF (icmpv6.h). */
export const ROUTER_PREFS: Record<number, string> = { 0: 'medium', 1: 'high', 2: 'invalid', 3: 'low' };

/** FR_ACT_* (fib_rules.h). */
export const RULE_ACTIONS = [
  'unspec',
  'to_tbl',
  'goto',
  'nop',
  'res3',
  'res4',
  'blackhole',
  'unreachable',
  'prohibit',
];

/** NUD_* neighbour states and NTF_* flags (neighbour.h). */
export const NUD_NAMES: readonly [number, string][] = [
  [0x01, 'incomplete'],
  [0x02, 'reachable'],
  [0x04, 'stale'],
  [0x08, 'delay'],
  [0x10, 'probe'],
  [0x20, 'failed'],
  [0x40, 'noarp'],
  [0x80, 'permanent'],
];
export const NTF_NAMES: readonly [number, string][] = [
  [0x01, 'use'],
  [0x02, 'self'],
  [0x04, 'master'],
  [0x08, 'proxy'],
  [0x10, 'extern_learn'],
  [0x20, 'offloaded'],
  [0x40, 'sticky'],
  [0x80, 'router'],
];

/** Table ids with names (rtnetlink.h enum rt_class_t). */
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

/**
 * rtnetlink multicast groups (include/uapi/linux/rtnetlink.h enum rtnetlink_groups).
 * Every notification is sent from the code path that changes the table
 * (rtnl_notify -> netlink_broadcast queues the skb on listeners synchronously).
 */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV4_RULE = 8;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;
export const RTNLGRP_IPV6_RULE = 19;
export const RTNLGRP_IPV4_NETCONF = 24;
export const RTNLGRP_IPV6_NETCONF = 25;
export const RTNLGRP_NEXTHOP = 32;

/** The bind() mask for groups 1..32: group n is bit n-1. */
export const groupMask = (groups: readonly number[]): number =>
  groups.reduce((m, g) => (m | (1 << (g - 1))) >>> 0, 0);

/**
 * Every group whose messages announce a change to what the network stage reads and reuses
 * between runs: links, addresses, routes and next hops, rules, and the forwarding switches
 * (netconf). Neighbours and sockets are read every run. The network stage's per-namespace
 * monitor and the service's change watcher both listen to these (one set, so the two never
 * disagree on what counts as a change). Every notification is sent from the code path that
 * changes the table, so a change made before a drain is seen.
 */
export const CONFIG_CHANGE_GROUPS = groupMask([
  RTNLGRP_LINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV6_RULE,
  RTNLGRP_IPV4_NETCONF,
  RTNLGRP_IPV6_NETCONF,
  RTNLGRP_NEXTHOP,
]);

// Traffic control (include/uapi/linux/rtnetlink.h TCA_*, pkt_sched.h)
/** sizeof(struct tcmsg). */
export const TCMSG_LEN = 20;
export const TCA_KIND = 1;
export const TCA_OPTIONS = 2;
/** TC_H_ROOT: the qdisc attached to the device itself. */
export const TC_H_ROOT = 0xffffffff;
