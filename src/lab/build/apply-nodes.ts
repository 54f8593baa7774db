/**
 * `lab up`, the node phases: which nodes keep running, which are (re)started
 * and which stop; the namespaces opened before anything changes, and the
 * checks that nothing the lab does not own is in the way.
 */

import type { NodeDecl } from '../file/schema.js';
import type { LabNode, Topology } from '../file/topology.js';
import { nsLabel } from '../file/topology.js';
import { LabApplyError, pool, type UpContext, where } from './apply-context.js';
import { NsHandle } from './netlink-ops.js';
import {
  type NodeState,
  nodeAlive,
  startContainerNode,
  startDockerNode,
  startNetnsNodes,
  stopNode,
} from './nodes.js';
import { stateDir, writeState } from './state.js';

/** What happens to each node: kept as it runs, started (after stopping the old one), or stopped. */
export interface NodePlan {
  keep: Map<string, NodeState>;
  start: LabNode[];
  stopFirst: [string, NodeState][];
  stopLater: [string, NodeState][];
}

/** Node settings that need a new process when they change (routes, rules and sysctls do not). */
function nodeIdentity(d: NodeDecl | undefined): string {
  if (!d) return '';
  const { routes: _r, rules: _u, sysctls: _s, ...rest } = d;
  return JSON.stringify(rest);
}

/** Keeps a node whose holder still runs with the same settings; restarts the rest. */
export function planNodes(run: UpContext): NodePlan {
  const { prev, holders } = run;
  const keep = new Map<string, NodeState>();
  const start: LabNode[] = [];
  const stopFirst: [string, NodeState][] = [];
  for (const n of holders) {
    const old = prev?.nodes[n.name];
    if (
      old &&
      old.kind === n.kind &&
      nodeAlive(old) &&
      nodeIdentity(prev?.decl.nodes[n.name]) === nodeIdentity(n.decl)
    ) {
      keep.set(n.name, old);
    } else {
      if (old) stopFirst.push([n.name, old]);
      start.push(n);
    }
  }
  const stopLater = Object.entries(prev?.nodes ?? {}).filter(([n]) => !holders.some((h) => h.name === n));
  return { keep, start, stopFirst, stopLater };
}

/**
 * The host's namespace (and the namespaces of nodes still running) are opened
 * first, so objects in the way that the lab does not own are found before
 * anything is changed.
 */
export function openNamespaces(run: UpContext, plan: NodePlan): void {
  const { t, hostKey, state } = run;
  if (t.namespaces.includes(hostKey) || t.ifs.some((d) => d.ns === hostKey)) {
    run.handles.set(hostKey, NsHandle.open(hostKey, '/proc/self/ns/net'));
  }
  for (const [n, s] of plan.keep) {
    run.handles.set(n, NsHandle.open(n, `/proc/${s.pid}/ns/net`));
    state.nodes[n] = s;
  }
  preflight(run);
}

/** Stops the nodes that changed or died, then starts the missing ones. */
export async function startNodes(run: UpContext, plan: NodePlan): Promise<void> {
  const { t, dry, progress, name, prev, state } = run;
  const { start, stopFirst } = plan;
  for (const [n, s] of stopFirst) {
    await run.act('delete', `stop node ${n} (${s.kind}, changed or not running)`, () => stopNode(n, s));
  }
  if (start.length > 0) progress(`starting ${start.length} node(s)`);
  const hostsFile = containerHosts(t);
  let started = 0;
  const undoNode = (n: string) => async () => {
    const s = state.nodes[n];
    run.handles.get(n)?.close();
    run.handles.delete(n);
    if (s) await stopNode(n, s);
    delete state.nodes[n];
  };
  // Plain namespaces start in one batch; containers and docker nodes one by one (below).
  const batch = start.filter((n) => n.kind === 'netns');
  for (const n of batch) run.steps.push({ op: 'create', text: `start netns node ${n.name}` });
  if (!dry && batch.length > 0) {
    run.current = `start ${batch.length} netns node(s)`;
    const got = await startNetnsNodes(
      name,
      batch.map((n) => n.name),
    );
    for (const [n, s] of got) {
      state.nodes[n] = s;
      run.undo.push({ text: `start netns node ${n}`, fn: undoNode(n) });
      run.handles.set(n, NsHandle.open(n, `/proc/${s.pid}/ns/net`));
    }
    if (got.size > 20) progress(`  ${got.size} namespace(s) held`);
  }
  await pool(
    start.filter((n) => n.kind !== 'netns'),
    16,
    async (n) => {
      await run.act(
        'create',
        `start ${n.kind} node ${n.name}`,
        async () => {
          const s =
            n.kind === 'container'
              ? await startContainerNode(name, n.name, n.decl, stateDir(), { hosts: hostsFile })
              : await startDockerNode(name, n.name, n.decl);
          state.nodes[n.name] = s;
          run.handles.set(n.name, NsHandle.open(n.name, `/proc/${s.pid}/ns/net`));
          started++;
          if (started % 50 === 0) progress(`  ${started} container(s)`);
        },
        undoNode(n.name),
      );
    },
  );
  // Record the nodes at once: a crash from here on still leaves `down` something to find.
  if (!dry && start.length > 0) writeState({ ...state, nodes: { ...prev?.nodes, ...state.nodes } });
}

/** Nodes no longer declared. */
export async function stopUndeclaredNodes(run: UpContext, plan: NodePlan): Promise<void> {
  for (const [n, s] of plan.stopLater) {
    await run.act('delete', `stop node ${n} (${s.kind}, not declared)`, () => stopNode(n, s));
  }
}

/** Declared interfaces in the way: the host (or a kept node) already has one the lab does not own. */
function preflight(run: UpContext): void {
  const { t, hostKey } = run;
  // An address the host already uses elsewhere would make both unreachable: refuse it.
  const host = run.handle(hostKey);
  if (host) {
    const owner = new Map(run.links(hostKey).map((l) => [l.index, l]));
    const used = host.addrs().filter((a) => owner.get(a.index)?.alias !== run.mark);
    for (const d of t.ifs.filter((x) => x.ns === hostKey)) {
      for (const c of d.addrs) {
        const u = used.find((a) => a.address === c.address);
        if (u)
          throw new LabApplyError(
            `address ${c.address} of ${where(d)} is already used by host interface ${owner.get(u.index)?.name ?? u.index}`,
          );
      }
    }
  }
  for (const d of t.ifs) {
    if (!run.handle(d.ns)) continue;
    const a = run.link(d.ns, d.name);
    if (a && a.alias !== run.mark && d.ns === hostKey) {
      throw new LabApplyError(
        `${nsLabel(d.ns)} already has an interface "${d.name}" (${a.kind}) that lab ${t.name} does not own; rename it in the lab file`,
      );
    }
  }
  for (const d of t.ifs) {
    const p = d.macvlan
      ? { ns: d.macvlan.parentNs, name: d.macvlan.parent }
      : d.vxlan?.underlay
        ? { ns: d.vxlan.underlayNs ?? d.ns, name: d.vxlan.underlay }
        : undefined;
    if (!p || !run.handle(p.ns)) continue;
    const declared = t.ifs.some((x) => x.ns === p.ns && x.name === p.name);
    if (!declared && !run.link(p.ns, p.name)) {
      throw new LabApplyError(
        `${d.kind} ${where(d)}: ${d.macvlan ? 'parent' : 'underlay'} ${nsLabel(p.ns)}:${p.name} does not exist`,
      );
    }
  }
}

/** /etc/hosts entries of a container: every lab node with an IPv4 address. */
function containerHosts(t: Topology): [string, string][] {
  const out: [string, string][] = [];
  for (const n of t.nodes) {
    const a = t.ifs
      .filter((d) => d.node === n.name)
      .flatMap((d) => d.addrs)
      .find((c) => c.family === 'inet');
    if (a) out.push([a.address, n.name]);
  }
  return out;
}
