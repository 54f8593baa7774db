/**
 * Reads one network namespace through its netlink sockets (runs on a worker
 * thread): links, addresses, routes of all tables, policy rules, neighbours
 * and TCP/UDP sockets, decoded straight from the receive buffer into model
 * objects. Relations inside the namespace are resolved here; relations into
 * other namespaces (IFLA_LINK_NETNSID) are returned as CrossRefs.
 */
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
import { decodeRoute } from '../kernel/rtnetlink/route.js';
import { decodeRule } from '../kernel/rtnetlink/rule.js';
import {
  buildInetDiagReq,
  decodeInetDiag,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DIAG_BY_FAMILY,
} from '../kernel/sockdiag.js';
import type { Draft } from '../model/types.js';
import { decodeBridgePort } from './kinds/bridge.js';
import { kindHandler } from './kinds/index.js';
import { classifyKindless } from './kinds/physical.js';
import type { NlConn } from './nlconn.js';
import type { ServiceMap } from './services.js';
import { addSockets } from './sockets.js';
import type { CrossRef, DumpOptions, NsDump } from './types.js';

export interface NsConns {
  route: NlConn;
  diag: NlConn | undefined;
}

const LINK_REQ = Buffer.alloc(IFINFOMSG_LEN);
const ADDR_REQ = Buffer.alloc(IFADDRMSG_LEN);
const ROUTE_REQ = Buffer.alloc(RTMSG_LEN);
const RULE_REQ = Buffer.alloc(FIB_RULE_HDR_LEN);
const NEIGH_REQ = Buffer.alloc(NDMSG_LEN);
const DIAG_REQS: [protocol: 'tcp' | 'udp', req: Buffer][] = [
  ['tcp', buildInetDiagReq(AF_INET, IPPROTO_TCP)],
  ['tcp', buildInetDiagReq(AF_INET6, IPPROTO_TCP)],
  ['udp', buildInetDiagReq(AF_INET, IPPROTO_UDP)],
  ['udp', buildInetDiagReq(AF_INET6, IPPROTO_UDP)],
];

/**
 * Runs a dump, retrying once when the kernel flags it interrupted
 * (NLM_F_DUMP_INTR: the tables changed meanwhile, the result may be inconsistent).
 */
function dumpRetry<T>(
  conn: NlConn,
  type: number,
  req: Buffer,
  name: string,
  decode: (mtype: number, data: Buffer) => T | undefined,
  warn: (code: string, msg: string) => void,
): T[] {
  for (let attempt = 0; ; attempt++) {
    const out: T[] = [];
    const st = conn.dump(
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

function buildInterface(ino: number, raw: RawLink, host: boolean): Draft.Interface {
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

export function dumpNamespace(
  conns: NsConns,
  ino: number,
  host: boolean,
  options: DumpOptions,
  services: ServiceMap,
): NsDump {
  const warnings: Draft.Warning[] = [];
  const seen = new Set<string>();
  const warn = (code: string, message: string) => {
    if (seen.has(code)) return;
    seen.add(code);
    warnings.push({ code, message, ns: ino });
  };
  const issues: DecodeIssues = newIssues();
  const result: NsDump = {
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

  // Links first: every other table refers to them by ifindex.
  const raws = dumpRetry(
    conns.route,
    RTM_GETLINK,
    LINK_REQ,
    'RTM_GETLINK',
    (t, d) => {
      if (t !== RTM_NEWLINK) return undefined;
      const l = decodeLink(d);
      if (!l) issues.malformed++;
      else if (l.truncated) issues.truncated++;
      return l;
    },
    warn,
  );
  const byIndex = new Map<number, Draft.Interface>();
  const ifaces = result.interfaces;
  for (const raw of raws) {
    const iface = buildInterface(ino, raw, host);
    byIndex.set(raw.index, iface);
    ifaces.push(iface);
  }
  // Relations: master/ports inside the namespace; IFLA_LINK and kind lower devices anywhere.
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i] as RawLink;
    const iface = ifaces[i] as Draft.Interface;
    if (raw.master) {
      iface.master = { netns: ino, index: raw.master };
      byIndex.get(raw.master)?.ports.push({ netns: ino, index: raw.index });
    }
    const handler = raw.kind ? kindHandler(raw.kind) : undefined;
    let linkIndex = raw.link !== undefined && raw.link > 0 ? raw.link : undefined;
    if (
      linkIndex === undefined &&
      raw.link === undefined &&
      raw.linkNetnsId !== undefined &&
      handler?.hasIflink
    ) {
      // IFLA_LINK omitted because the lower device/peer has our own ifindex (in the other namespace).
      linkIndex = raw.index;
    }
    const lowerIndex = handler?.lower?.(raw.infoData);
    const pairs: [CrossRef['field'], number | undefined][] = [
      ['link', linkIndex],
      ['lower', lowerIndex],
    ];
    for (const [field, index] of pairs) {
      if (index === undefined) continue;
      if (raw.linkNetnsId !== undefined && raw.linkNetnsId >= 0) {
        result.cross.push({ i, field, nsid: raw.linkNetnsId, index });
        if (field === 'link') iface.linkUnresolved = { netnsId: raw.linkNetnsId, index };
      } else if (byIndex.has(index)) {
        applyRef(iface, field, { netns: ino, index });
      } else if (field === 'link') {
        iface.linkUnresolved = { index };
      }
    }
  }

  for (const a of dumpRetry(
    conns.route,
    RTM_GETADDR,
    ADDR_REQ,
    'RTM_GETADDR',
    (t, d) => (t === RTM_NEWADDR ? decodeAddr(d) : undefined),
    warn,
  )) {
    if (a.truncated) issues.truncated++;
    const iface = byIndex.get(a.index);
    if (!iface) continue;
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
    iface.addresses.push(addr);
  }

  result.routes = dumpRetry(
    conns.route,
    RTM_GETROUTE,
    ROUTE_REQ,
    'RTM_GETROUTE',
    (t, d) => (t === RTM_NEWROUTE ? decodeRoute(d, issues) : undefined),
    warn,
  );
  if (options.rules) {
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
    for (const [protocol, req] of DIAG_REQS) {
      tolerate(
        () =>
          diag.dump(
            SOCK_DIAG_BY_FAMILY,
            req,
            (_t, d) => {
              const s = decodeInetDiag(d, issues);
              if (s) addSockets(result.sockets, protocol, s, services);
            },
            `sock_diag ${protocol}${req[0] === AF_INET6 ? '6' : ''}`,
          ),
        undefined,
        warn,
      );
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
