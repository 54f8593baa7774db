/**
 * Reads one network namespace through its netlink sockets (runs on a worker
 * thread): links, addresses, routes of all tables, policy rules, neighbours
 * and TCP/UDP sockets, decoded straight from the receive buffer into model
 * objects. Relations inside the namespace are resolved here; relations into
 * other namespaces (IFLA_LINK_NETNSID) are returned as CrossRefs.
 */
import { readSync } from 'node:fs';
import type { NetlinkSocket } from '../kernel/netlink.js';
import { NFPROTO_UNSPEC, NFT_MSG_GETTABLE, nfgenmsg, nftType } from '../kernel/nftables/nfnetlink.js';
import { decodeAddr } from '../kernel/rtnetlink/addr.js';
import {
  AF_INET,
  AF_INET6,
  FIB_RULE_HDR_LEN,
  IFADDRMSG_LEN,
  IFF_NAMES,
  IFINFOMSG_LEN,
  NDMSG_LEN,
  OPERSTATES,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETNEIGH,
  RTM_GETROUTE,
  RTM_GETRULE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWNEIGH,
  RTM_NEWROUTE,
  RTM_NEWRULE,
  RTMSG_LEN,
} from '../kernel/rtnetlink/constants.js';
import { bits } from '../kernel/rtnetlink/format.js';
import { type DecodeIssues, newIssues } from '../kernel/rtnetlink/issues.js';
import { decodeLink, type RawLink } from '../kernel/rtnetlink/link.js';
import { decodeNeigh } from '../kernel/rtnetlink/neigh.js';
import {
  decodeNetconf,
  NETCONFA_IFINDEX_ALL,
  NETCONFMSG_LEN,
  RTM_GETNETCONF,
  RTM_NEWNETCONF,
} from '../kernel/rtnetlink/netconf.js';
import { decodeRoute } from '../kernel/rtnetlink/route.js';
import { decodeRule } from '../kernel/rtnetlink/rule.js';
import {
  buildInetDiagReq,
  buildTcpDiagCompatReq,
  decodeInetDiag,
  INET_DIAG_REQ_V1_LEN,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DIAG_BY_FAMILY,
  TCP_LISTEN,
  TCPDIAG_GETSOCK,
} from '../kernel/sockdiag.js';
import type { Draft } from '../model/types.js';
import { decodeBridgePort } from './kinds/bridge.js';
import { kindHandler } from './kinds/index.js';
import { classifyKindless } from './kinds/physical.js';
import type { ServiceMap } from './services.js';
import { addSockets } from './sockets.js';
import { parseSockStat, type SockStat } from './sockstat.js';
import type { CrossRef, DumpOptions, NsDump } from './types.js';

export interface NsConns {
  route: NetlinkSocket;
  diag: NetlinkSocket | undefined;
  /** fds of /proc/thread-self/net/sockstat and sockstat6 opened inside the namespace (bound to it). */
  sockstat?: [number, number];
  /** Multicast listener on the namespace's change groups (CONFIG_CHANGE_GROUPS), bound with the cached sockets. */
  monitor?: NetlinkSocket;
  /**
   * DumpOptions.netfilter: a NETLINK_NETFILTER socket and the fds of /proc/thread-self/net/
   * ip(6)_tables_names (of each legacy family the kernel has), opened inside the namespace.
   * Undefined when any could not be opened: the namespace's netfilter state is then unknown.
   */
  netfilter?: {
    nft: NetlinkSocket;
    legacyNames: number[] /** The files behind legacyNames, joined. */;
    legacy: string;
  };
  /** Tables read by the previous run, reused while the monitor reports no change to them. */
  memo?: Memo;
}

/** A decoded link message with its bytes: an identical message next run needs no decoding. */
export interface LinkEntry {
  /** A copy of the message payload (ifinfomsg + attributes). */
  bytes: Buffer;
  /** The interface as decoded, before relations and addresses; never changed (copied per run). */
  base: Draft.Interface;
  master: number | undefined;
  /** IFLA_LINK's target (see iflinkIndex) and the kind's lower device, as ifindexes. */
  link: number | undefined;
  lower: number | undefined;
  /** IFLA_LINK_NETNSID: link and lower are in the namespace of that nsid. */
  netnsId: number | undefined;
}

/** What a previous run read, kept with the cached sockets of a namespace. */
export interface Memo {
  /**
   * The link dump, decoded, in dump order. A link dump byte-identical to this one, with
   * unchanged addresses, yields the same interfaces and cross references as last time.
   */
  links?: LinkEntry[];
  /** The same entries by ifindex (ifinfomsg.ifi_index). */
  linksByIndex?: Map<number, LinkEntry>;
  /** What those links (and addresses) gave: reused as they are when nothing changed. */
  interfaces?: Draft.Interface[];
  cross?: CrossRef[];
  /** `interfaces` as JSON, made once when first sent (see serializeDump). */
  interfacesJson?: string;
  /** That JSON left the addresses out (the main thread held them already, see addrsUnchanged). */
  interfacesWithoutAddrs?: boolean;
  /** Addresses by ifindex; absent when any carried a finite lifetime (the remaining time changes silently). */
  addrs?: [number, Draft.Address][];
  /** Absent when a route carried offload/trap flags (hardware drivers may flip them without notifying). */
  routes?: Draft.Route[];
  rules?: Draft.Rule[];
  netconf?: { forwarding: NsDump['forwarding'] };
  /** The main thread holds these addresses for this namespace (sent with an earlier result). */
  addrsShipped?: boolean;
  /** The main thread holds these very `routes`/`rules` for this namespace (sent by a previous result). */
  routesShipped?: boolean;
  rulesShipped?: boolean;
}

/**
 * A dump as JSON text for the main thread. Routes and rules reused from the memo are sent once;
 * after that the field is `null`: "unchanged, keep what this worker sent last" (WorkerPool keeps
 * the parsed arrays per worker and namespace, mirroring the worker's memo).
 */
/**
 * Tokens for what a memo no longer keeps as objects once sent: interfaces (the memo holds their
 * JSON text), routes and rules (the main thread holds them, see WorkerPool). A reuse is
 * recognised by identity with the token.
 */
const SENT: Draft.Interface[] = [];
const ROUTES_SENT: Draft.Route[] = [];
const RULES_SENT: Draft.Rule[] = [];

export function serializeDump(d: NsDump, memo: Memo | undefined): string {
  const routes = memo !== undefined && memo.routes === d.routes;
  const rules = memo !== undefined && memo.rules === d.rules && d.rules !== undefined;
  // Interfaces reused from the memo are stringified once and their text sent again as it is.
  const ifaces = memo !== undefined && memo.interfaces === d.interfaces;
  if (!memo || (!routes && !rules && !ifaces)) return JSON.stringify(d);
  // Field by field (no object copy without the two fields: V8 stringifies such copies slowly).
  let out = '';
  for (const k in d) {
    const v = d[k as keyof NsDump];
    if (v === undefined) continue;
    let text: string;
    if (k === 'routes' && routes) {
      text = memo.routesShipped ? 'null' : JSON.stringify(v);
      memo.routesShipped = true;
      // Sent: the main thread keeps them; the token stands for them from now on.
      memo.routes = ROUTES_SENT;
    } else if (k === 'interfaces' && ifaces) {
      memo.interfacesJson ??= JSON.stringify(v);
      text = memo.interfacesJson;
      // From now on only the text is needed: a reuse is recognised by identity with the token.
      memo.interfaces = SENT;
    } else if (k === 'rules' && rules) {
      text = memo.rulesShipped ? 'null' : JSON.stringify(v);
      memo.rulesShipped = true;
      memo.rules = RULES_SENT;
    } else text = JSON.stringify(v);
    out += `${out ? ',' : '{'}"${k}":${text}`;
  }
  return `${out}}`;
}

const STALE_ADDR = 1;
const STALE_ROUTE = 2;
const STALE_RULE = 4;
const STALE_NETCONF = 8;
const STALE_ALL = 15;

// Message types (rtnetlink.h): RTM_NEW/DEL pairs.
const RTM_DELADDR = 21;
const RTM_DELROUTE = 25;
const RTM_DELRULE = 33;
const RTM_DELNETCONF = 81;
const RTM_NEWNEXTHOP = 104;
const RTM_DELNEXTHOP = 105;

/** Which memoised tables a notification makes stale. */
function staleBy(type: number): number {
  switch (type) {
    case RTM_NEWADDR:
    case RTM_DELADDR:
      // Adding/removing an address adds/removes its local, broadcast and prefix routes, and IPv4
      // deletes routes whose prefsrc went away with fib_table_flush, which sends no RTM_DELROUTE.
      return STALE_ADDR | STALE_ROUTE;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
    case RTM_NEWNEXTHOP:
    case RTM_DELNEXTHOP:
      return STALE_ROUTE;
    case RTM_NEWRULE:
    case RTM_DELRULE:
      return STALE_RULE;
    case RTM_NEWNETCONF:
    case RTM_DELNETCONF:
      return STALE_NETCONF;
    default:
      // RTM_NEWLINK/DELLINK and anything unexpected: a link going down or away flushes its IPv4
      // routes (fib_sync_down_dev/fib_table_flush) and marks next hops dead/linkdown without any
      // route notification, detaches rules naming it, and takes its addresses along.
      return STALE_ALL;
  }
}

/**
 * Drains the monitor without blocking and returns which memoised tables are stale. A receive
 * error (ENOBUFS: the kernel dropped notifications when the queue overflowed) loses track of
 * what changed, so everything is re-read.
 */
export function pendingChanges(conns: NsConns): number {
  const mon = conns.monitor;
  if (!mon || !conns.memo) return STALE_ALL;
  let stale = 0;
  try {
    if (mon.drainTypes((t) => (stale |= staleBy(t))).overflow) return STALE_ALL;
  } catch {
    return STALE_ALL;
  }
  return stale;
}

const statBuf = Buffer.allocUnsafe(4096);

/** Re-reads an open seq file from offset 0 (pread restarts it). */
function preadText(fd: number): string {
  const n = readSync(fd, statBuf, 0, statBuf.length, 0);
  return statBuf.toString('latin1', 0, n);
}

const GETTABLE = nftType(NFT_MSG_GETTABLE);
/** nfgenmsg with family NFPROTO_UNSPEC: tables of every family. */
const GETTABLE_REQ = nfgenmsg(NFPROTO_UNSPEC);

/**
 * Whether the namespace forwards no port through DNAT, as far as its netfilter state tells: no
 * nf_tables table of any family (a NAT chain needs a table; the decorator's full read of such a
 * ruleset finds nothing) and no legacy table named "nat" in the lists `legacy` names (the
 * families the kernel has now). Any table at all, or any error, is
 * "maybe": the forwarded-ports decorator then reads the namespace itself and reports what it finds.
 */
export function natFree(conns: NsConns, legacy: string): boolean {
  const nf = conns.netfilter;
  // A legacy family the kernel gained since these fds were opened is not covered.
  if (!nf || nf.legacy !== legacy) return false;
  try {
    let tables = 0;
    nf.nft.dumpEach(GETTABLE, GETTABLE_REQ, () => tables++, 'NFT_MSG_GETTABLE');
    if (tables > 0) return false;
    for (const fd of nf.legacyNames) if (preadText(fd).split('\n').includes('nat')) return false;
    return true;
  } catch {
    return false;
  }
}

const LINK_REQ = Buffer.alloc(IFINFOMSG_LEN);
const ADDR_REQ = Buffer.alloc(IFADDRMSG_LEN);
const ROUTE_REQ = Buffer.alloc(RTMSG_LEN);
const RULE_REQ = Buffer.alloc(FIB_RULE_HDR_LEN);
const NEIGH_REQ = Buffer.alloc(NDMSG_LEN);
const NETCONF_REQ = Buffer.alloc(NETCONFMSG_LEN);
const TCPF_LISTEN = 1 << TCP_LISTEN;
const ALL = 0xffffffff;
const req = (f: number, p: number, states: number) => buildInetDiagReq(f, p, states);
const TCP4_LISTEN = req(AF_INET, IPPROTO_TCP, TCPF_LISTEN);
const TCP6_LISTEN = req(AF_INET6, IPPROTO_TCP, TCPF_LISTEN);
const TCP4_OTHER = req(AF_INET, IPPROTO_TCP, (ALL & ~TCPF_LISTEN) >>> 0);
const TCP6_OTHER = req(AF_INET6, IPPROTO_TCP, (ALL & ~TCPF_LISTEN) >>> 0);
const TCP4_ALL = req(AF_INET, IPPROTO_TCP, ALL);
const TCP6_ALL = req(AF_INET6, IPPROTO_TCP, ALL);
const TCP_OTHER_BOTH = buildTcpDiagCompatReq((ALL & ~TCPF_LISTEN) >>> 0);
const TCP_ALL_BOTH = buildTcpDiagCompatReq(ALL);
const UDP4 = req(AF_INET, IPPROTO_UDP, ALL);
const UDP6 = req(AF_INET6, IPPROTO_UDP, ALL);

/**
 * The sock_diag requests worth sending. Listening sockets live in the small
 * listening hash; everything else needs a walk of the global established hash,
 * done only when the namespace's counters say it holds more TCP sockets than
 * listeners, or TIME_WAIT ones. (Half-open NEW_SYN_RECV requests are not
 * counted in "inuse" and are missed when nothing else needs the walk.)
 */
function socketDumps(
  conns: NsConns,
  warn: (code: string, msg: string) => void,
): { plan: [string, 'tcp' | 'udp', Buffer][]; stat?: SockStat } {
  let stat: SockStat | undefined;
  if (conns.sockstat) {
    try {
      stat = parseSockStat(preadText(conns.sockstat[0]), preadText(conns.sockstat[1]));
    } catch (e) {
      warn('sockstat-unreadable', `sockstat: ${(e as Error).message}`);
    }
  }
  if (!stat) {
    return {
      plan: [
        ['tcp', 'tcp', TCP_ALL_BOTH],
        ['udp4', 'udp', UDP4],
        ['udp6', 'udp', UDP6],
      ],
    };
  }
  const plan: [string, 'tcp' | 'udp', Buffer][] = [];
  if (stat.tcp4 > 0) plan.push(['tcp4 listen', 'tcp', TCP4_LISTEN]);
  if (stat.tcp6 > 0) plan.push(['tcp6 listen', 'tcp', TCP6_LISTEN]);
  if (stat.udp4 > 0) plan.push(['udp4', 'udp', UDP4]);
  if (stat.udp6 > 0) plan.push(['udp6', 'udp', UDP6]);
  return { plan, stat };
}

/**
 * Runs a dump, retrying once when the kernel flags it interrupted
 * (NLM_F_DUMP_INTR: the tables changed meanwhile, the result may be inconsistent).
 */
function dumpRetry<T>(
  conn: NetlinkSocket,
  type: number,
  req: Buffer,
  name: string,
  decode: (mtype: number, data: Buffer) => T | undefined,
  warn: (code: string, msg: string) => void,
): T[] {
  for (let attempt = 0; ; attempt++) {
    const out: T[] = [];
    const st = conn.dumpEach(
      type,
      req,
      (mtype, data) => {
        const v = decode(mtype, data);
        if (v !== undefined) out.push(v);
      },
      name,
    );
    if (st.truncated) warn('netlink-truncated', `${name}: a reply datagram was cut short`);
    if (!st.interrupted) return out;
    if (attempt >= 1) {
      warn('netlink-dump-interrupted', `${name}: the kernel's tables kept changing during the dump`);
      return out;
    }
  }
}

/**
 * The peer/lower ifindex named by IFLA_LINK. Kernels before 5.15 omitted IFLA_LINK
 * when it equalled the device's own ifindex (nla_put_iflink), which for a device
 * with ndo_get_iflink means the peer/lower device sits at the same ifindex in the
 * link namespace; newer kernels always send it when IFLA_LINK_NETNSID is present.
 * 0 means "none" (a veth whose peer is gone).
 */
export function iflinkIndex(raw: RawLink, hasIflink: boolean): number | undefined {
  if (raw.link !== undefined) return raw.link > 0 ? raw.link : undefined;
  return raw.linkNetnsId !== undefined && hasIflink ? raw.index : undefined;
}

export function buildInterface(ino: number, raw: RawLink, host: boolean): Draft.Interface {
  const iface: Draft.Interface = {
    netns: ino,
    index: raw.index,
    name: raw.name,
    altnames: raw.altnames,
    kind: raw.kind ?? 'unknown',
    operstate: OPERSTATES[raw.operstate ?? 0] ?? String(raw.operstate),
    flags: bits(raw.flags, IFF_NAMES),
    mtu: raw.mtu ?? 0,
    addresses: [],
    ports: [],
  };
  if (raw.alias !== undefined) iface.alias = raw.alias;
  if (raw.mac !== undefined) iface.mac = raw.mac;
  if (raw.broadcast !== undefined) iface.broadcast = raw.broadcast;
  if (raw.txqlen !== undefined) iface.txqlen = raw.txqlen;
  if (raw.stats) iface.stats = raw.stats;
  if (raw.linkNetnsId !== undefined) iface.linkNetnsId = raw.linkNetnsId;
  if (raw.kind) kindHandler(raw.kind)?.decode?.(iface, raw.infoData, raw);
  else classifyKindless(iface, raw, host);
  if (raw.slaveKind === 'bridge') iface.bridgePort = decodeBridgePort(raw.slaveData);
  return iface;
}

/**
 * A copy with memory of its own. Buffer.from would slice a shared 8 KiB pool slab, and a slab stays
 * allocated while any slice of it lives: kept link messages, replaced one by one as their counters
 * move, would pin ever more slabs.
 */
function ownCopy(d: Buffer): Buffer {
  const b = Buffer.allocUnsafeSlow(d.length);
  d.copy(b);
  return b;
}

/** Decodes a link message (a copy the entry keeps); undefined when too short to decode. */
function decodeEntry(bytes: Buffer, ino: number, host: boolean, issues: DecodeIssues): LinkEntry | undefined {
  const raw = decodeLink(bytes);
  if (!raw) {
    issues.malformed++;
    return undefined;
  }
  if (raw.truncated) issues.truncated++;
  const handler = raw.kind ? kindHandler(raw.kind) : undefined;
  return {
    bytes,
    base: buildInterface(ino, raw, host),
    master: raw.master || undefined,
    link: iflinkIndex(raw, handler?.hasIflink === true),
    lower: handler?.lower?.(raw.infoData),
    netnsId: raw.linkNetnsId !== undefined && raw.linkNetnsId >= 0 ? raw.linkNetnsId : undefined,
  };
}

/**
 * This run's copy of a decoded interface: relations and addresses are added to the copy, so
 * its arrays and every nested object a relation may change (kind data such as `macvlan.parent`)
 * are its own; the rest (stats, flags, bridge port data) is shared and only read.
 */
function instantiate(base: Draft.Interface): Draft.Interface {
  const iface: Draft.Interface = { ...base, addresses: [], ports: [] };
  const rec = iface as unknown as Record<string, unknown>;
  for (const k in rec) {
    const v = rec[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) rec[k] = { ...v };
  }
  return iface;
}

/**
 * Builds the result's interfaces from the decoded links and resolves their relations: master
 * and ports inside the namespace, IFLA_LINK and kind lower devices here or (as CrossRefs) in the
 * namespace an nsid names. Returns the interfaces by ifindex.
 */
function linkInterfaces(entries: LinkEntry[], ino: number, result: NsDump): Map<number, Draft.Interface> {
  const byIndex = new Map<number, Draft.Interface>();
  const ifaces = result.interfaces;
  for (const e of entries) {
    const iface = instantiate(e.base);
    byIndex.set(iface.index, iface);
    ifaces.push(iface);
  }
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as LinkEntry;
    const iface = ifaces[i] as Draft.Interface;
    if (e.master) {
      iface.master = { netns: ino, index: e.master };
      byIndex.get(e.master)?.ports.push({ netns: ino, index: iface.index });
    }
    const pairs: [CrossRef['field'], number | undefined][] = [
      ['link', e.link],
      ['lower', e.lower],
    ];
    for (const [field, index] of pairs) {
      if (index === undefined) continue;
      if (e.netnsId !== undefined) {
        result.cross.push({ i, field, nsid: e.netnsId, index });
        if (field === 'link') iface.linkUnresolved = { netnsId: e.netnsId, index };
      } else if (byIndex.has(index)) {
        applyRef(iface, field, { netns: ino, index });
      } else if (field === 'link') {
        iface.linkUnresolved = { index };
      }
    }
  }
  return byIndex;
}

/** A dump of a namespace with nothing read yet (tables are filled in place). */
export function emptyDump(ino: number, warnings: Draft.Warning[] = []): NsDump {
  return {
    ino,
    interfaces: [],
    routes: [],
    rules: [],
    neighbours: [],
    sockets: [],
    cross: [],
    warnings,
    cached: false,
  };
}

/**
 * Whether a previous run left every table of the namespace in the memo (links, interfaces with
 * their addresses, routes, rules, forwarding): only then can an unnotified namespace be reused
 * whole (see `unchangedSince`).
 */
function memoComplete(memo: Memo | undefined, options: DumpOptions): boolean {
  return (
    memo?.links !== undefined &&
    memo.interfaces !== undefined &&
    memo.cross !== undefined &&
    memo.addrs !== undefined &&
    memo.routes !== undefined &&
    memo.netconf !== undefined &&
    (!options.rules || memo.rules !== undefined)
  );
}

/**
 * Incremental discovery: drains the namespace's monitor and tells whether nothing it reports on
 * changed since the previous run (then the caller reuses that run's result whole, without any
 * dump). Otherwise returns the stale tables for `dumpNamespace`. What has no notification
 * (interface counters, neighbours, sockets) is as old as that previous run.
 */
export function unchangedSince(conns: NsConns, options: DumpOptions): { unchanged: boolean; stale: number } {
  if (!memoComplete(conns.memo, options)) return { unchanged: false, stale: STALE_ALL };
  const stale = pendingChanges(conns);
  return { unchanged: stale === 0, stale };
}

export function dumpNamespace(
  conns: NsConns,
  ino: number,
  host: boolean,
  options: DumpOptions,
  services: ServiceMap,
  /** Tables already found stale by an earlier drain of the monitor (unchangedSince). */
  staleBefore = 0,
): NsDump {
  const warnings: Draft.Warning[] = [];
  const seen = new Set<string>();
  const warn = (code: string, message: string) => {
    if (seen.has(code)) return;
    seen.add(code);
    warnings.push({ code, message, ns: ino });
  };
  const issues: DecodeIssues = newIssues();
  const result = emptyDump(ino, warnings);

  // A warning or decode issue from here on keeps this run out of the memo.
  const warned = warnings.length;
  const memo = conns.memo;

  // Links first: every other table refers to them by ifindex. The messages are kept as copies
  // (the payload is a view into the receive buffer, overwritten by the next datagram); one
  // byte-identical to last run's message of that ifindex keeps last run's copy, so an unchanged
  // dump is recognised without decoding anything.
  const prevLinks = memo?.links;
  const prevByIndex = memo?.linksByIndex;
  const got = dumpRetry(
    conns.route,
    RTM_GETLINK,
    LINK_REQ,
    'RTM_GETLINK',
    (t, d): LinkEntry | Buffer | undefined => {
      if (t !== RTM_NEWLINK) return undefined;
      const prev = prevByIndex && d.length >= IFINFOMSG_LEN ? prevByIndex.get(d.readInt32LE(4)) : undefined;
      return prev?.bytes.equals(d) ? prev : ownCopy(d);
    },
    warn,
  );
  let fresh = false;
  const entries: LinkEntry[] = [];
  for (const g of got) {
    if (!Buffer.isBuffer(g)) entries.push(g);
    else {
      fresh = true;
      const e = decodeEntry(g, ino, host, issues);
      if (e) entries.push(e);
    }
  }
  const sameLinks =
    !fresh &&
    prevLinks !== undefined &&
    entries.length === prevLinks.length &&
    entries.every((e, i) => e === prevLinks[i]);

  // Addresses, routes, rules and forwarding only change with a notification (see staleBy): a
  // table the monitor saw no message for since the previous run is taken from that run.
  const stale = staleBefore | pendingChanges(conns);
  const next: Memo = {
    links: entries,
    linksByIndex: sameLinks && prevByIndex ? prevByIndex : new Map(entries.map((e) => [e.base.index, e])),
  };
  const keptAddrs = !(stale & STALE_ADDR) ? memo?.addrs : undefined;

  if (sameLinks && keptAddrs && memo?.interfaces && memo.cross) {
    // Same links, same addresses: the same interfaces (and their JSON text) as last run.
    result.interfaces = memo.interfaces;
    result.cross = memo.cross;
    if (memo.interfacesWithoutAddrs) result.addrsUnchanged = true;
    next.interfaces = memo.interfaces;
    next.cross = memo.cross;
    next.interfacesJson = memo.interfacesJson;
    next.interfacesWithoutAddrs = memo.interfacesWithoutAddrs;
    next.addrs = keptAddrs;
  } else {
    const byIndex = linkInterfaces(entries, ino, result);
    let addrs = keptAddrs;
    if (!addrs) {
      addrs = [];
      let finite = false;
      for (const a of dumpRetry(
        conns.route,
        RTM_GETADDR,
        ADDR_REQ,
        'RTM_GETADDR',
        (t, d) => (t === RTM_NEWADDR ? decodeAddr(d) : undefined),
        warn,
      )) {
        if (a.truncated) issues.truncated++;
        const addr: Draft.Address = {
          family: a.family,
          address: a.address,
          prefixlen: a.prefixlen,
          scope: a.scope,
          flags: a.flags,
        };
        if (a.label !== undefined) addr.label = a.label;
        if (a.local !== undefined) addr.local = a.local;
        if (a.broadcast !== undefined) addr.broadcast = a.broadcast;
        if (a.validLifetime !== undefined) addr.validLifetime = a.validLifetime;
        if (a.preferredLifetime !== undefined) addr.preferredLifetime = a.preferredLifetime;
        // Remaining lifetimes count down without a notification (IFA_CACHEINFO is computed at dump time).
        if (a.validLifetime !== undefined || a.preferredLifetime !== undefined) finite = true;
        addrs.push([a.index, addr]);
      }
      if (!finite) next.addrs = addrs;
      for (const [index, addr] of addrs) byIndex.get(index)?.addresses.push(addr);
    } else {
      next.addrs = addrs;
      // The main thread already holds these addresses per ifindex from an earlier result (and no
      // link changed since, or addresses would be stale): they are not sent again (WorkerPool).
      if (memo?.addrsShipped) result.addrsUnchanged = true;
      else for (const [index, addr] of addrs) byIndex.get(index)?.addresses.push(addr);
    }
    if (next.addrs) {
      // Reusable next run only together with these addresses.
      next.interfaces = result.interfaces;
      next.cross = result.cross;
      next.interfacesWithoutAddrs = result.addrsUnchanged === true;
    }
  }
  // This result carries them in full, or they were carried before.
  if (next.addrs) next.addrsShipped = true;

  const oldRoutes = !(stale & STALE_ROUTE) ? memo?.routes : undefined;
  if (oldRoutes && memo) {
    result.routes = oldRoutes;
    next.routes = oldRoutes;
    next.routesShipped = memo.routesShipped;
  } else {
    result.routes = dumpRetry(
      conns.route,
      RTM_GETROUTE,
      ROUTE_REQ,
      'RTM_GETROUTE',
      (t, d) => (t === RTM_NEWROUTE ? decodeRoute(d, issues) : undefined),
      warn,
    );
    // Offload/trap flags are set by switchdev drivers and notified only with
    // net.ipv4.fib_notify_on_flag_change: such routes are read every time.
    if (!result.routes.some(hwFlagged)) next.routes = result.routes;
  }
  if (options.rules) {
    const oldRules = !(stale & STALE_RULE) ? memo?.rules : undefined;
    if (oldRules && memo) {
      result.rules = oldRules;
      next.rulesShipped = memo.rulesShipped;
    } else {
      result.rules = tolerate(
        () =>
          dumpRetry(
            conns.route,
            RTM_GETRULE,
            RULE_REQ,
            'RTM_GETRULE',
            (t, d) => (t === RTM_NEWRULE ? decodeRule(d, issues) : undefined),
            warn,
          ),
        [],
        warn,
      );
    }
    next.rules = result.rules;
  }
  const oldNetconf = !(stale & STALE_NETCONF) ? memo?.netconf : undefined;
  if (oldNetconf) {
    if (oldNetconf.forwarding) result.forwarding = oldNetconf.forwarding;
  } else {
    tolerate(
      () =>
        conns.route.dumpEach(
          RTM_GETNETCONF,
          NETCONF_REQ,
          (t, d) => {
            if (t !== RTM_NEWNETCONF) return;
            const n = decodeNetconf(d);
            if (n?.ifindex !== NETCONFA_IFINDEX_ALL || n.forwarding === undefined) return;
            result.forwarding ??= {};
            if (n.family === 'inet') result.forwarding.ipv4 = n.forwarding;
            else result.forwarding.ipv6 = n.forwarding;
          },
          'RTM_GETNETCONF',
        ),
      undefined,
      warn,
    );
  }
  next.netconf = { forwarding: result.forwarding };
  // Only a clean read is worth reusing: anything warned about is read again next time.
  if (conns.monitor && warnings.length === warned && issues.truncated + issues.malformed === 0)
    conns.memo = next;
  else delete conns.memo;

  if (options.neighbours) {
    result.neighbours = tolerate(
      () =>
        dumpRetry(
          conns.route,
          RTM_GETNEIGH,
          NEIGH_REQ,
          'RTM_GETNEIGH',
          (t, d) => (t === RTM_NEWNEIGH ? decodeNeigh(d, issues) : undefined),
          warn,
        ),
      [],
      warn,
    );
  }
  if (options.sockets && conns.diag) {
    const diag = conns.diag;
    const run = (name: string, protocol: 'tcp' | 'udp', r: Buffer): number | undefined => {
      let n = 0;
      const type = r.length === INET_DIAG_REQ_V1_LEN ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY;
      const ok = tolerate(
        () => {
          diag.dumpEach(
            type,
            r,
            (_t, d) => {
              const s = decodeInetDiag(d, issues);
              if (s) {
                n++;
                addSockets(result.sockets, protocol, s, services);
              }
            },
            `sock_diag ${name}`,
          );
          return true;
        },
        false,
        warn,
      );
      return ok ? n : undefined;
    };
    const { plan, stat } = socketDumps(conns, warn);
    let listen4 = 0;
    let listen6 = 0;
    for (const [name, protocol, r] of plan) {
      const n = run(name, protocol, r);
      if (r === TCP_ALL_BOTH && n === undefined) {
        // A kernel without the compat request: one walk per family.
        run('tcp4', 'tcp', TCP4_ALL);
        run('tcp6', 'tcp', TCP6_ALL);
      }
      if (r === TCP4_LISTEN) listen4 = n ?? 0;
      if (r === TCP6_LISTEN) listen6 = n ?? 0;
    }
    if (stat) {
      // Connected/closing/TIME_WAIT sockets need the walk of the global established hash.
      const need4 = stat.tcp4 > listen4 || stat.tw > 0;
      const need6 = stat.tcp6 > listen6 || stat.tw > 0;
      if (need4 && need6) {
        if (run('tcp', 'tcp', TCP_OTHER_BOTH) === undefined) {
          run('tcp4', 'tcp', TCP4_OTHER);
          run('tcp6', 'tcp', TCP6_OTHER);
        }
      } else if (need4) run('tcp4', 'tcp', TCP4_OTHER);
      else if (need6) run('tcp6', 'tcp', TCP6_OTHER);
    }
  }
  if (issues.truncated)
    warn(
      'netlink-truncated',
      `${issues.truncated} netlink message(s) had a truncated attribute; what could be read is kept`,
    );
  if (issues.malformed)
    warn(
      'netlink-malformed',
      `${issues.malformed} netlink message(s) were too short to decode and were skipped`,
    );
  return result;
}

const HW_FLAGS = new Set(['offload', 'trap']);
/** rtm_flags RTM_F_OFFLOAD/RTM_F_TRAP/RTM_F_OFFLOAD_FAILED (0x4000/0x8000/0x20000000) or a next hop's RTNH_F_OFFLOAD/TRAP. */
function hwFlagged(r: Draft.Route): boolean {
  return (
    r.flags.some((f) => HW_FLAGS.has(f) || /^0x/.test(f)) ||
    r.nexthops.some((n) => n.flags.some((f) => HW_FLAGS.has(f) || /^0x/.test(f)))
  );
}

/** A failing optional dump (e.g. udp_diag not built) becomes a warning; the rest goes on. */
function tolerate<T>(fn: () => T, fallback: T, warn: (code: string, msg: string) => void): T {
  try {
    return fn();
  } catch (e) {
    warn('netlink-dump-failed', e instanceof Error ? e.message : String(e));
    return fallback;
  }
}

/** Stores a resolved relation in the interface and its kind's field. */
export function applyRef(
  iface: Draft.Interface,
  field: CrossRef['field'],
  ref: { netns: number; index: number },
): void {
  const handler = kindHandler(iface.kind);
  if (field === 'link') {
    iface.link = ref;
    delete iface.linkUnresolved;
    handler?.onLink?.(iface, ref);
  } else {
    handler?.onLower?.(iface, ref);
  }
}
