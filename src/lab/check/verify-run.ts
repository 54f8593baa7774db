/**
 * `wirescope verify FILE` below the discovery: given a discovery (the caller
 * runs it, see service/drift.ts), the facts the model does not carry — the
 * lab's nft rule comments (in-process NETLINK_NETFILTER dump) and the
 * declared sysctls (/proc/sys/net read with the thread inside the
 * namespace) — then verifyLab(). With `reach`, ICMP probes between the lab's
 * own nodes are added.
 */
import { fstatSync } from 'node:fs';
import { close, O_CLOEXEC, O_RDONLY, open } from '../../kernel/libc.js';
import { readTableRules } from '../../kernel/nftables/table-rules.js';
import { readSysctl } from '../../kernel/sysctl.js';
import { nftTable } from '../../model/lab-marks.js';
import type { Discovery } from '../../model/types.js';
import { starttimeOf } from '../build/nodes.js';
import { type LabState, readState } from '../build/state.js';
import type { LoadedLab } from '../file/load.js';
import { probe, reachPlan } from './reach.js';
import {
  type NodeHolder,
  type NodeOwner,
  nodeHolders,
  type VerifyFacts,
  type VerifyResult,
  verifyLab,
} from './verify.js';

export interface VerifyOptions {
  reach?: boolean;
  /** The discovery to check against (`discoverForVerify()` in service/drift.ts runs one). */
  discovery: Discovery;
}

/** Each node's holder as the lab's state file recorded it (verify's only proof that a node runs). */
export function stateOwners(st: LabState | undefined): Record<string, NodeOwner> {
  const owners: Record<string, NodeOwner> = {};
  for (const [n, s] of Object.entries(st?.nodes ?? {}))
    owners[n] = { pid: s.pid, starttime: s.starttime, ...(s.netns ? { netns: s.netns } : {}) };
  return owners;
}

/**
 * An fd of a node's network namespace, or undefined when its holder is gone.
 * The pid is checked again after the open: had it been reused in between,
 * its start time or namespace would differ and nothing would be entered.
 */
function openNodeNetns(h: NodeHolder): number | undefined {
  let fd: number;
  try {
    fd = open(`/proc/${h.pid}/ns/net`, O_RDONLY | O_CLOEXEC);
  } catch {
    return undefined;
  }
  if (starttimeOf(h.pid) !== h.starttime || fstatSync(fd).ino !== h.netns) {
    close(fd);
    return undefined;
  }
  return fd;
}

export async function runVerify(lab: LoadedLab, opts: VerifyOptions): Promise<VerifyResult> {
  const t = lab.topology;
  const owners = stateOwners(readState(t.name));
  const d = opts.discovery;
  const holders = nodeHolders(t, d, owners);
  const fds = new Map<string, number>();
  try {
    for (const [n, h] of Object.entries(holders)) {
      const fd = h ? openNodeNetns(h) : undefined;
      if (fd !== undefined) fds.set(n, fd);
    }
    return await measure(lab, d, owners, fds, opts);
  } finally {
    // libc's close for libc's open: node:fs would warn, in a worker, about an fd it did not open.
    for (const fd of fds.values()) close(fd);
  }
}

async function measure(
  lab: LoadedLab,
  d: Discovery,
  owners: Record<string, NodeOwner>,
  fds: Map<string, number>,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const t = lab.topology;
  const { hostKey } = t;
  const table = nftTable(t.name);
  const facts: VerifyFacts = { owners, nft: {}, sysctls: {} };
  /** The namespace to read a node's facts in: undefined for the host, '' when it is not open. */
  const nsOf = (ns: string): number | undefined | '' => (ns === hostKey ? undefined : (fds.get(ns) ?? ''));
  try {
    (facts.nft as Record<string, unknown>)[hostKey] = readTableRules(undefined, 'ip', table);
  } catch {
    /* no nf_tables: NAT rules then show as missing */
  }
  for (const n of t.nodes) {
    const fd = nsOf(n.name);
    if (fd === '' || fd === undefined) continue;
    try {
      (facts.nft as Record<string, unknown>)[n.name] = readTableRules(fd, 'inet', table);
    } catch {
      /* the node vanished meanwhile: reported as not running next time */
    }
  }
  for (const s of t.sysctls) {
    const fd = nsOf(s.ns);
    if (fd === '') continue;
    try {
      const v = readSysctl(fd, s.key);
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
        // Only from and to nodes the state file places: a look-alike's namespace is never entered.
        const fd = fds.get(p.from);
        if (fd === undefined || !fds.has(p.to)) continue;
        checks.push({ ...p, reachable: await probe(fd, p.address, p.expected ? 3 : 1) });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    facts.reach = checks.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  }
  return verifyLab(t, d, facts);
}
