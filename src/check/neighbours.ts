/**
 * Who shares an L2 segment with the start namespace: a pure walk over the
 * discovered wires. From each interface of the start namespace: a veth's peer
 * (and, when that peer is a bridge port, every other port of the bridge and
 * what is beyond it: veth peers, further bridges, vxlan tunnels to namespaces
 * of this host), macvlan/ipvlan siblings on one parent. Each far end's
 * namespace is a neighbour; a bridge's own namespace is the switch, not a
 * neighbour. Nothing here enters a namespace or sends a packet.
 */
import { LAB_NODE_TYPE } from '../model/groups.js';
import { interfaceKey, sameInterface } from '../model/ids.js';
import type { Discovery, Interface, InterfaceRef, NetworkNamespace } from '../model/types.js';
import type { Neighbour, Neighbourhood, Segment } from './types.js';

type Ref = Pick<InterfaceRef, 'netns' | 'index'>;

function ifaceAt(d: Discovery, ref: Ref | undefined): Interface | undefined {
  if (!ref) return undefined;
  return d.networks[String(ref.netns)]?.interfaces.find((i) => i.index === ref.index);
}

/**
 * A segment's network name and whether names there have a resolver. Only an
 * engine network has one: Docker's embedded DNS serves every network but the
 * default bridge, podman's aardvark-dns every network with dns_enabled (not
 * its default `podman`). A bridge or veth pair no engine names (plain
 * namespaces, CNI networks of containerd and Kubernetes) has none we know of:
 * asking a nameserver for a neighbour's name there would only report every
 * name as broken.
 */
function segmentOf(key: string, device: string, named: Interface | undefined): Segment {
  const net = named?.network;
  const why = !net
    ? 'unnamed'
    : net.default === true
      ? 'default'
      : net.dns === false
        ? 'disabled'
        : undefined;
  return {
    key,
    device,
    ...(net ? { network: net.name } : {}),
    ...(net?.default === true ? { isDefault: true } : {}),
    noDns: why !== undefined,
    ...(why !== undefined ? { noDnsWhy: why } : {}),
  };
}

/**
 * The vxlan devices on this host at the other end of `v`'s tunnel: same VNI
 * and UDP port, in the namespace that owns `v`'s unicast remote (the
 * namespace of a vxlan's underlay, where its UDP socket lives), bound there
 * (`local`) to that address if bound at all. A multicast group or FDB-driven
 * peers are not in the model: no overlay peer is guessed for them.
 */
function overlayPeers(d: Discovery, v: Interface): Interface[] {
  const x = v.vxlan;
  if (!x?.remote) return [];
  const out: Interface[] = [];
  for (const ns of Object.values(d.networks)) {
    for (const w of ns.interfaces) {
      const y = w.vxlan;
      if (!y || y.vni !== x.vni || sameInterface(w, v)) continue;
      if (x.port !== undefined && y.port !== undefined && x.port !== y.port) continue;
      if (y.local !== undefined && y.local !== x.remote) continue;
      const underlay = d.networks[String(y.underlay?.netns ?? w.netns)];
      if (underlay?.interfaces.some((i) => i.addresses.some((a) => a.address === x.remote))) out.push(w);
    }
  }
  return out;
}

/** What is at the other end of a wire from `i`: a veth's peer, a vxlan's overlay peers. */
function across(d: Discovery, i: Interface): Interface[] {
  if (i.kind === 'veth') {
    const peer = ifaceAt(d, i.veth?.peer ?? i.link);
    return peer ? [peer] : [];
  }
  return i.vxlan ? overlayPeers(d, i) : [];
}

/**
 * Far ends of one interface of the start namespace: [segment, interface in the
 * neighbour]. One L2 segment may span several bridges joined by veth pairs or
 * vxlan tunnels between namespaces of this host: the walk crosses them all
 * (each bridge once), and every interface it reaches that is no bridge port is
 * an end. The segment is named after the first bridge.
 */
function farEnds(d: Discovery, start: Interface, bridges: Interface[]): [Segment, Interface][] {
  const out: [Segment, Interface][] = [];
  const seen = new Set<string>([interfaceKey(start)]);
  let seg: Segment | undefined;
  let first: Interface[];
  if (ifaceAt(d, start.master)?.kind === 'bridge') {
    // A bridge port is a switch port, no endpoint: the namespace sits on that segment through
    // the bridge device (its address), and the walk starts there.
    first = [];
  } else if (start.kind === 'bridge') {
    // The namespace that holds the bridge (the host, for Docker's): every port leads on.
    seg = segmentOf(`bridge:${interfaceKey(start)}`, start.name, start);
    first = start.ports.flatMap((ref) => {
      const port = ifaceAt(d, ref);
      if (!port) return [];
      seen.add(interfaceKey(port));
      return across(d, port);
    });
  } else first = across(d, start);
  if (first.length > 0) {
    const ends: Interface[] = [];
    const queue = [...first];
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) {
      if (seen.has(interfaceKey(x))) continue;
      seen.add(interfaceKey(x));
      const bridge = x.master ? ifaceAt(d, x.master) : undefined;
      if (bridge?.kind !== 'bridge') {
        ends.push(x);
        continue;
      }
      if (seen.has(interfaceKey(bridge))) continue;
      seen.add(interfaceKey(bridge));
      seg ??= segmentOf(`bridge:${interfaceKey(bridge)}`, bridge.name, bridge);
      bridges.push(bridge);
      for (const portRef of bridge.ports) {
        const port = ifaceAt(d, portRef);
        if (!port || seen.has(interfaceKey(port))) continue;
        seen.add(interfaceKey(port));
        queue.push(...across(d, port));
      }
    }
    const peer = first[0];
    seg ??= segmentOf(`${start.kind}:${interfaceKey(start)}`, start.name, peer?.network ? peer : undefined);
    for (const e of ends) out.push([seg, e]);
  }
  const parentOf = (i: Interface): Ref | undefined => i.macvlan?.parent ?? i.ipvlan?.parent;
  const parent = parentOf(start);
  if (parent) {
    const parentIf = ifaceAt(d, parent);
    const seg = segmentOf(`${start.kind}:${interfaceKey(parent)}`, parentIf?.name ?? start.name, parentIf);
    for (const ns of Object.values(d.networks)) {
      for (const i of ns.interfaces) {
        const p = parentOf(i);
        if (sameInterface(p, parent) && i.netns !== start.netns) {
          out.push([seg, i]);
        }
      }
    }
  }
  return out;
}

function noDnsNote(seg: Segment): string {
  if (seg.noDnsWhy === 'unnamed')
    return `segment ${seg.device} belongs to no engine network with a name service, so its neighbours are checked by address only`;
  const what =
    seg.noDnsWhy === 'default' ? "is the engine's default bridge: it has no DNS" : 'has DNS disabled';
  return `network ${seg.network ?? seg.device} ${what}, so its neighbours are checked by address only`;
}

/** The container living in a namespace, preferring engine containers over lab nodes. */
export function containerIn(d: Discovery, ns: NetworkNamespace): string | undefined {
  for (const t of ns.tenants) {
    const key = t.container ?? d.processes[String(t.pid)]?.container;
    if (key !== undefined && d.containers[key]) return key;
  }
  return Object.values(d.containers).find((c) => c.netns === ns.ino)?.id;
}

export function labelOf(d: Discovery, netns: number, container: string | undefined): string {
  const c = container ? d.containers[container] : undefined;
  if (c) return c.prefix ? `${c.prefix}/${c.name || c.id}` : c.name || c.id;
  // A namespace made with `ip netns add` is known by its bind mount's name.
  const mount = d.namespaces[String(netns)]?.bindMounts.find((b) => b.mntns === d.initial.mnt);
  const base = mount?.path.split('/').pop();
  return base ? base : `netns ${netns}`;
}

export function listeningPorts(ns: NetworkNamespace): Neighbour['tcpPorts'] {
  const ports = { inet: new Set<number>(), inet6: new Set<number>() };
  for (const s of ns.sockets) {
    if (s.protocol !== 'tcp' || s.macrostate !== 'listening') continue;
    // A listener on loopback only cannot be reached from a neighbour.
    if (s.localAddress.startsWith('127.') || s.localAddress === '::1') continue;
    ports[s.family].add(s.localPort);
  }
  const sorted = (x: Set<number>) => [...x].sort((a, b) => a - b);
  return { inet: sorted(ports.inet), inet6: sorted(ports.inet6) };
}

/**
 * TCP ports that take connections to `address` in `ns`: listeners on its
 * family's wildcard (a dual-stack `::` listener is also listed as `0.0.0.0`
 * by discovery) or bound to that very address. A service bound to another
 * address of a multi-homed neighbour proves nothing about this one.
 */
export function portsFor(ns: NetworkNamespace, address: string): number[] {
  const family = address.includes(':') ? 'inet6' : 'inet';
  const wildcard = family === 'inet' ? '0.0.0.0' : '::';
  const ports = new Set<number>();
  for (const s of ns.sockets) {
    if (s.protocol !== 'tcp' || s.macrostate !== 'listening' || s.family !== family) continue;
    if (s.localAddress === wildcard || s.localAddress === address) ports.add(s.localPort);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Addresses a neighbour can be reached at: global (not link-local, not loopback). */
export function reachableAddresses(i: Interface): string[] {
  return i.addresses.filter((a) => a.scope === 'global' || a.scope === 'universe').map((a) => a.address);
}

/** The neighbourhood of network namespace `netns` in discovery `d`. */
export function findNeighbours(d: Discovery, netns: number): Neighbourhood {
  const ns = d.networks[String(netns)];
  if (!ns) throw new Error(`network namespace ${netns} is not in the discovery`);
  const container = containerIn(d, ns);
  const byNetns = new Map<number, Neighbour>();
  const notes: string[] = [];
  const noted = new Set<string>();
  const bridges: Interface[] = [];
  for (const start of ns.interfaces) {
    for (const [seg, far] of farEnds(d, start, bridges)) {
      if (far.netns === netns) continue;
      const farNs = d.networks[String(far.netns)];
      if (!farNs) continue;
      let n = byNetns.get(far.netns);
      if (!n) {
        const c = containerIn(d, farNs);
        n = {
          netns: far.netns,
          ...(c !== undefined ? { container: c } : {}),
          label: labelOf(d, far.netns, c),
          segments: [],
          addresses: [],
          tcpPorts: listeningPorts(farNs),
        };
        byNetns.set(far.netns, n);
      }
      if (!n.segments.some((s) => s.key === seg.key)) n.segments.push(seg);
      for (const a of reachableAddresses(far)) if (!n.addresses.includes(a)) n.addresses.push(a);
      // Plain namespaces and lab nodes have no name anywhere: by address is no surprise there.
      const named = n.container !== undefined && d.containers[n.container]?.type !== LAB_NODE_TYPE;
      if (seg.noDns && (seg.noDnsWhy !== 'unnamed' || named) && !noted.has(seg.key)) {
        noted.add(seg.key);
        notes.push(noDnsNote(seg));
      }
    }
  }
  const neighbours = [...byNetns.values()].sort(
    (a, b) => a.label.localeCompare(b.label) || a.netns - b.netns,
  );
  return {
    target: { netns, label: labelOf(d, netns, container), ...(container !== undefined ? { container } : {}) },
    neighbours,
    gateways: bridges.flatMap((b) => reachableAddresses(b).map((address) => ({ address, netns: b.netns }))),
    notes,
  };
}
