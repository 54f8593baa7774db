/**
 * Lookup tables over one native Discovery, built once per v1 rendering so that
 * every relation (interface references across namespaces, reverse relations
 * such as a parent's macvlans, socket owners' containers) resolves in O(1).
 */

import type {
  Container,
  Discovery,
  Interface,
  InterfaceRef,
  Namespace,
  Process,
  Tenant,
} from '../../model/types.js';
import { contId } from './ids.js';

export interface Children {
  /** Bridge/bond/VRF ports, vlans on this parent, vxlans using it as underlay. */
  slaves: Interface[];
  /** macvlan/macvtap/ipvlan interfaces on this parent. */
  macvlans: Interface[];
}

export interface V1Context {
  readonly discovery: Discovery;
  /** netns inode → ifindex → interface. */
  readonly interfaces: Map<number, Map<number, Interface>>;
  /** Reverse relations, keyed by interface object. */
  readonly children: Map<Interface, Children>;
  /** Native containers by record key and by engine id. */
  readonly containers: Map<string, Container>;
  /** netns inode → PIDs of the tenants shown as v1 containers there. */
  readonly tenantPids: Map<number, Set<number>>;
  /** Network and PID namespace records by inode. */
  readonly netnsRecords: Map<number, Namespace>;
  readonly pidnsRecords: Map<number, Namespace>;
  /** PID → v1 container id of the tenant it descends from (memo). */
  readonly ownerRefs: Map<number, string | undefined>;
}

/**
 * kthreadd (PID 2, PPID 0) is a leader of the initial namespaces; Ghostwire
 * hides it "in order to not bedazzle users", and so do we.
 */
export const isKthreadd = (t: Tenant, proc: Process | undefined): boolean =>
  t.pid === 2 && (proc === undefined || proc.ppid === 0);

export function lookupInterface(ctx: V1Context, ref: InterfaceRef | undefined): Interface | undefined {
  return ref === undefined ? undefined : ctx.interfaces.get(ref.netns)?.get(ref.index);
}

export function buildContext(discovery: Discovery): V1Context {
  const interfaces = new Map<number, Map<number, Interface>>();
  for (const ns of Object.values(discovery.networks)) {
    const byIndex = new Map<number, Interface>();
    for (const nif of ns.interfaces) byIndex.set(nif.index, nif);
    interfaces.set(ns.ino, byIndex);
  }
  const ctx: V1Context = {
    discovery,
    interfaces,
    children: new Map(),
    containers: new Map(),
    tenantPids: new Map(),
    ownerRefs: new Map(),
    netnsRecords: new Map(),
    pidnsRecords: new Map(),
  };
  for (const ns of Object.values(discovery.namespaces)) {
    if (ns.type === 'net') ctx.netnsRecords.set(ns.ino, ns);
    else if (ns.type === 'pid') ctx.pidnsRecords.set(ns.ino, ns);
  }

  const childrenOf = (nif: Interface): Children => {
    let c = ctx.children.get(nif);
    if (c === undefined) {
      c = { slaves: [], macvlans: [] };
      ctx.children.set(nif, c);
    }
    return c;
  };
  for (const byIndex of interfaces.values()) {
    for (const nif of byIndex.values()) {
      for (const port of nif.ports) {
        const p = lookupInterface(ctx, port);
        if (p) childrenOf(nif).slaves.push(p);
      }
      const macvlanParent = lookupInterface(ctx, nif.macvlan?.parent ?? nif.ipvlan?.parent);
      if (macvlanParent) childrenOf(macvlanParent).macvlans.push(nif);
      // Ghostwire relates vlans and vxlans to their parent/underlay as its
      // "slaves" (network/vlan.go, network/vxlan.go). Its web UI keeps every
      // slave of a bridge as a bridge port, though, so a vxlan whose underlay
      // is a bridge is not listed there (its own vxlan.idref still says it).
      const lower = lookupInterface(ctx, nif.vlan?.parent ?? nif.vxlan?.underlay);
      if (lower && !(nif.vxlan && lower.kind === 'bridge')) childrenOf(lower).slaves.push(nif);
    }
  }
  for (const c of ctx.children.values()) {
    c.slaves.sort(byRef);
    c.macvlans.sort(byRef);
  }

  for (const [key, c] of Object.entries(discovery.containers)) {
    ctx.containers.set(key, c);
    if (!ctx.containers.has(c.id)) ctx.containers.set(c.id, c);
  }
  for (const ns of Object.values(discovery.networks)) {
    const pids = new Set<number>();
    for (const t of ns.tenants) {
      if (!isKthreadd(t, discovery.processes[t.pid])) pids.add(t.pid);
    }
    ctx.tenantPids.set(ns.ino, pids);
  }
  return ctx;
}

const byRef = (a: Interface, b: Interface): number => a.netns - b.netns || a.index - b.index;

/**
 * The v1 container (tenant) a process belongs to: walk up its parents until
 * reaching a tenant of the process's network namespace — tenants are that
 * namespace's leaders, so the walk ends there (Ghostwire's `leader()` in
 * api/v1/ports.go). Undefined when the process is unknown or no tenant is
 * found, so that no reference dangles.
 */
export function ownerContainerRef(ctx: V1Context, pid: number): string | undefined {
  if (ctx.ownerRefs.has(pid)) return ctx.ownerRefs.get(pid);
  const procs = ctx.discovery.processes;
  const start = procs[pid];
  let ref: string | undefined;
  const netns = start?.namespaces.net;
  const tenants = netns === undefined ? undefined : ctx.tenantPids.get(netns);
  if (start && tenants) {
    // Bounded walk: a PID table can change under a racing scan, never loop forever.
    let p: Process | undefined = start;
    for (let depth = 0; p !== undefined && depth < 4096; depth++) {
      if (tenants.has(p.pid)) {
        ref = contId(p.pid);
        break;
      }
      if (p.ppid === p.pid || p.ppid === 0) break;
      p = procs[p.ppid];
    }
  }
  ctx.ownerRefs.set(pid, ref);
  return ref;
}
