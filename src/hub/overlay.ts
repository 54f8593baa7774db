/**
 * Wires between nodes (overlay links), from the nodes' own models. Pure.
 *
 * A VXLAN or Geneve device names its peer only by the underlay address it
 * sends to (IFLA_VXLAN_REMOTE / IFLA_GENEVE_REMOTE, with IFLA_*_ID the VNI and
 * IFLA_*_PORT the UDP destination port). Packets reach the peer's device only
 * if the peer decapsulates the same VNI on the same port (RFC 7348 §5, RFC 8926
 * §3.4), so a device on node A is wired to a device on node B when its remote
 * is an address of an interface on B and B has a device of the same kind, VNI
 * and port; among several, the one whose own remote is an address of A. A
 * remote that is an address of no node leaves the cluster; a remote on a
 * node without such a device is `unmatched` (the overlay is half built).
 * Devices with a multicast group instead of a remote (learning overlays) name
 * no peer and make no wire.
 *
 * WireGuard peers would be matched by endpoint and public key, but the native
 * model holds no peers yet (Interface.wireguard is empty: reading them needs
 * the wireguard generic netlink family), so no WireGuard wire is made.
 */
import type { Discovery, Interface } from '../model/types.js';
import type { NodeInterfaceRef, OverlayKind, OverlayWire } from './contract.js';

export type { OverlayWire } from './contract.js';

interface Tunnel {
  ref: NodeInterfaceRef;
  kind: OverlayKind;
  vni: number;
  port: number | undefined;
  remote: string | undefined;
}

/** IPv6 text may differ in case; the kernel's formatting is otherwise canonical. */
const canonical = (address: string): string => address.toLowerCase();

function tunnelOf(node: string, i: Interface): Tunnel | undefined {
  const ref = { node, netns: i.netns, index: i.index, name: i.name };
  if (i.vxlan) return { ref, kind: 'vxlan', vni: i.vxlan.vni, port: i.vxlan.port, remote: i.vxlan.remote };
  if (i.geneve)
    return { ref, kind: 'geneve', vni: i.geneve.vni, port: i.geneve.port, remote: i.geneve.remote };
  return undefined;
}

const pairKey = (a: NodeInterfaceRef, b: NodeInterfaceRef): string => {
  const ka = `${a.node}/${a.netns}/${a.index}`;
  const kb = `${b.node}/${b.netns}/${b.index}`;
  return ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
};

/** The overlay wires between the given nodes' models (node name → model). */
export function overlayWires(nodes: ReadonlyMap<string, Discovery>): OverlayWire[] {
  // Who owns each address: the nodes (an address like docker0's 172.17.0.1 is on every node).
  const owners = new Map<string, Set<string>>();
  const tunnels: Tunnel[] = [];
  for (const [node, d] of nodes) {
    for (const net of Object.values(d.networks)) {
      for (const i of net.interfaces) {
        for (const a of i.addresses) {
          const key = canonical(a.address);
          const set = owners.get(key) ?? new Set<string>();
          owners.set(key, set);
          set.add(node);
        }
        const t = tunnelOf(node, i);
        if (t) tunnels.push(t);
      }
    }
  }
  const sameOverlay = (a: Tunnel, b: Tunnel) => a.kind === b.kind && a.vni === b.vni && a.port === b.port;
  const wires: OverlayWire[] = [];
  const linked = new Set<string>();
  for (const t of tunnels) {
    if (t.remote === undefined) continue;
    const remote = canonical(t.remote);
    const all = owners.get(remote);
    // The remote is this node's own address (a loop on one host): a single host's wire, not an overlay.
    if (all?.has(t.ref.node)) continue;
    const base = {
      kind: t.kind,
      vni: t.vni,
      ...(t.port !== undefined ? { port: t.port } : {}),
      from: t.ref,
      remote: t.remote,
    };
    if (!all || all.size === 0) {
      wires.push({ ...base, status: 'leaves-cluster' });
      continue;
    }
    const remoteNodes = [...all].sort();
    const candidates = tunnels.filter((u) => all.has(u.ref.node) && sameOverlay(t, u));
    // The counterpart that sends back to this node, else any of the same overlay.
    const back = candidates.find(
      (u) => u.remote !== undefined && owners.get(canonical(u.remote))?.has(t.ref.node),
    );
    const to = (back ?? candidates[0])?.ref;
    if (!to) {
      wires.push({ ...base, status: 'unmatched', remoteNodes });
      continue;
    }
    const key = pairKey(t.ref, to);
    if (linked.has(key)) continue;
    linked.add(key);
    wires.push({ ...base, status: 'linked', to, remoteNodes });
  }
  return wires;
}
