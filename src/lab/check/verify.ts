/**
 * `verifyLab(topology, discovery, facts)`: what the kernel has, measured
 * against what the lab declares (pure). Nodes are found by the state file's
 * record of their holder process — pid and start time, and the network
 * namespace it had — never by the process mark alone: argv[0]
 * `wirescope-lab:<lab>:<node>` is a name any process can give itself. A
 * docker node the record does not place is found by its engine labels
 * (whoever can label a Docker container can do anything as root anyway).
 * Every interface, wire, address, route (of any
 * table) and policy rule comes from the discovery model. Facts the model does not carry (nft rule
 * comments, sysctls, the reachability matrix) come in `facts`, read by
 * verify-run.ts.
 *
 * Each difference is reported once, at the object that differs: a dead node
 * hides the interfaces it took along; a missing veth hides its addresses and
 * the routes that went through it; a changed address is one `~`, not a `-`
 * and a `+`, and so is a route or rule that changed. Kernel-made state — IPv6
 * link-local addresses, connected and local routes, the kernel's own rules,
 * the loopback device — is never drift.
 */

import type { RuleFound } from '../../kernel/nftables/table-rules.js';
import type { Drift } from '../../model/changes.js';
import { LABEL_LAB, LABEL_NODE } from '../../model/lab-marks.js';
import type { Discovery } from '../../model/types.js';
import { escapeTerminal } from '../../views/terminal.js';
import { HOLDER_KINDS, type Topology } from '../file/topology.js';
import { VerifyContext } from './verify-context.js';
import { checkNft, checkReach, checkSysctls } from './verify-facts.js';
import { checkInterfaces, checkUndeclaredInterfaces } from './verify-interfaces.js';
import { checkRoutes, checkRules } from './verify-routing.js';

// The drift shape is also the service's /api/verify contract (shared with the web UI).
export type { Drift } from '../../model/changes.js';

export interface ReachCheck {
  from: string;
  to: string;
  address: string;
  expected: boolean;
  reachable: boolean;
}

export interface VerifyFacts {
  /** Rule comments of the lab's nft table, per namespace key (node name, or HOST / the host node). */
  nft?: Record<string, RuleFound[] | undefined>;
  /** Sysctl values found, keyed "ns|key". */
  sysctls?: Record<string, string | undefined>;
  /**
   * The state file's record of each node's holder process (state.ts): the
   * only proof that a netns or container node runs. A node without a record,
   * or whose recorded process is gone or replaced, is not running.
   */
  owners?: Record<string, NodeOwner>;
  reach?: ReachCheck[];
}

export interface VerifyResult {
  lab: string;
  clean: boolean;
  drift: Drift[];
  /** Network namespace inode per node (absent: not running). */
  nodes: Record<string, number | undefined>;
}

/** A node's holder process as the state file recorded it. */
export interface NodeOwner {
  pid: number;
  starttime: number;
  /** Its network namespace inode when recorded. */
  netns?: number;
}

/** The process holding a node, found in the discovery. */
export interface NodeHolder {
  pid: number;
  starttime: number;
  netns: number;
}

/**
 * The holder process of each namespace-holding node: the recorded process
 * when it still runs (same pid and start time) in the namespace it had;
 * for a docker node otherwise the running container with the lab's labels.
 */
export function nodeHolders(
  t: Topology,
  d: Discovery,
  owners: Record<string, NodeOwner> = {},
): Record<string, NodeHolder | undefined> {
  const out: Record<string, NodeHolder | undefined> = {};
  for (const n of t.nodes) {
    if (!HOLDER_KINDS.has(n.kind)) continue;
    const o = owners[n.name];
    const p = o ? d.processes[String(o.pid)] : undefined;
    const net = p?.namespaces.net;
    if (
      o &&
      p &&
      net !== undefined &&
      p.starttime === o.starttime &&
      (o.netns === undefined || net === o.netns)
    ) {
      out[n.name] = { pid: p.pid, starttime: p.starttime, netns: net };
      continue;
    }
    if (n.kind === 'docker') {
      const c = Object.values(d.containers).find(
        (c) => c.labels[LABEL_LAB] === t.name && c.labels[LABEL_NODE] === n.name && c.state === 'running',
      );
      if (c?.netns !== undefined && c.pid !== undefined && c.starttime !== undefined) {
        out[n.name] = { pid: c.pid, starttime: c.starttime, netns: c.netns };
        continue;
      }
    }
    out[n.name] = undefined;
  }
  return out;
}

/** Locates each namespace-holding node (and the host) in the discovery: its network namespace inode. */
export function locateNodes(
  t: Topology,
  d: Discovery,
  owners: Record<string, NodeOwner> = {},
): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  const host = Object.values(d.networks).find((n) => n.isInitial)?.ino ?? d.initial.net;
  out[t.hostKey] = host;
  for (const [n, h] of Object.entries(nodeHolders(t, d, owners))) out[n] = h?.netns;
  return out;
}

export function verifyLab(t: Topology, d: Discovery, facts: VerifyFacts = {}): VerifyResult {
  const cx = new VerifyContext(t, d, facts, locateNodes(t, d, facts.owners));
  checkNodes(cx);
  checkInterfaces(cx);
  checkUndeclaredInterfaces(cx);
  checkRoutes(cx);
  checkRules(cx);
  checkSysctls(cx);
  checkNft(cx);
  // Last: a pair with a node already drifting is a consequence.
  checkReach(cx);
  return { lab: t.name, clean: cx.drift.length === 0, drift: cx.drift, nodes: cx.nodes };
}

/** Namespace-holding nodes that do not run, or whose namespace was not discovered. */
export function checkNodes(cx: VerifyContext): void {
  const { t, nodes, add, netOf } = cx;
  for (const n of t.nodes) {
    if (!HOLDER_KINDS.has(n.kind)) continue;
    if (nodes[n.name] === undefined) {
      add({
        object: `node ${n.name}`,
        op: '-',
        message: `node ${n.name} (${n.kind}): declared, not running`,
        node: n.name,
      });
    } else if (!netOf(n.name)) {
      add({
        object: `node ${n.name}`,
        op: '-',
        message: `node ${n.name}: its network namespace was not discovered`,
        node: n.name,
      });
    }
  }
}

/** Human form: grouped by object, one line per difference. */
export function formatDrift(r: VerifyResult): string {
  if (r.clean) return `lab ${escapeTerminal(r.lab)}: clean\n`;
  const groups = new Map<string, Drift[]>();
  for (const x of r.drift) {
    const g = groups.get(x.object) ?? [];
    g.push(x);
    groups.set(x.object, g);
  }
  // Names from the kernel and the lab file: one drift, one line, inert on a terminal.
  let s = `lab ${escapeTerminal(r.lab)}: ${r.drift.length} difference(s)\n`;
  for (const [obj, xs] of groups) {
    s += `${escapeTerminal(obj)}\n`;
    for (const x of xs) s += `  ${x.op} ${escapeTerminal(x.message)}\n`;
  }
  return s;
}
