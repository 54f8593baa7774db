/**
 * The lab builder's handle on one namespace: an fd that keeps it referenced
 * and one NETLINK_ROUTE socket created inside it with withNetns() and then
 * used from the main thread (building 200 namespaces costs a few hundred
 * requests, no processes). The requests are built and the dumps decoded by
 * the kernel layer (src/kernel/rtnetlink/*-msg.ts and the decoders beside
 * them); this class names each request for the step messages and reduces the
 * dumps to what the builder compares.
 */
import { close, O_CLOEXEC, O_RDONLY, open } from '../../kernel/libc.js';
import {
  NETLINK_ROUTE,
  NetlinkError,
  NetlinkSocket,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
} from '../../kernel/netlink.js';
import { withNetns } from '../../kernel/netns.js';
import { decodeAddr } from '../../kernel/rtnetlink/addr.js';
import { addrMsg } from '../../kernel/rtnetlink/addr-msg.js';
import {
  AF_INET,
  AF_INET6,
  IFADDRMSG_LEN,
  IFF_UP,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_GETRULE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWQDISC,
  RTM_NEWROUTE,
  RTMSG_LEN,
  RTPROT_STATIC,
} from '../../kernel/rtnetlink/constants.js';
import { decodeLink, macvlanMode, type VxlanInfo, vxlanInfo } from '../../kernel/rtnetlink/link.js';
import {
  bridgeMsg,
  delLinkMsg,
  ifinfomsg,
  type LinkChange,
  macvlanMsg,
  type NewLinkOpts,
  setLinkMsg,
  vethMsg,
  vxlanMsg,
} from '../../kernel/rtnetlink/link-msg.js';
import { type NetemSpec, netemMsg } from '../../kernel/rtnetlink/qdisc-msg.js';
import { decodeRoute } from '../../kernel/rtnetlink/route.js';
import { type RouteSpec, routeMsg } from '../../kernel/rtnetlink/route-msg.js';
import { decodeRule } from '../../kernel/rtnetlink/rule.js';
import { buildRuleMsg, RTM_DELRULE, RTM_NEWRULE, type RuleSpec } from '../../kernel/rtnetlink/rule-msg.js';
import type { Draft } from '../../model/types.js';
import { type Cidr, ipBytes } from '../file/ip.js';

export type { NewLinkOpts } from '../../kernel/rtnetlink/link-msg.js';

/** ENODEV, ENOENT: what a delete of something already gone answers. */
const ENODEV = 19;
const ENOENT = 2;

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
  vxlan?: VxlanInfo;
}

export interface AddrState {
  index: number;
  family: 'inet' | 'inet6';
  address: string;
  prefixlen: number;
  permanent: boolean;
}

/** A route as decoded for discovery (protocol and type by name: "static", "unicast"). */
export type RouteState = Draft.Route;

/** What a route request needs; `table` defaults to main. */
export interface RouteReq {
  dst: Cidr;
  gateway?: string;
  oif?: number;
  metric?: number;
  table?: number;
}

const routeSpec = (r: RouteReq): RouteSpec => ({
  family: r.dst.family,
  dst: { addr: ipBytes(r.dst.address), len: r.dst.prefixlen },
  ...(r.gateway ? { gateway: ipBytes(r.gateway) } : {}),
  ...(r.oif !== undefined ? { oif: r.oif } : {}),
  ...(r.metric !== undefined ? { metric: r.metric } : {}),
  ...(r.table !== undefined ? { table: r.table } : {}),
});

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

  private newlink(name: string, payload: Buffer, what: string): void {
    this.sock.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, payload, `${what} ${name}`);
  }

  /** veth pair: `name` here, `peer` in the namespace `po.nsFd`. */
  createVeth(name: string, o: NewLinkOpts, peer: string, po: NewLinkOpts): void {
    this.newlink(name, vethMsg(name, o, peer, po), 'create veth');
  }

  createBridge(name: string, o: NewLinkOpts): void {
    this.newlink(name, bridgeMsg(name, o), 'create bridge');
  }

  /** macvlan on `parentIndex` (in this namespace), created in `o.nsFd` when given. */
  createMacvlan(name: string, parentIndex: number, mode: string, o: NewLinkOpts): void {
    this.newlink(name, macvlanMsg(name, parentIndex, mode, o), 'create macvlan');
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
    const spec = {
      vni: v.vni,
      port: v.port,
      ...(v.remote ? { remote: ipBytes(v.remote) } : {}),
      ...(v.local ? { local: ipBytes(v.local) } : {}),
      ...(v.underlayIndex !== undefined ? { underlayIndex: v.underlayIndex } : {}),
    };
    this.newlink(name, vxlanMsg(name, spec, o), 'create vxlan');
  }

  /** Changes an existing interface (by index); only the given fields. */
  setLink(index: number, s: LinkChange, what: string): void {
    this.sock.request(RTM_NEWLINK, 0, setLinkMsg(index, s), `set ${what}`);
  }

  delLink(index: number, what: string): void {
    try {
      this.sock.request(RTM_DELLINK, 0, delLinkMsg(index), `delete ${what}`);
    } catch (e) {
      // ENODEV: already gone (e.g. the veth peer took it along).
      if (!(e instanceof NetlinkError && e.errno === ENODEV)) throw e;
    }
  }

  addAddr(index: number, c: Cidr, what: string): void {
    this.sock.request(
      RTM_NEWADDR,
      NLM_F_CREATE | NLM_F_EXCL,
      addrMsg(index, ipBytes(c.address), c.prefixlen),
      `add address ${c.address}/${c.prefixlen} to ${what}`,
    );
  }

  delAddr(index: number, c: Cidr, what: string): void {
    this.sock.request(
      RTM_DELADDR,
      0,
      addrMsg(index, ipBytes(c.address), c.prefixlen),
      `delete address ${c.address}/${c.prefixlen} from ${what}`,
    );
  }

  addRoute(r: RouteReq, what: string): void {
    this.sock.request(
      RTM_NEWROUTE,
      NLM_F_CREATE | NLM_F_REPLACE,
      routeMsg(routeSpec(r), false),
      `add route ${what}`,
    );
  }

  delRoute(r: RouteReq, what: string): void {
    this.sock.request(RTM_DELROUTE, 0, routeMsg(routeSpec(r), true), `delete route ${what}`);
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
      if (!(e instanceof NetlinkError && e.errno === ENOENT)) throw e;
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

  /** Root netem qdisc. */
  addNetem(index: number, n: NetemSpec, what: string): void {
    try {
      this.sock.request(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, netemMsg(index, n), `netem on ${what}`);
    } catch (e) {
      // The qdisc kind is looked up (and request_module'd) by name: ENOENT means no sch_netem.
      if (e instanceof NetlinkError && e.errno === ENOENT) {
        throw new Error(`netem on ${what}: this kernel has no sch_netem (qdisc kind "netem" is unknown)`);
      }
      throw e;
    }
  }

  links(): LinkState[] {
    const out: LinkState[] = [];
    for (const m of this.sock.dump(RTM_GETLINK, ifinfomsg(), 'dump links').messages) {
      if (m.type !== RTM_NEWLINK) continue;
      const raw = decodeLink(m.data);
      if (!raw) continue;
      const l: LinkState = {
        index: raw.index,
        name: raw.name,
        kind: raw.kind ?? 'other',
        mtu: raw.mtu ?? 0,
        up: (raw.flags & IFF_UP) !== 0,
      };
      if (raw.alias) l.alias = raw.alias;
      // Ethernet addresses only: what a lab can declare.
      if (raw.mac?.length === 17) l.mac = raw.mac;
      if (raw.master) l.master = raw.master;
      if (raw.link) l.link = raw.link;
      if (raw.linkNetnsId !== undefined) l.linkElsewhere = true;
      if (raw.infoData && raw.kind === 'macvlan') {
        const mode = macvlanMode(raw.infoData);
        if (mode !== undefined) l.macvlanMode = mode;
      }
      if (raw.infoData && raw.kind === 'vxlan') l.vxlan = vxlanInfo(raw.infoData);
      out.push(l);
    }
    return out;
  }

  addrs(): AddrState[] {
    const out: AddrState[] = [];
    for (const m of this.sock.dump(RTM_GETADDR, Buffer.alloc(IFADDRMSG_LEN), 'dump addresses').messages) {
      if (m.type !== RTM_NEWADDR) continue;
      const a = decodeAddr(m.data);
      if (!a) continue;
      out.push({
        index: a.index,
        family: a.family,
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer on point-to-point links.
        address: a.local ?? a.address,
        prefixlen: a.prefixlen,
        permanent: a.flags.includes('permanent'),
      });
    }
    return out;
  }

  /** Routes of every table (the local table's are kernel-made: protocol kernel). */
  routes(): RouteState[] {
    const out: RouteState[] = [];
    for (const m of this.sock.dump(RTM_GETROUTE, Buffer.alloc(RTMSG_LEN), 'dump routes').messages) {
      if (m.type !== RTM_NEWROUTE) continue;
      // AF_UNSPEC dumps answer for ipmr/ip6mr too: decodeRoute keeps IPv4 and IPv6 only.
      const r = decodeRoute(m.data);
      if (r) out.push(r);
    }
    return out;
  }
}
