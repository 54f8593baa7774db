/**
 * rtnetlink requests the lab builder sends (include/uapi/linux/rtnetlink.h,
 * if_link.h, if_addr.h, veth.h, pkt_sched.h), plus the few dumps it needs to
 * diff what it wants against what the kernel has. One NETLINK_ROUTE socket per
 * namespace, created inside it with withNetns() and then used from the main
 * thread: building 200 namespaces costs a few hundred requests, no processes.
 */
import { readFileSync } from 'node:fs';
import { close, O_CLOEXEC, O_RDONLY, open } from '../kernel/libc.js';
import {
  AttrBuilder,
  NETLINK_ROUTE,
  NetlinkError,
  NetlinkSocket,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  parseAttrs,
  str,
  u32,
} from '../kernel/netlink.js';
import { withNetns } from '../kernel/netns.js';
import { RTM_GETRULE } from '../kernel/rtnetlink/constants.js';
import { decodeRule } from '../kernel/rtnetlink/rule.js';
import { buildRuleMsg, RTM_DELRULE, RTM_NEWRULE, type RuleSpec } from '../kernel/rtnetlink/rule-msg.js';
import type { Draft } from '../model/types.js';
import { bytesToIp, type Cidr, ipBytes } from './ip.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;
const RTM_NEWQDISC = 36;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_NET_NS_FD = 28;
const IFLA_LINK_NETNSID = 37;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_MACVLAN_MODE = 1;
const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_GROUP = 2;
const IFLA_VXLAN_LINK = 3;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_PORT = 15;
const IFLA_VXLAN_GROUP6 = 16;
const IFLA_VXLAN_LOCAL6 = 17;
const IFF_UP = 0x1;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_FLAGS = 8;
const IFA_F_NODAD = 0x02;
const IFA_F_PERMANENT = 0x80;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
/** Routes the lab adds carry RTPROT_STATIC ("proto static"), like `ip route add`. */
export const RTPROT_STATIC = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RTN_UNICAST = 1;

const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TC_H_ROOT = 0xffffffff;

/** Macvlan modes (enum macvlan_mode, if_link.h). */
export const MACVLAN_MODES: Record<string, number> = {
  private: 1,
  vepa: 2,
  bridge: 4,
  passthru: 8,
  source: 16,
};

function ifinfomsg(index = 0, flags = 0, change = 0, family = AF_UNSPEC): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

const macBytes = (mac: string): Buffer => Buffer.from(mac.split(':').map((h) => Number.parseInt(h, 16)));
const macString = (b: Buffer | undefined): string | undefined =>
  b && b.length === 6 ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : undefined;

export interface LinkState {
  index: number;
  name: string;
  kind: string;
  alias?: string;
  mtu: number;
  mac?: string;
  master?: number;
  up: boolean;
  /** IFLA_LINK: veth peer or lower device index (in the namespace IFLA_LINK_NETNSID names, if any). */
  link?: number;
  /** The lower device is in another namespace (IFLA_LINK_NETNSID present). */
  linkElsewhere?: boolean;
  macvlanMode?: number;
  vxlan?: { vni?: number; remote?: string; local?: string; port?: number; link?: number };
}

export interface AddrState {
  index: number;
  family: 'inet' | 'inet6';
  address: string;
  prefixlen: number;
  scope: number;
  permanent: boolean;
}

export interface RouteState {
  family: 'inet' | 'inet6';
  dst: string;
  dstLen: number;
  gateway?: string;
  oif?: number;
  protocol: number;
  metric?: number;
  type: number;
  table: number;
}

/** What a route request needs; `table` defaults to main. */
export interface RouteReq {
  dst: Cidr;
  gateway?: string;
  oif?: number;
  metric?: number;
  table?: number;
}

/** Common attributes of a new interface. */
export interface NewLinkOpts {
  mtu?: number;
  mac?: string;
  /** Namespace fd to create the device in (else the socket's namespace). */
  nsFd?: number;
}

function addCommon(a: AttrBuilder, name: string, o: NewLinkOpts): void {
  a.str(IFLA_IFNAME, name);
  if (o.mtu !== undefined) a.u32(IFLA_MTU, o.mtu);
  if (o.mac !== undefined) a.raw(IFLA_ADDRESS, macBytes(o.mac));
  if (o.nsFd !== undefined) a.u32(IFLA_NET_NS_FD, o.nsFd);
}

/** A namespace the builder works in: an fd that keeps it referenced plus one rtnetlink socket. */
export class NsHandle {
  readonly sock: NetlinkSocket;
  private constructor(
    readonly key: string,
    readonly fd: number,
  ) {
    this.sock = withNetns(fd, () => new NetlinkSocket(NETLINK_ROUTE, { rcvbuf: 1 << 20 }));
  }

  static open(key: string, path: string): NsHandle {
    const fd = open(path, O_RDONLY | O_CLOEXEC);
    try {
      return new NsHandle(key, fd);
    } catch (e) {
      close(fd);
      throw e;
    }
  }

  close(): void {
    this.sock.close();
    close(this.fd);
  }

  private newlink(name: string, attrs: AttrBuilder, what: string): void {
    this.sock.request(
      RTM_NEWLINK,
      NLM_F_CREATE | NLM_F_EXCL,
      Buffer.concat([ifinfomsg(), attrs.build()]),
      `${what} ${name}`,
    );
  }

  /** veth pair: `name` here, `peer` in the namespace `peerNsFd` (VETH_INFO_PEER carries its own ifinfomsg). */
  createVeth(name: string, o: NewLinkOpts, peer: string, po: NewLinkOpts): void {
    const p = new AttrBuilder();
    addCommon(p, peer, po);
    const data = new AttrBuilder().raw(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), p.build()]));
    const a = new AttrBuilder();
    addCommon(a, name, o);
    a.nested(IFLA_LINKINFO, new AttrBuilder().str(IFLA_INFO_KIND, 'veth').nested(IFLA_INFO_DATA, data));
    this.newlink(name, a, 'create veth');
  }

  createBridge(name: string, o: NewLinkOpts): void {
    const a = new AttrBuilder();
    addCommon(a, name, o);
    a.nested(IFLA_LINKINFO, new AttrBuilder().str(IFLA_INFO_KIND, 'bridge'));
    this.newlink(name, a, 'create bridge');
  }

  /** macvlan on `parentIndex` (in this namespace), created in `o.nsFd` when given. */
  createMacvlan(name: string, parentIndex: number, mode: string, o: NewLinkOpts): void {
    const a = new AttrBuilder();
    addCommon(a, name, o);
    a.u32(IFLA_LINK, parentIndex);
    a.nested(
      IFLA_LINKINFO,
      new AttrBuilder()
        .str(IFLA_INFO_KIND, 'macvlan')
        .nested(IFLA_INFO_DATA, new AttrBuilder().u32(IFLA_MACVLAN_MODE, MACVLAN_MODES[mode] ?? 4)),
    );
    this.newlink(name, a, 'create macvlan');
  }

  /**
   * vxlan whose UDP socket lives in this namespace (the one it is created in:
   * the kernel keeps vxlan->net), moved to `o.nsFd` when given.
   */
  createVxlan(
    name: string,
    v: { vni: number; remote?: string; local?: string; port: number; underlayIndex?: number },
    o: NewLinkOpts,
  ): void {
    const d = new AttrBuilder().u32(IFLA_VXLAN_ID, v.vni).u16be(IFLA_VXLAN_PORT, v.port);
    if (v.remote) {
      const b = ipBytes(v.remote);
      d.raw(b.length === 4 ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, b);
    }
    if (v.local) {
      const b = ipBytes(v.local);
      d.raw(b.length === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, b);
    }
    if (v.underlayIndex !== undefined) d.u32(IFLA_VXLAN_LINK, v.underlayIndex);
    const a = new AttrBuilder();
    addCommon(a, name, o);
    a.nested(IFLA_LINKINFO, new AttrBuilder().str(IFLA_INFO_KIND, 'vxlan').nested(IFLA_INFO_DATA, d));
    this.newlink(name, a, 'create vxlan');
  }

  /** Changes an existing interface (by index); only the given fields. */
  setLink(
    index: number,
    s: { up?: boolean; mtu?: number; mac?: string; master?: number; alias?: string },
    what: string,
  ): void {
    const a = new AttrBuilder();
    if (s.mtu !== undefined) a.u32(IFLA_MTU, s.mtu);
    if (s.mac !== undefined) a.raw(IFLA_ADDRESS, macBytes(s.mac));
    if (s.master !== undefined) a.u32(IFLA_MASTER, s.master);
    if (s.alias !== undefined) a.str(IFLA_IFALIAS, s.alias);
    const flags = s.up ? IFF_UP : 0;
    const change = s.up !== undefined ? IFF_UP : 0;
    this.sock.request(
      RTM_NEWLINK,
      0,
      Buffer.concat([ifinfomsg(index, flags, change), a.build()]),
      `set ${what}`,
    );
  }

  delLink(index: number, what: string): void {
    try {
      this.sock.request(RTM_DELLINK, 0, ifinfomsg(index), `delete ${what}`);
    } catch (e) {
      // ENODEV: already gone (e.g. the veth peer took it along).
      if (!(e instanceof NetlinkError && e.errno === 19)) throw e;
    }
  }

  private addrMsg(index: number, c: Cidr): Buffer {
    const h = Buffer.alloc(8);
    h.writeUInt8(c.family === 'inet' ? AF_INET : AF_INET6, 0);
    h.writeUInt8(c.prefixlen, 1);
    h.writeUInt8(0, 3); // RT_SCOPE_UNIVERSE
    h.writeUInt32LE(index, 4);
    const b = ipBytes(c.address);
    const a = new AttrBuilder().raw(IFA_LOCAL, b).raw(IFA_ADDRESS, b);
    // IPv6: skip duplicate address detection so the address is usable at once, not "tentative".
    if (c.family === 'inet6') a.u32(IFA_FLAGS, IFA_F_NODAD);
    return Buffer.concat([h, a.build()]);
  }

  addAddr(index: number, c: Cidr, what: string): void {
    this.sock.request(
      RTM_NEWADDR,
      NLM_F_CREATE | NLM_F_EXCL,
      this.addrMsg(index, c),
      `add address ${c.address}/${c.prefixlen} to ${what}`,
    );
  }

  delAddr(index: number, c: Cidr, what: string): void {
    this.sock.request(
      RTM_DELADDR,
      0,
      this.addrMsg(index, c),
      `delete address ${c.address}/${c.prefixlen} from ${what}`,
    );
  }

  private routeMsg(r: RouteReq, forDelete: boolean): Buffer {
    const table = r.table ?? RT_TABLE_MAIN;
    const h = Buffer.alloc(12);
    h.writeUInt8(r.dst.family === 'inet' ? AF_INET : AF_INET6, 0);
    h.writeUInt8(r.dst.prefixlen, 1);
    // rtm_table is 8 bits: larger ids go only in RTA_TABLE (iproute2 sends RT_TABLE_UNSPEC here).
    h.writeUInt8(table < 256 ? table : 0, 4);
    h.writeUInt8(forDelete ? 0 : RTPROT_STATIC, 5);
    h.writeUInt8(r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, 6);
    h.writeUInt8(RTN_UNICAST, 7);
    const a = new AttrBuilder().u32(RTA_TABLE, table);
    if (r.dst.prefixlen > 0) a.raw(RTA_DST, ipBytes(r.dst.address));
    if (r.gateway) a.raw(RTA_GATEWAY, ipBytes(r.gateway));
    if (r.oif !== undefined) a.u32(RTA_OIF, r.oif);
    if (r.metric !== undefined) a.u32(RTA_PRIORITY, r.metric);
    return Buffer.concat([h, a.build()]);
  }

  addRoute(r: RouteReq, what: string): void {
    this.sock.request(
      RTM_NEWROUTE,
      NLM_F_CREATE | NLM_F_REPLACE,
      this.routeMsg(r, false),
      `add route ${what}`,
    );
  }

  delRoute(r: RouteReq, what: string): void {
    this.sock.request(RTM_DELROUTE, 0, this.routeMsg(r, true), `delete route ${what}`);
  }

  /**
   * A policy rule marked RTPROT_STATIC (FRA_PROTOCOL), so it is told apart from
   * the kernel's own rules (protocol "kernel"). NLM_F_EXCL: fib_rules.c would
   * otherwise add a second identical rule.
   */
  addRule(r: Omit<RuleSpec, 'protocol'>, what: string): void {
    this.sock.request(
      RTM_NEWRULE,
      NLM_F_CREATE | NLM_F_EXCL,
      buildRuleMsg({ ...r, protocol: RTPROT_STATIC }),
      `add rule ${what}`,
    );
  }

  /** Deletes the rule with exactly these selectors, priority and table. */
  delRule(r: Omit<RuleSpec, 'protocol'>, what: string): void {
    try {
      this.sock.request(RTM_DELRULE, 0, buildRuleMsg(r), `delete rule ${what}`);
    } catch (e) {
      // ENOENT: already gone.
      if (!(e instanceof NetlinkError && e.errno === 2)) throw e;
    }
  }

  /** IPv4 and IPv6 rules (an AF_UNSPEC dump also answers for ipmr/ip6mr: skipped). */
  rules(): Draft.Rule[] {
    const out: Draft.Rule[] = [];
    for (const m of this.sock.dump(RTM_GETRULE, Buffer.alloc(12), 'dump rules').messages) {
      if (m.type !== RTM_NEWRULE) continue;
      const r = decodeRule(m.data);
      if (r && (m.data[0] === AF_INET || m.data[0] === AF_INET6)) out.push(r);
    }
    return out;
  }

  /** Root netem qdisc (include/uapi/linux/pkt_sched.h struct tc_netem_qopt). */
  addNetem(index: number, n: { delayUs: number; jitterUs: number; lossPct: number }, what: string): void {
    const h = Buffer.alloc(20);
    h.writeUInt8(AF_UNSPEC, 0);
    h.writeInt32LE(index, 4);
    h.writeUInt32LE(0, 8);
    h.writeUInt32LE(TC_H_ROOT, 12);
    const tick = psched();
    const q = Buffer.alloc(24);
    q.writeUInt32LE(Math.round(n.delayUs * tick), 0);
    q.writeUInt32LE(1000, 4);
    q.writeUInt32LE(Math.round((n.lossPct / 100) * 0xffffffff) >>> 0, 8);
    q.writeUInt32LE(Math.round(n.jitterUs * tick), 20);
    const a = new AttrBuilder().str(TCA_KIND, 'netem').raw(TCA_OPTIONS, q);
    try {
      this.sock.request(
        RTM_NEWQDISC,
        NLM_F_CREATE | NLM_F_REPLACE,
        Buffer.concat([h, a.build()]),
        `netem on ${what}`,
      );
    } catch (e) {
      // The qdisc kind is looked up (and request_module'd) by name: ENOENT means no sch_netem.
      if (e instanceof NetlinkError && e.errno === 2) {
        throw new Error(`netem on ${what}: this kernel has no sch_netem (qdisc kind "netem" is unknown)`);
      }
      throw e;
    }
  }

  links(): LinkState[] {
    const out: LinkState[] = [];
    for (const m of this.sock.dump(RTM_GETLINK, ifinfomsg(), 'dump links').messages) {
      if (m.type !== RTM_NEWLINK || m.data.length < 16) continue;
      const a = parseAttrs(m.data, 16).map;
      const info = a.get(IFLA_LINKINFO);
      const im = info ? parseAttrs(info).map : undefined;
      const kind = str(im?.get(IFLA_INFO_KIND));
      const data = im?.get(IFLA_INFO_DATA);
      const l: LinkState = {
        index: m.data.readInt32LE(4),
        name: str(a.get(IFLA_IFNAME)) ?? '',
        kind: kind ?? 'other',
        mtu: u32(a.get(IFLA_MTU)) ?? 0,
        up: (m.data.readUInt32LE(8) & IFF_UP) !== 0,
      };
      const alias = str(a.get(IFLA_IFALIAS));
      if (alias) l.alias = alias;
      const mac = macString(a.get(IFLA_ADDRESS));
      if (mac) l.mac = mac;
      const master = u32(a.get(IFLA_MASTER));
      if (master) l.master = master;
      const link = u32(a.get(IFLA_LINK));
      if (link) l.link = link;
      if (a.has(IFLA_LINK_NETNSID)) l.linkElsewhere = true;
      if (data && kind === 'macvlan') {
        const mode = u32(parseAttrs(data).map.get(IFLA_MACVLAN_MODE));
        if (mode !== undefined) l.macvlanMode = mode;
      }
      if (data && kind === 'vxlan') {
        const v = parseAttrs(data).map;
        const ipOf = (x: Buffer | undefined) =>
          x && (x.length === 4 || x.length === 16) ? bytesToIp(x) : undefined;
        const vx: NonNullable<LinkState['vxlan']> = {};
        const vni = u32(v.get(IFLA_VXLAN_ID));
        if (vni !== undefined) vx.vni = vni;
        const remote = ipOf(v.get(IFLA_VXLAN_GROUP)) ?? ipOf(v.get(IFLA_VXLAN_GROUP6));
        if (remote && remote !== '0.0.0.0' && remote !== '::') vx.remote = remote;
        const local = ipOf(v.get(IFLA_VXLAN_LOCAL)) ?? ipOf(v.get(IFLA_VXLAN_LOCAL6));
        if (local && local !== '0.0.0.0' && local !== '::') vx.local = local;
        const port = v.get(IFLA_VXLAN_PORT);
        if (port && port.length >= 2) vx.port = port.readUInt16BE(0);
        const ul = u32(v.get(IFLA_VXLAN_LINK));
        if (ul) vx.link = ul;
        l.vxlan = vx;
      }
      out.push(l);
    }
    return out;
  }

  addrs(): AddrState[] {
    const out: AddrState[] = [];
    for (const m of this.sock.dump(RTM_GETADDR, Buffer.alloc(8), 'dump addresses').messages) {
      if (m.type !== RTM_NEWADDR || m.data.length < 8) continue;
      const a = parseAttrs(m.data, 8).map;
      const raw = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
      if (!raw || (raw.length !== 4 && raw.length !== 16)) continue;
      const flags = u32(a.get(IFA_FLAGS)) ?? (m.data[2] as number);
      out.push({
        index: m.data.readUInt32LE(4),
        family: m.data[0] === AF_INET ? 'inet' : 'inet6',
        address: bytesToIp(raw),
        prefixlen: m.data[1] as number,
        scope: m.data[3] as number,
        permanent: (flags & IFA_F_PERMANENT) !== 0,
      });
    }
    return out;
  }

  /** Routes of every table (the local table's are kernel-made: protocol kernel). */
  routes(): RouteState[] {
    const out: RouteState[] = [];
    for (const m of this.sock.dump(RTM_GETROUTE, Buffer.alloc(12), 'dump routes').messages) {
      if (m.type !== RTM_NEWROUTE || m.data.length < 12) continue;
      // AF_UNSPEC dumps answer for ipmr/ip6mr too: only IPv4 and IPv6 unicast tables are the lab's.
      if (m.data[0] !== AF_INET && m.data[0] !== AF_INET6) continue;
      const a = parseAttrs(m.data, 12).map;
      const table = u32(a.get(RTA_TABLE)) ?? (m.data[4] as number);
      const fam = m.data[0] === AF_INET ? 'inet' : 'inet6';
      const dstB = a.get(RTA_DST);
      const gw = a.get(RTA_GATEWAY);
      const r: RouteState = {
        family: fam,
        dst: dstB ? bytesToIp(dstB) : fam === 'inet' ? '0.0.0.0' : '::',
        dstLen: m.data[1] as number,
        protocol: m.data[5] as number,
        type: m.data[7] as number,
        table,
      };
      if (gw) r.gateway = bytesToIp(gw);
      const oif = u32(a.get(RTA_OIF));
      if (oif !== undefined) r.oif = oif;
      const metric = u32(a.get(RTA_PRIORITY));
      if (metric !== undefined) r.metric = metric;
      out.push(r);
    }
    return out;
  }
}

let tickPerUs: number | undefined;
/** psched ticks per microsecond, as iproute2's tc_core_init computes it from /proc/net/psched. */
function psched(): number {
  if (tickPerUs === undefined) {
    try {
      const [t2usRaw = 1000, us2t = 64, res = 1e6] = readFileSync('/proc/net/psched', 'utf8')
        .trim()
        .split(/\s+/)
        .map((h) => Number.parseInt(h, 16));
      // A 1 GHz clock_res means high-resolution timers: ticks are nanoseconds.
      const t2us = res === 1e9 ? us2t : t2usRaw;
      tickPerUs = (t2us / us2t) * (res / 1e6);
    } catch {
      tickPerUs = 1;
    }
  }
  return tickPerUs;
}
