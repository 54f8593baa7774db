/**
 * `lab down` and `lab status`.
 *
 * down removes exactly what the lab owns: host-side interfaces carrying its
 * mark (deleting a veth end takes its peer along), its NAT table, host routes
 * and policy rules it declared, host sysctls restored to their old values, then its node
 * processes (their namespaces, and everything inside, go with them), cgroups,
 * unpacked rootfs and the state file. Processes that carry the lab's mark but
 * are missing from the state file (a crashed run) are found in /proc too —
 * only root's, in this PID namespace: a mark is a name any process can take
 * (argv[0]), so it is a hint, never enough on its own.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { readTableRules } from '../../kernel/nftables/table-rules.js';
import { writeSysctl } from '../../kernel/sysctl.js';
import {
  ifaceMark,
  LABEL_LAB,
  legacyNftTable,
  nftTable,
  processMark,
  ruleMark,
} from '../../model/lab-marks.js';
import { routeDst } from '../file/ip.js';
import { checkLabName, childPath } from '../file/names.js';
import { parseTable, RT_TABLE_MAIN, ruleMatches, ruleText, tableText } from '../file/rules.js';
import { HOST, nsLabel } from '../file/topology.js';
import { prevRulesOn } from './apply-routing.js';
import { NsHandle } from './netlink-ops.js';
import { nftScript, runNft } from './nft.js';
import { argv0Of, dockerClient, type NodeState, nodeAlive, starttimeOf, stopNode } from './nodes.js';
import { desiredRuleSpec } from './plan.js';
import {
  type LabState,
  listStates,
  readState,
  removeState,
  stateDir,
  withLabLock,
  writeState,
} from './state.js';

export interface DownResult {
  name: string;
  removed: string[];
  /** Nothing was up under that name. */
  notUp: boolean;
}

export async function labDown(
  name: string,
  opts: { progress?: (l: string) => void } = {},
): Promise<DownResult> {
  // The name may come from the command line: it names files in the state directory.
  checkLabName(name);
  return withLabLock(name, () => downLocked(name, opts));
}

async function downLocked(name: string, opts: { progress?: (l: string) => void }): Promise<DownResult> {
  const st = readState(name);
  const removed: string[] = [];
  const host = NsHandle.open(HOST, '/proc/self/ns/net');
  try {
    await removeNat(name, removed);
    if (st) removeHostRouting(host, st, removed);
    removeHostInterfaces(host, ifaceMark(name), removed, opts);
    restoreSysctls(st, removed);
    const nodes = await findNodes(name, st);
    await stopNodes(name, st, nodes, removed, opts);
    rmSync(childPath(stateDir(), `${name}.rootfs`), { recursive: true, force: true });
    removeState(name);
    return { name, removed, notUp: !st && removed.length === 0 };
  } finally {
    host.close();
  }
}

/** NAT first, so no rule points at an address that is about to vanish. */
async function removeNat(name: string, removed: string[]): Promise<void> {
  const table = nftTable(name);
  if (readTableRules(undefined, 'ip', table)?.length) {
    await runNft(nftScript('ip', table, undefined));
    removed.push(`NAT table ip ${table}`);
  }
  // A table named the earlier, ambiguous way: only when every rule in it is this lab's.
  const legacy = legacyNftTable(name);
  const old = legacy === table ? undefined : readTableRules(undefined, 'ip', legacy);
  if (old?.length && old.every((r) => r.comment?.startsWith(ruleMark(name, '')))) {
    await runNft(nftScript('ip', legacy, undefined));
    removed.push(`NAT table ip ${legacy}`);
  }
}

/** Host routes and policy rules the lab declared (those in node namespaces go with the namespace). */
function removeHostRouting(host: NsHandle, st: LabState, removed: string[]): void {
  // Routes through lab interfaces go with them.
  for (const d of Object.values(st.decl.nodes)) {
    if (d.kind !== 'host') continue;
    for (const r of d.routes ?? []) {
      const dst = routeDst(r.dst, r.via);
      if (!dst) continue;
      const table = (r.table !== undefined ? parseTable(r.table) : undefined) ?? RT_TABLE_MAIN;
      try {
        host.delRoute({ dst, table, ...(r.via ? { gateway: r.via } : {}) }, r.dst);
        removed.push(`host route ${r.dst}${table !== RT_TABLE_MAIN ? ` table ${tableText(table)}` : ''}`);
      } catch {
        /* already gone */
      }
    }
  }
  // Host policy rules it declared (rules in node namespaces go with the namespace).
  const hostNode = Object.entries(st.decl.nodes).find(([, d]) => d.kind === 'host')?.[0];
  if (hostNode) {
    const have = host.rules();
    for (const r of prevRulesOn(st, hostNode)) {
      // Only a rule it installed (protocol static): an identical rule the host had before stays.
      if (!have.some((a) => ruleMatches(r, a) && a.protocol === 'static')) continue;
      host.delRule(desiredRuleSpec(r), ruleText(r));
      removed.push(`host rule ${ruleText(r)}`);
    }
  }
}

/** Host interfaces with the lab's mark: bridges first (their ports are released), then the rest. */
function removeHostInterfaces(
  host: NsHandle,
  mark: string,
  removed: string[],
  opts: { progress?: (l: string) => void },
): void {
  const mine = host.links().filter((l) => l.alias === mark);
  if (mine.length > 20) opts.progress?.(`deleting ${mine.length} host interface(s)`);
  for (const l of [...mine.filter((l) => l.kind === 'bridge'), ...mine.filter((l) => l.kind !== 'bridge')]) {
    host.delLink(l.index, l.name);
    removed.push(`${l.kind} host:${l.name}`);
  }
}

/** Host sysctls back to the values they had before the lab. */
function restoreSysctls(st: LabState | undefined, removed: string[]): void {
  for (const s of st?.sysctls ?? []) {
    try {
      // Only namespaces that outlive the lab (the host) are recorded.
      writeSysctl(undefined, s.key, s.old);
      removed.push(`sysctl ${s.key} restored to ${s.old} in ${nsLabel(s.ns)}`);
    } catch {
      /* the key vanished with a device */
    }
  }
}

/** Nodes: from the state file, plus stragglers with the lab's process mark or its Docker label. */
async function findNodes(name: string, st: LabState | undefined): Promise<[string, NodeState][]> {
  const nodes: [string, NodeState][] = Object.entries(st?.nodes ?? {});
  const known = new Set(nodes.map(([, s]) => s.pid));
  const prefix = `${processMark(name, '')}`;
  for (const pid of marked(prefix)) {
    if (known.has(pid) || !ownHolder(pid)) continue;
    const starttime = starttimeOf(pid);
    if (starttime !== undefined)
      nodes.push([
        argv0Of(pid)?.slice(prefix.length) ?? String(pid),
        { kind: 'netns', pid, starttime, netns: 0 },
      ]);
  }
  try {
    const cs = await (await dockerClient()).listContainers({
      all: true,
      filters: { label: [`${LABEL_LAB}=${name}`] },
    });
    for (const c of cs) {
      if (!nodes.some(([, s]) => s.containerId === c.Id))
        nodes.push([
          c.Labels[`wirescope.node`] ?? c.Id,
          { kind: 'docker', pid: 0, starttime: 0, netns: 0, containerId: c.Id },
        ]);
    }
  } catch {
    /* no Docker here: nothing of ours there either */
  }
  return nodes;
}

/** Stops every node; if one cannot be stopped, the state file keeps those still alive. */
async function stopNodes(
  name: string,
  st: LabState | undefined,
  nodes: [string, NodeState][],
  removed: string[],
  opts: { progress?: (l: string) => void },
): Promise<void> {
  if (nodes.length > 20) opts.progress?.(`stopping ${nodes.length} node(s)`);
  const errors: string[] = [];
  await Promise.all(
    nodes.map(async ([n, s]) => {
      try {
        await stopNode(n, s);
        removed.push(`node ${n}`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }),
  );
  if (errors.length > 0) {
    if (st)
      writeState({
        ...st,
        nodes: Object.fromEntries(nodes.filter(([, s]) => s.kind !== 'docker' && nodeAlive(s))),
      });
    throw new Error(`lab ${name}: down incomplete: ${errors.join('; ')}`);
  }
}

/** PIDs whose argv[0] starts with the given lab mark. */
function marked(prefix: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const a = argv0Of(Number(d));
    if (a?.startsWith(prefix)) out.push(Number(d));
  }
  return out;
}

const ownPidNs = ((): string | undefined => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/**
 * Whether a marked process can be one the builder started: node holders run
 * as root (real uid 0, so not a set-uid program someone named) in the
 * builder's own PID namespace (a container's processes are in another).
 */
function ownHolder(pid: number): boolean {
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === '0' && ownPidNs !== undefined && readlinkSync(`/proc/${pid}/ns/pid`) === ownPidNs;
  } catch {
    return false;
  }
}

export interface LabStatus {
  name: string;
  file?: string;
  updatedAt: string;
  nodes: { name: string; kind: string; pid?: number; netns?: number; alive: boolean; container?: string }[];
}

export function labStatus(): LabStatus[] {
  return listStates().map((s) => ({
    name: s.name,
    ...(s.file ? { file: s.file } : {}),
    updatedAt: s.updatedAt,
    nodes: Object.entries(s.decl.nodes).map(([n, d]) => {
      const ns = s.nodes[n];
      return {
        name: n,
        kind: d.kind,
        ...(ns
          ? { pid: ns.pid, netns: ns.netns, alive: nodeAlive(ns) }
          : { alive: d.kind === 'host' || d.kind === 'bridge' }),
        ...(ns?.containerId ? { container: ns.containerId.slice(0, 12) } : {}),
      };
    }),
  }));
}
