/**
 * Node views → one merged model. Pure.
 *
 * Each agent's model stays whole under its node's entry (its ids are its
 * node's: see contract.ts "Identity across nodes"), so nothing collides and a
 * v1 client's per-node document is that model's. A node appears once: the
 * first agent to name a node owns the entry (a fresh one over a stale one),
 * a second agent naming the same node is listed under `agents` with the
 * reason, never merged into it (two agents of one node would show every
 * namespace twice). A stale agent keeps its entry and its last model.
 */
import type { Discovery } from '../model/types.js';
import type { AgentView } from './agents/follow.js';
import type { AgentProblem, NodeSummary, OverlayWire } from './contract.js';
import { overlayWires } from './overlay.js';

export interface MergedNode {
  readonly summary: NodeSummary;
  readonly discovery: Discovery | undefined;
}

export interface Merged {
  /** By node name, in name order. */
  readonly nodes: ReadonlyMap<string, MergedNode>;
  readonly agents: readonly AgentProblem[];
  readonly overlay: readonly OverlayWire[];
}

/** A cluster-wide id: the node's name and the object's id on that node (contract.ts). */
export const hubId = (node: string, ...id: readonly (string | number)[]): string => [node, ...id].join('/');

export function countsOf(d: Discovery | undefined): NodeSummary['counts'] {
  if (!d) return { namespaces: 0, networks: 0, interfaces: 0, containers: 0 };
  let interfaces = 0;
  for (const n of Object.values(d.networks)) interfaces += n.interfaces.length;
  return {
    namespaces: Object.keys(d.namespaces).length,
    networks: Object.keys(d.networks).length,
    interfaces,
    containers: Object.keys(d.containers).length,
  };
}

export function summaryOf(v: AgentView & { name: string }): NodeSummary {
  return {
    name: v.name,
    url: v.url,
    state: v.state,
    lastSeen: v.lastSeen === undefined ? null : new Date(v.lastSeen).toISOString(),
    error: v.error ?? null,
    generation: v.generation,
    counts: countsOf(v.discovery),
  };
}

const RANK = { fresh: 0, stale: 1, connecting: 2 } as const;

export function merge(views: readonly AgentView[]): Merged {
  const agents: AgentProblem[] = [];
  const byName = new Map<string, AgentView & { name: string }>();
  // Fresh before stale before connecting, then by URL: which agent owns a contested name is stable.
  const ordered = [...views].sort((a, b) => RANK[a.state] - RANK[b.state] || (a.url < b.url ? -1 : 1));
  for (const v of ordered) {
    if (v.name === undefined) {
      agents.push({ url: v.url, name: null, state: v.state, error: v.error ?? 'not reached yet' });
      continue;
    }
    const owner = byName.get(v.name);
    if (owner) {
      agents.push({
        url: v.url,
        name: v.name,
        state: v.state,
        error: `node "${v.name}" is already served by ${owner.url}: one agent per node`,
      });
      continue;
    }
    byName.set(v.name, { ...v, name: v.name });
  }
  const names = [...byName.keys()].sort();
  const nodes = new Map<string, MergedNode>();
  const models = new Map<string, Discovery>();
  for (const name of names) {
    const v = byName.get(name) as AgentView & { name: string };
    nodes.set(name, { summary: summaryOf(v), discovery: v.discovery });
    if (v.discovery) models.set(name, v.discovery);
  }
  agents.sort((a, b) => (a.url < b.url ? -1 : 1));
  return { nodes, agents, overlay: overlayWires(models) };
}
