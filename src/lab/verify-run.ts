/**
 * `wirescope verify FILE`: a fresh discover() plus the facts the model does
 * not carry — the lab's nft rule comments (in-process NETLINK_NETFILTER dump)
 * and the declared sysctls (/proc/sys/net read with the thread inside the
 * namespace) — then verifyLab(). With `reach`, ICMP probes between the lab's
 * own nodes are added.
 */
import { discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { readSysctl } from './apply.js';
import type { LoadedLab } from './load.js';
import { nftTable, nodeOfProcessMark } from './marks.js';
import { readTableRules } from './nft.js';
import { probe, reachPlan } from './reach.js';
import { readState } from './state.js';
import { HOST } from './topology.js';
import { locateNodes, type VerifyFacts, type VerifyResult, verifyLab } from './verify.js';

export interface VerifyOptions {
  reach?: boolean;
  /** Use this discovery instead of running one (tests, the service). */
  discovery?: Discovery;
}

/** PID of a process inside each located node (for entering its namespace). */
function nodePids(lab: LoadedLab, d: Discovery, hints: VerifyFacts['hints']): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of Object.values(d.processes)) {
    const mark = nodeOfProcessMark(p.cmdline[0]);
    if (mark?.lab === lab.topology.name) out.set(mark.node, p.pid);
  }
  for (const [n, h] of Object.entries(hints ?? {})) {
    if (!out.has(n) && d.processes[String(h.pid)]?.starttime === h.starttime) out.set(n, h.pid);
  }
  return out;
}

export async function runVerify(lab: LoadedLab, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const t = lab.topology;
  const st = readState(t.name);
  const hints: NonNullable<VerifyFacts['hints']> = {};
  for (const [n, s] of Object.entries(st?.nodes ?? {})) hints[n] = { pid: s.pid, starttime: s.starttime };
  const d =
    opts.discovery ??
    (await discover({
      // Lab nodes are held by processes (their marks) and the host is the initial namespace:
      // tasks, fds and bind mounts add nothing here but cost time on hosts with many namespaces.
      sources: { processes: true, tasks: false, fds: false, bindMounts: false },
      namespaceTypes: ['net'],
      dns: false,
      network: { sockets: false, neighbours: false },
    }));
  const located = locateNodes(t, d, hints);
  const pids = nodePids(lab, d, hints);
  const hostKey = t.nodes.find((n) => n.kind === 'host')?.name ?? HOST;
  const table = nftTable(t.name);
  const facts: VerifyFacts = { hints, nft: {}, sysctls: {} };
  const nsPath = (ns: string): string | undefined =>
    ns === hostKey ? undefined : pids.has(ns) ? `/proc/${pids.get(ns)}/ns/net` : '';
  try {
    (facts.nft as Record<string, unknown>)[hostKey] = readTableRules(undefined, 'ip', table);
  } catch {
    /* no nf_tables: NAT rules then show as missing */
  }
  for (const n of t.nodes) {
    const p = nsPath(n.name);
    if (p === '' || p === undefined || located[n.name] === undefined) continue;
    try {
      (facts.nft as Record<string, unknown>)[n.name] = readTableRules(p, 'inet', table);
    } catch {
      /* the node vanished meanwhile: reported as not running next time */
    }
  }
  for (const s of t.sysctls) {
    const p = nsPath(s.ns);
    if (p === '') continue;
    try {
      const v = readSysctl(p, s.key);
      (facts.sysctls as Record<string, string | undefined>)[`${s.ns}|${s.key}`] = v;
    } catch {
      /* vanished */
    }
  }
  if (opts.reach) {
    const plan = reachPlan(t);
    const checks: NonNullable<VerifyFacts['reach']> = [];
    let i = 0;
    const worker = async () => {
      while (i < plan.length) {
        const p = plan[i++];
        if (!p) break;
        const pid = pids.get(p.from);
        if (pid === undefined || located[p.to] === undefined) continue;
        checks.push({ ...p, reachable: await probe(pid, p.address, p.expected ? 3 : 1) });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    facts.reach = checks.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  }
  return verifyLab(t, d, facts);
}
