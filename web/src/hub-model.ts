/**
 * The hub's picture (a document of `wirescope hub`, src/hub/contract.ts):
 * nodes as the outer groups, each node's network namespaces as cards inside,
 * and the overlay wires between cards of different nodes. Pure, no DOM
 * (hub-view.ts draws it); the single-host UI is not involved.
 */
import type { HubDocument, NodeSummary, OverlayWire } from '../../src/hub/contract.js';
import type { Discovery, Interface, NetworkNamespace } from './model.js';

export interface HubRow {
  /** Cluster-wide interface key: NODE/NETNS/INDEX (src/hub/merge.ts hubId). */
  key: string;
  name: string;
  kind: string;
  addresses: string[];
  /** What an overlay device sends to, e.g. "vxlan 42 → 10.0.0.2:4789". */
  overlay?: string;
}

export interface HubCard {
  /** NODE/INO */
  key: string;
  title: string;
  subtitle: string;
  rows: HubRow[];
}

export interface HubGroup {
  node: NodeSummary;
  /** "fresh", or e.g. "stale, last seen 12:03:04 (5 min ago): connection refused". */
  status: string;
  cards: HubCard[];
}

export interface HubWire {
  from: string;
  /** Undefined: the wire leaves the cluster (or its counterpart is missing: `status`). */
  to?: string;
  status: OverlayWire['status'];
  label: string;
}

export interface HubPicture {
  groups: HubGroup[];
  wires: HubWire[];
  /** Agents that are no node of the picture, one line each. */
  problems: string[];
}

const ifKey = (node: string, i: { netns: number; index: number }) => `${node}/${i.netns}/${i.index}`;

function overlayText(i: Interface): string | undefined {
  const t = i.vxlan ?? i.geneve;
  if (!t) return undefined;
  const kind = i.vxlan ? 'vxlan' : 'geneve';
  return `${kind} ${t.vni} → ${t.remote ?? (i.vxlan?.group ? `group ${i.vxlan.group}` : 'learning')}${t.port !== undefined ? `:${t.port}` : ''}`;
}

function cardTitle(d: Discovery, net: NetworkNamespace): { title: string; subtitle: string } {
  const containers = Object.values(d.containers).filter((c) => c.netns === net.ino);
  if (net.isInitial) return { title: 'node', subtitle: `netns ${net.ino} (initial)` };
  if (containers.length > 0)
    return {
      title: containers.map((c) => c.name).join(', '),
      subtitle: `netns ${net.ino}, ${containers[0]?.type}`,
    };
  const tenant = net.tenants[0];
  return {
    title: tenant ? `${tenant.comm}(${tenant.pid})` : `netns ${net.ino}`,
    subtitle: `netns ${net.ino}`,
  };
}

/** "12:03:04 (5 min ago)". */
export function lastSeenText(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const t = Date.parse(iso);
  const s = Math.max(0, Math.round((now - t) / 1000));
  const ago =
    s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  return `${new Date(t).toISOString().slice(11, 19)} UTC (${ago})`;
}

export function statusText(n: NodeSummary, now: number): string {
  if (n.state === 'fresh') return 'fresh';
  const seen = n.state === 'stale' ? `, last seen ${lastSeenText(n.lastSeen, now)}` : '';
  return `${n.state}${seen}${n.error ? `: ${n.error}` : ''}`;
}

/** The picture of a hub document; `loopback` false hides lo devices (as the single-host view does). */
export function hubPicture(doc: HubDocument, now: number, loopback = false): HubPicture {
  const groups: HubGroup[] = [];
  for (const [name, node] of Object.entries(doc.nodes)) {
    const d = node.discovery;
    const cards: HubCard[] = [];
    const nets = d
      ? Object.values(d.networks).sort((a, b) => Number(b.isInitial) - Number(a.isInitial) || a.ino - b.ino)
      : [];
    for (const net of nets) {
      if (!d) break;
      const rows: HubRow[] = net.interfaces
        .filter((i) => loopback || i.kind !== 'loopback')
        .map((i) => {
          const overlay = overlayText(i);
          return {
            key: ifKey(name, i),
            name: i.name,
            kind: i.kind,
            addresses: i.addresses.map((a) => `${a.address}/${a.prefixlen}`),
            ...(overlay ? { overlay } : {}),
          };
        });
      cards.push({ key: `${name}/${net.ino}`, ...cardTitle(d, net), rows });
    }
    const { discovery: _, ...summary } = node;
    groups.push({ node: summary, status: statusText(summary, now), cards });
  }
  const wires: HubWire[] = doc.overlay.map((w) => ({
    from: ifKey(w.from.node, w.from),
    ...(w.to ? { to: ifKey(w.to.node, w.to) } : {}),
    status: w.status,
    label:
      w.status === 'linked'
        ? `${w.kind} ${w.vni} ${w.from.node}:${w.from.name} ⇄ ${w.to?.node}:${w.to?.name}`
        : w.status === 'unmatched'
          ? `${w.kind} ${w.vni} ${w.from.node}:${w.from.name} → ${w.remote} on ${w.remoteNodes?.join(', ')}: no device of VNI ${w.vni}${w.port !== undefined ? `, port ${w.port}` : ''} there`
          : `${w.kind} ${w.vni} ${w.from.node}:${w.from.name} → ${w.remote}: leaves the cluster`,
  }));
  const problems = doc.agents.map((a) => `${a.name ?? a.url} (${a.url}): ${a.state}, ${a.error}`);
  return { groups, wires, problems };
}
