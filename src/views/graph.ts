/**
 * Graph exports of the wiring (`discover --format dot|mermaid`): one cluster
 * per network namespace holding its interfaces, one edge per wire — veth
 * pairs, bridge/bond ports, macvlan/ipvlan/vlan parents, vxlan and tunnel
 * underlays — so Graphviz or a Markdown renderer draws what the text tree
 * spells out. Loopback interfaces carry no wires and are left out.
 */
import type { Discovery, Interface, InterfaceRef, NetworkNamespace } from '../model/types.js';
import { escapeTerminal } from './terminal.js';
import { matchingNetworks, TreeContext } from './text-tree.js';

export interface GraphOptions {
  /** Only these namespaces (text-tree filter syntax) and the far ends of their wires. */
  netns?: string;
}

interface Edge {
  a: Interface;
  b: Interface;
  label: string;
  style: 'solid' | 'dashed' | 'dotted';
}

interface Graph {
  clusters: { ns: NetworkNamespace; title: string; nodes: Interface[] }[];
  edges: Edge[];
}

const nodeId = (i: { netns: number; index: number }): string => `n${i.netns}_${i.index}`;

function buildGraph(d: Discovery, options: GraphOptions): Graph {
  const ctx = new TreeContext(d);
  const lookup = (r: InterfaceRef | undefined) => ctx.lookup(r);
  const selected = new Set(matchingNetworks(d, options.netns).map((n) => n.ino));
  const edges: Edge[] = [];
  const seenPairs = new Set<string>();
  const add = (a: Interface, b: Interface | undefined, label: string, style: Edge['style']) => {
    if (!b) return;
    if (!selected.has(a.netns) && !selected.has(b.netns)) return;
    // A veth pair appears from both ends: draw it once.
    const key = [nodeId(a), nodeId(b)].sort().join('|') + label;
    if (seenPairs.has(key)) return;
    seenPairs.add(key);
    edges.push({ a, b, label, style });
  };

  const all = Object.values(d.networks).sort(
    (a, b) => Number(b.isInitial) - Number(a.isInitial) || a.ino - b.ino,
  );
  for (const ns of all) {
    for (const i of [...ns.interfaces].sort((x, y) => x.index - y.index)) {
      add(i, lookup(i.veth?.peer ?? (i.kind === 'veth' ? i.link : undefined)), 'veth', 'solid');
      const master = lookup(i.master);
      if (master) add(i, master, `${master.kind} port`, 'dashed');
      if (i.macvlan) add(i, lookup(i.macvlan.parent), i.macvlan.macvtap ? 'macvtap' : 'macvlan', 'dashed');
      if (i.ipvlan) add(i, lookup(i.ipvlan.parent), 'ipvlan', 'dashed');
      if (i.vlan) add(i, lookup(i.vlan.parent), `vlan ${i.vlan.id}`, 'dashed');
      if (i.vxlan) add(i, lookup(i.vxlan.underlay), `vxlan ${i.vxlan.vni}`, 'dotted');
      if (i.tunnel) add(i, lookup(i.tunnel.underlay), i.tunnel.type, 'dotted');
    }
  }

  // Every selected namespace is drawn; others only for the interfaces its wires reach.
  const reached = new Set<Interface>();
  for (const e of edges) {
    reached.add(e.a);
    reached.add(e.b);
  }
  const clusters: Graph['clusters'] = [];
  for (const ns of all) {
    const nodes = [...ns.interfaces]
      .sort((x, y) => x.index - y.index)
      .filter((i) => i.kind !== 'loopback' && (selected.has(ns.ino) || reached.has(i)));
    if (nodes.length === 0 && !selected.has(ns.ino)) continue;
    const name = ctx.netnsName(ns.ino);
    clusters.push({ ns, title: `netns ${ns.ino}${name ? ` (${name})` : ''}`, nodes });
  }
  return { clusters, edges };
}

const nodeLabel = (i: Interface): string[] => [
  i.name,
  i.kind,
  ...i.addresses
    .filter((a) => a.scope !== 'link' && a.scope !== 'host')
    .map((a) => `${a.address}/${a.prefixlen}`),
];

/**
 * Inside a DOT string: backslash and double quote escaped, and no control character (a
 * graph is printed to a terminal too, and a newline would end the string).
 */
const esc = (s: string): string => escapeTerminal(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const dq = (s: string): string => `"${esc(s)}"`;
/** Lines of a DOT label, joined with DOT's own "\n" escape. */
const dqLines = (lines: string[]): string => `"${lines.map(esc).join('\\n')}"`;

/** Graphviz DOT (an undirected graph; render with `dot -Tsvg`). */
export function toDot(d: Discovery, options: GraphOptions = {}): string {
  const g = buildGraph(d, options);
  const out = [
    'graph wirescope {',
    '  rankdir=LR;',
    '  node [shape=box, fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=9];',
  ];
  for (const c of g.clusters) {
    out.push(`  subgraph ${dq(`cluster_${c.ns.ino}`)} {`);
    out.push(`    label=${dq(c.title)};`);
    for (const i of c.nodes) out.push(`    ${nodeId(i)} [label=${dqLines(nodeLabel(i))}];`);
    out.push('  }');
  }
  for (const e of g.edges) {
    out.push(
      `  ${nodeId(e.a)} -- ${nodeId(e.b)} [label=${dq(e.label)}${e.style === 'solid' ? '' : `, style=${e.style}`}];`,
    );
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** Mermaid text: characters Mermaid treats as syntax become entity codes; controls escaped as in DOT. */
const mq = (s: string): string =>
  escapeTerminal(s)
    .replace(/"/g, '#quot;')
    .replace(/[[\]{}()|<>]/g, (c) => `#${c.charCodeAt(0)};`);

/** A Mermaid flowchart (renders in Markdown viewers that support Mermaid). */
export function toMermaid(d: Discovery, options: GraphOptions = {}): string {
  const g = buildGraph(d, options);
  const out = ['flowchart LR'];
  for (const c of g.clusters) {
    out.push(`  subgraph ns${c.ns.ino}["${mq(c.title)}"]`);
    for (const i of c.nodes) out.push(`    ${nodeId(i)}["${nodeLabel(i).map(mq).join('<br/>')}"]`);
    out.push('  end');
  }
  const arrow = { solid: '---', dashed: '-.-', dotted: '-.-' } as const;
  for (const e of g.edges) out.push(`  ${nodeId(e.a)} ${arrow[e.style]}|"${mq(e.label)}"| ${nodeId(e.b)}`);
  return `${out.join('\n')}\n`;
}
