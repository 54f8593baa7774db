/**
 * The wiring view's model, derived from a native discovery: one card per
 * network namespace (titled by what lives in it), the wires between
 * interfaces, and the "segments" that keep 500 namespaces readable.
 *
 * A segment is everything attached to one interface of a hub namespace (a
 * bridge, the parent of macvlans/vlans, a vxlan underlay, or the hub's
 * un-bridged veths). Leaf namespaces hang off their segment's bus line, so a
 * bridge with 500 ports is one bus and 500 short stubs, not 500 lanes.
 */
import { groupKind, LAB_NODE_TYPE } from '../../src/model/groups.js';
import { interfaceKey } from '../../src/model/ids.js';
import { namingTenants } from '../../src/model/tenants.js';
import type {
  Container,
  Discovery,
  Interface,
  InterfaceRef,
  Namespace,
  NetworkNamespace,
} from '../../src/model/types.js';

export interface Settings {
  loopback: boolean;
  ipv6: boolean;
  macs: boolean;
}

export const ikey = (netns: number, index: number): string => interfaceKey({ netns, index });
export const refKey = (r: InterfaceRef | undefined): string | undefined => (r ? interfaceKey(r) : undefined);

export type CardKind = 'host' | 'container' | 'pod' | 'process' | 'bindmount' | 'orphan';

export interface CardInfo {
  ino: number;
  title: string;
  subtitle: string;
  kind: CardKind;
  containers: Container[];
  /** Lower-cased text that search matches against (names, IPs, MACs, ports, ids). */
  haystack: string;
  /** Group (compose project / pod) name, for ordering. */
  group: string;
}

export type WireKind = 'veth' | 'macvlan' | 'ipvlan' | 'vlan' | 'vxlan' | 'tunnel';

export interface Wire {
  id: string;
  kind: WireKind;
  /** Interface keys "netns/index"; for parent relations, a is the child. */
  a: string;
  b: string;
}

export interface Attachment {
  /** The leaf's interface that connects to the segment. */
  row: string;
  /** The hub-side interface at the other end (veth peer or parent). */
  peer: string;
  wire: string;
}

export interface Segment {
  id: string;
  hub: number;
  /** Hub interface key the segment hangs off, or "<hub>/routed", or "isolated". */
  anchor: string;
  label: string;
  sub: string;
  members: number[];
}

export interface Graph {
  discovery: Discovery;
  cards: Map<number, CardInfo>;
  nets: Map<number, NetworkNamespace>;
  ifaces: Map<string, Interface>;
  hubs: number[];
  wires: Wire[];
  wireById: Map<string, Wire>;
  segments: Segment[];
  segmentOf: Map<number, Segment>;
  attachments: Map<number, Attachment>;
}

const PARENT_KINDS: Record<string, WireKind> = {
  macvlan: 'macvlan',
  macvtap: 'macvlan',
  ipvlan: 'ipvlan',
  ipvtap: 'ipvlan',
  vlan: 'vlan',
};

/** The relations of one interface to others, as (kind, other end). */
export function relations(i: Interface): { kind: WireKind; other: InterfaceRef }[] {
  const out: { kind: WireKind; other: InterfaceRef }[] = [];
  if (i.kind === 'veth') {
    const peer = i.veth?.peer ?? i.link;
    if (peer) out.push({ kind: 'veth', other: peer });
  }
  const parentKind = PARENT_KINDS[i.kind];
  if (parentKind) {
    const parent = i.macvlan?.parent ?? i.ipvlan?.parent ?? i.vlan?.parent ?? i.link;
    if (parent) out.push({ kind: parentKind, other: parent });
  }
  if (i.vxlan?.underlay) out.push({ kind: 'vxlan', other: i.vxlan.underlay });
  if (i.tunnel?.underlay) out.push({ kind: 'tunnel', other: i.tunnel.underlay });
  return out;
}

function netNamespaces(d: Discovery): Map<number, Namespace> {
  const m = new Map<number, Namespace>();
  for (const ns of Object.values(d.namespaces)) if (ns.type === 'net') m.set(ns.ino, ns);
  return m;
}

function describe(
  d: Discovery,
  net: NetworkNamespace,
  ns: Namespace | undefined,
  hostname: string | undefined,
): CardInfo {
  const named = namingTenants(net.tenants, d.processes);
  const containers: Container[] = [];
  const seen = new Set<string>();
  for (const t of net.tenants) {
    const c = t.container ? d.containers[t.container] : undefined;
    if (c && !seen.has(c.id)) {
      seen.add(c.id);
      containers.push(c);
    }
  }
  for (const c of Object.values(d.containers)) {
    if (c.netns === net.ino && !seen.has(c.id)) {
      seen.add(c.id);
      containers.push(c);
    }
  }
  // Each group named with its kind, as the CLI's tree does: "project shop", "pod default/web", "lab conlink".
  const groupNames = new Set<string>();
  for (const c of containers)
    for (const g of c.groups) {
      const grp = d.groups[g];
      groupNames.add(grp ? `${groupKind(grp.type)} ${grp.name}` : g);
    }
  const group = [...groupNames].join(', ');
  let title: string;
  let subtitle: string;
  let kind: CardKind;
  const engineOf = (c: Container) =>
    d.engines[c.engine]?.type ?? (c.type === LAB_NODE_TYPE ? 'lab node' : c.type);
  if (net.isInitial) {
    kind = 'host';
    title = hostname ? `host · ${hostname}` : 'host';
    subtitle = `initial network namespace${containers.length ? ` · ${containers.map((c) => c.name).join(', ')}` : ''}`;
  } else if (containers.length > 0) {
    kind = containers.length > 1 ? 'pod' : 'container';
    const prefix = containers[0]!.prefix ? `${containers[0]!.prefix}/` : '';
    title = prefix + containers.map((c) => c.name).join(' + ');
    const engines = [...new Set(containers.map(engineOf))].join(', ');
    subtitle = [engines, group, containers[0]!.image].filter(Boolean).join(' · ');
  } else if (named.length > 0) {
    kind = 'process';
    // A chrooted workload names the card, not the launcher it runs under.
    const ts = named.slice(0, 3);
    title = ts.map((t) => t.comm).join(', ') + (named.length > 3 ? ` +${named.length - 3}` : '');
    subtitle = `process${named.length > 1 ? 'es' : ''} ${ts.map((t) => t.pid).join(', ')}`;
  } else if (ns?.bindMounts.length) {
    kind = 'bindmount';
    const path = ns.bindMounts[0]!.path;
    title = path.replace(/^\/run\/netns\//, '');
    subtitle = `bind mount ${path}`;
  } else {
    kind = 'orphan';
    title = `netns ${net.ino}`;
    subtitle = ns?.fds.length ? `held by fd of pid ${ns.fds[0]!.pid}` : 'no processes';
  }
  // The namespace's own host name, when it has one (a UTS namespace of its own).
  const uts = net.isInitial ? undefined : named.find((t) => t.dns.utsHostname)?.dns.utsHostname;
  if (uts && uts !== hostname) subtitle += ` · hostname ${uts}`;
  const hay: string[] = [title, subtitle, String(net.ino), group];
  for (const c of containers) hay.push(c.id, c.name, c.image ?? '', c.type, ...Object.values(c.labels));
  for (const t of net.tenants) hay.push(t.comm, String(t.pid), t.dns.utsHostname ?? '');
  for (const i of net.interfaces) {
    hay.push(i.name, i.kind, i.mac ?? '', i.network?.name ?? '', ...i.altnames);
    for (const a of i.addresses) hay.push(`${a.address}/${a.prefixlen}`);
  }
  for (const s of net.sockets)
    if (s.macrostate === 'listening') hay.push(`:${s.localPort}`, `${s.protocol}/${s.localPort}`);
  for (const f of net.forwardedPorts) hay.push(`:${f.hostPort}`, `:${f.destPort}`);
  return {
    ino: net.ino,
    title,
    subtitle,
    kind,
    containers,
    group,
    haystack: hay.join('\u0001').toLowerCase(),
  };
}

/**
 * The host's name: the UTS hostname a tenant of the initial network
 * namespace sees in the initial UTS namespace (another tenant there may have
 * a UTS namespace of its own).
 */
function hostHostname(d: Discovery): string | undefined {
  const host = Object.values(d.networks).find((n) => n.isInitial);
  const inInitialUts = host?.tenants.find(
    (t) => t.dns.utsHostname && d.processes[t.pid]?.namespaces.uts === d.initial.uts,
  );
  return (inInitialUts ?? host?.tenants.find((t) => t.dns.utsHostname))?.dns.utsHostname;
}

export function buildGraph(d: Discovery): Graph {
  const nsByIno = netNamespaces(d);
  const hostname = hostHostname(d);
  const nets = new Map<number, NetworkNamespace>();
  const ifaces = new Map<string, Interface>();
  const cards = new Map<number, CardInfo>();
  for (const net of Object.values(d.networks)) {
    nets.set(net.ino, net);
    for (const i of net.interfaces) ifaces.set(ikey(net.ino, i.index), i);
    cards.set(net.ino, describe(d, net, nsByIno.get(net.ino), hostname));
  }
  const { wires, wireById } = findWires(ifaces);
  const hubs = findHubs(nets, ifaces, wires);
  const { attachments, anchorOf } = attachLeaves(nets, ifaces, wires, new Set(hubs));
  const { segments, segmentOf } = groupSegments(nets, ifaces, cards, hubs, anchorOf);
  return { discovery: d, cards, nets, ifaces, hubs, wires, wireById, segments, segmentOf, attachments };
}

/** The namespace of an interface key "netns/index". */
const nsOf = (key: string): number => Number(key.split('/')[0]);

/** Every wire between two interfaces that were both discovered, once. */
function findWires(ifaces: ReadonlyMap<string, Interface>): { wires: Wire[]; wireById: Map<string, Wire> } {
  const wires: Wire[] = [];
  const wireById = new Map<string, Wire>();
  for (const [key, i] of ifaces) {
    for (const r of relations(i)) {
      const other = ikey(r.other.netns, r.other.index);
      if (!ifaces.has(other)) continue;
      // A veth pair is found from both ends: keep one wire, keyed by its sorted ends.
      const id = r.kind === 'veth' ? `veth:${[key, other].sort().join('=')}` : `${r.kind}:${key}>${other}`;
      if (wireById.has(id)) continue;
      const w: Wire = { id, kind: r.kind, a: key, b: other };
      wires.push(w);
      wireById.set(id, w);
    }
  }
  return { wires, wireById };
}

/** Hubs: the host, plus namespaces that many others connect to (a router or an inner engine's bridge). */
function findHubs(
  nets: ReadonlyMap<number, NetworkNamespace>,
  ifaces: ReadonlyMap<string, Interface>,
  wires: readonly Wire[],
): number[] {
  const crossDegree = new Map<number, number>();
  const bridgedFromOutside = new Map<number, number>();
  for (const w of wires) {
    const na = nsOf(w.a);
    const nb = nsOf(w.b);
    if (na === nb) continue;
    crossDegree.set(na, (crossDegree.get(na) ?? 0) + 1);
    crossDegree.set(nb, (crossDegree.get(nb) ?? 0) + 1);
    for (const [mine, theirs] of [
      [w.a, nb],
      [w.b, na],
    ] as const) {
      if (ifaces.get(mine)?.master && theirs !== nsOf(mine)) {
        const n = nsOf(mine);
        bridgedFromOutside.set(n, (bridgedFromOutside.get(n) ?? 0) + 1);
      }
    }
  }
  return [...nets.values()]
    .filter(
      (n) => n.isInitial || (bridgedFromOutside.get(n.ino) ?? 0) >= 2 || (crossDegree.get(n.ino) ?? 0) >= 4,
    )
    .sort(
      (a, b) =>
        Number(b.isInitial) - Number(a.isInitial) ||
        (crossDegree.get(b.ino) ?? 0) - (crossDegree.get(a.ino) ?? 0),
    )
    .map((n) => n.ino);
}

/**
 * Attaches each leaf to the first hub interface it connects to (lowest
 * ifindex first: eth0 before eth1), and gives it the anchor of its segment:
 * the bridge its peer is a port of, the hub's routed veths, or the peer.
 */
function attachLeaves(
  nets: ReadonlyMap<number, NetworkNamespace>,
  ifaces: ReadonlyMap<string, Interface>,
  wires: readonly Wire[],
  hubSet: ReadonlySet<number>,
): { attachments: Map<number, Attachment>; anchorOf: Map<number, string> } {
  const attachments = new Map<number, Attachment>();
  const anchorOf = new Map<number, string>();
  const byNetns = new Map<number, Wire[]>();
  for (const w of wires) {
    for (const end of [w.a, w.b]) {
      const n = nsOf(end);
      const list = byNetns.get(n);
      if (list) list.push(w);
      else byNetns.set(n, [w]);
    }
  }
  const idx = (k: string) => Number(k.split('/')[1]);
  for (const net of nets.values()) {
    if (hubSet.has(net.ino)) continue;
    const candidates: { row: string; peer: string; wire: Wire }[] = [];
    for (const w of byNetns.get(net.ino) ?? []) {
      const mineIsA = nsOf(w.a) === net.ino;
      const row = mineIsA ? w.a : w.b;
      const peer = mineIsA ? w.b : w.a;
      if (hubSet.has(nsOf(peer))) candidates.push({ row, peer, wire: w });
    }
    candidates.sort((x, y) => idx(x.row) - idx(y.row));
    const c = candidates[0];
    if (!c) continue;
    const p = ifaces.get(c.peer)!;
    const hub = nsOf(c.peer);
    const anchor = p.master
      ? ikey(p.master.netns, p.master.index)
      : c.wire.kind === 'veth'
        ? `${hub}/routed`
        : c.peer;
    attachments.set(net.ino, { row: c.row, peer: c.peer, wire: c.wire.id });
    anchorOf.set(net.ino, anchor);
  }
  // Leaves reached only through other leaves (chains, lab topologies) join their neighbour's segment.
  let grew = true;
  while (grew) {
    grew = false;
    for (const net of nets.values()) {
      if (hubSet.has(net.ino) || anchorOf.has(net.ino)) continue;
      for (const w of byNetns.get(net.ino) ?? []) {
        const a = anchorOf.get(nsOf(nsOf(w.a) === net.ino ? w.b : w.a));
        if (a !== undefined) {
          anchorOf.set(net.ino, a);
          grew = true;
          break;
        }
      }
    }
  }
  return { attachments, anchorOf };
}

/** A segment's heading: the bridge or interface it hangs off (with its address), the hub's routed veths, or none. */
function segmentLabel(
  anchor: string,
  ifaces: ReadonlyMap<string, Interface>,
  cards: ReadonlyMap<number, CardInfo>,
): { hub: number; label: string; sub: string } {
  if (anchor === 'isolated')
    return {
      hub: -1,
      label: 'not wired to a hub',
      sub: 'namespaces without a wire to the host or another hub',
    };
  const hub = nsOf(anchor);
  const hubTitle = cards.get(hub)?.title ?? '';
  if (anchor.endsWith('/routed'))
    return {
      hub,
      label: `${hubTitle}: routed veths`,
      sub: 'veth peers in the hub that are not bridge ports',
    };
  const a = ifaces.get(anchor);
  const addr = a?.addresses.find((x) => x.family === 'inet') ?? a?.addresses[0];
  return {
    hub,
    label: `${a?.name ?? anchor}${a?.network ? ` · network "${a.network.name}"` : ''}`,
    sub: [a?.kind, addr && `${addr.address}/${addr.prefixlen}`, `in ${hubTitle}`].filter(Boolean).join(' · '),
  };
}

/**
 * The leaves grouped by anchor into segments, each sorted by group and title;
 * segments ordered by hub, then by the anchor's ifindex (routed veths, then
 * the isolated ones, last).
 */
function groupSegments(
  nets: ReadonlyMap<number, NetworkNamespace>,
  ifaces: ReadonlyMap<string, Interface>,
  cards: ReadonlyMap<number, CardInfo>,
  hubs: readonly number[],
  anchorOf: ReadonlyMap<number, string>,
): { segments: Segment[]; segmentOf: Map<number, Segment> } {
  const hubSet = new Set(hubs);
  const segMap = new Map<string, Segment>();
  const segmentOf = new Map<number, Segment>();
  for (const net of nets.values()) {
    if (hubSet.has(net.ino)) continue;
    const anchor = anchorOf.get(net.ino) ?? 'isolated';
    let seg = segMap.get(anchor);
    if (!seg) {
      seg = { id: anchor, anchor, ...segmentLabel(anchor, ifaces, cards), members: [] };
      segMap.set(anchor, seg);
    }
    seg.members.push(net.ino);
    segmentOf.set(net.ino, seg);
  }
  for (const seg of segMap.values()) {
    seg.members.sort((x, y) => {
      const a = cards.get(x)!;
      const b = cards.get(y)!;
      return (
        a.group.localeCompare(b.group) ||
        a.title.localeCompare(b.title, undefined, { numeric: true }) ||
        x - y
      );
    });
  }
  const hubOrder = new Map(hubs.map((h, i) => [h, i]));
  const segments = [...segMap.values()].sort((x, y) => {
    const hx = x.hub < 0 ? 1e9 : (hubOrder.get(x.hub) ?? 1e8);
    const hy = y.hub < 0 ? 1e9 : (hubOrder.get(y.hub) ?? 1e8);
    if (hx !== hy) return hx - hy;
    const rx = x.anchor.endsWith('/routed') ? 1e9 : Number(x.anchor.split('/')[1]);
    const ry = y.anchor.endsWith('/routed') ? 1e9 : Number(y.anchor.split('/')[1]);
    return rx - ry;
  });
  return { segments, segmentOf };
}

export interface Row {
  /** Interface key, or "more:<key>" for a collapsed list of ports. */
  key: string;
  iface?: Interface;
  indent: boolean;
  name: string;
  kind: string;
  addr: string;
  mac: string;
  up: boolean;
  uplink: boolean;
  /** For summary rows: how many rows are folded. */
  folded?: number;
}

/** Folded above this many bridge ports / routed veths unless the user expands them. */
export const FOLD_AT = 6;

/** Card rows show routable addresses; link-local IPv6 (every interface has one) only in the details. */
function shown(a: { family: string; address: string; scope: string }, s: Settings): boolean {
  if (a.family === 'inet6' && (!s.ipv6 || a.scope === 'link' || a.address.toLowerCase().startsWith('fe80:')))
    return false;
  return true;
}

function rowOf(netns: number, i: Interface, s: Settings, indent: boolean): Row {
  // IPv4 first: it is what people look for on a wiring diagram.
  const addrs = i.addresses
    .filter((a) => shown(a, s))
    .sort((x, y) => Number(x.family === 'inet6') - Number(y.family === 'inet6'));
  const first = addrs[0];
  return {
    key: ikey(netns, i.index),
    iface: i,
    indent,
    name: i.name,
    kind: i.kind,
    addr: first
      ? `${first.address}/${first.prefixlen}${addrs.length > 1 ? ` +${addrs.length - 1}` : ''}`
      : '',
    mac: s.macs && i.mac ? i.mac : '',
    up: i.operstate === 'up' || (i.operstate === 'unknown' && i.flags.includes('up')),
    uplink: i.kind === 'physical',
  };
}

/** The row that stands for `n` folded interfaces (`what`: "ports", "veths"); a click lists them. */
function foldRow(key: string, indent: boolean, n: number, what: string): Row {
  return {
    key: `more:${key}`,
    indent,
    name: `${n} ${what}`,
    kind: 'fold',
    addr: 'click to list',
    mac: '',
    up: true,
    uplink: false,
    folded: n,
  };
}

/**
 * Rows of a card: physical uplinks, bridges each followed by their ports,
 * other devices, un-bridged veths, loopback last. Long port lists fold.
 */
export function cardRows(net: NetworkNamespace, s: Settings, expanded: ReadonlySet<string>): Row[] {
  const rows: Row[] = [];
  const byIndex = new Map(net.interfaces.map((i) => [i.index, i]));
  const used = new Set<number>();
  const visible = (i: Interface) => s.loopback || i.kind !== 'loopback';
  const sorted = [...net.interfaces].sort((a, b) => a.index - b.index);
  const emit = (i: Interface, indent: boolean) => {
    used.add(i.index);
    if (visible(i)) rows.push(rowOf(net.ino, i, s, indent));
  };
  for (const i of sorted) if (i.kind === 'physical') emit(i, false);
  for (const i of sorted) {
    if (
      used.has(i.index) ||
      !(i.kind === 'bridge' || i.kind === 'bond' || i.kind === 'vrf' || i.ports.length > 0)
    )
      continue;
    emit(i, false);
    const ports = i.ports
      .filter((p) => p.netns === net.ino)
      .map((p) => byIndex.get(p.index))
      .filter((p): p is Interface => p !== undefined)
      .sort((a, b) => a.index - b.index);
    const key = ikey(net.ino, i.index);
    const fold = ports.length > FOLD_AT && !expanded.has(key);
    for (const p of fold ? [] : ports) emit(p, true);
    if (fold) {
      for (const p of ports) used.add(p.index);
      rows.push(foldRow(key, true, ports.length, 'ports'));
    }
  }
  const rest = sorted.filter((i) => !used.has(i.index) && i.kind !== 'loopback');
  const routed = rest.filter((i) => i.kind === 'veth' && !i.master);
  const others = rest.filter((i) => !(i.kind === 'veth' && !i.master));
  for (const i of others) emit(i, false);
  const key = `${net.ino}/routed`;
  if (routed.length > FOLD_AT && !expanded.has(key)) {
    rows.push(foldRow(key, false, routed.length, 'veths'));
  } else for (const i of routed) emit(i, false);
  for (const i of sorted) if (i.kind === 'loopback') emit(i, false);
  if (rows.length === 0) {
    // Say so rather than draw an empty card: a namespace with nothing but lo is isolated.
    const onlyLo = net.interfaces.length > 0;
    rows.push({
      key: `note:${net.ino}`,
      indent: false,
      name: onlyLo ? 'lo only' : 'no interfaces',
      kind: 'note',
      addr: onlyLo ? 'isolated' : '',
      mac: '',
      up: true,
      uplink: false,
    });
  }
  return rows;
}

export function matches(card: CardInfo, query: string): boolean {
  if (!query) return true;
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => card.haystack.includes(term));
}
