/**
 * What changed between two discoveries, by stable identity (ARCHITECTURE.md
 * "Object identity"): network namespaces by inode, interfaces by (netns, ifindex),
 * containers by id. Pure; counters and other always-moving values (interface
 * statistics, neighbour caches, connected sockets, timing) are ignored so a
 * "change" means the topology or configuration changed.
 */
import { sameData } from '../model/equal.js';
import type { Discovery, NetworkNamespace } from '../model/types.js';
import type { ChangeSet } from './contract.js';

// The change set is part of the HTTP contract (change events), shared with the web UI.
export type { ChangeSet, InterfaceChange } from './contract.js';

export const isEmpty = (c: ChangeSet): boolean =>
  c.namespaces.added.length +
    c.namespaces.removed.length +
    c.namespaces.changed.length +
    c.interfaces.added.length +
    c.interfaces.removed.length +
    c.interfaces.changed.length +
    c.containers.added.length +
    c.containers.removed.length +
    c.containers.changed.length ===
  0;

/** Counters move all the time; they are no change. */
const COUNTERS = new Set(['stats']);

const listening = (n: NetworkNamespace): string[] =>
  n.sockets
    .filter((s) => s.macrostate === 'listening')
    .map((s) => `${s.protocol}/${s.localAddress}/${s.localPort}/${s.owners.map((o) => o.pid).join(',')}`)
    .sort();

const tenantsOf = (n: NetworkNamespace) =>
  n.tenants.map((t) => ({ pid: t.pid, starttime: t.starttime, container: t.container, dns: t.dns }));

/** Namespace configuration apart from its interfaces (compared separately), neighbours and connected sockets. */
function sameNetns(p: NetworkNamespace, n: NetworkNamespace): boolean {
  return (
    sameData(p.routes, n.routes) &&
    sameData(p.rules, n.rules) &&
    sameData(p.forwardedPorts, n.forwardedPorts) &&
    sameData(p.forwarding, n.forwarding) &&
    sameData(tenantsOf(p), tenantsOf(n)) &&
    sameData(listening(p), listening(n))
  );
}

export function diffDiscoveries(prev: Discovery | undefined, next: Discovery): ChangeSet {
  const out: ChangeSet = {
    namespaces: { added: [], removed: [], changed: [] },
    interfaces: { added: [], removed: [], changed: [] },
    containers: { added: [], removed: [], changed: [] },
  };
  const prevNets = prev?.networks ?? {};
  const nextNets = next.networks;
  for (const [key, n] of Object.entries(nextNets)) {
    const p = prevNets[key];
    if (!p) {
      out.namespaces.added.push(n.ino);
      for (const i of n.interfaces) out.interfaces.added.push({ netns: n.ino, index: i.index, name: i.name });
      continue;
    }
    // The same object: unchanged (the discovery worker shares those, service/native.ts).
    if (p === n) continue;
    let changed = !sameNetns(p, n);
    const before = new Map(p.interfaces.map((i) => [i.index, i]));
    for (const i of n.interfaces) {
      const b = before.get(i.index);
      before.delete(i.index);
      const ref = { netns: n.ino, index: i.index, name: i.name };
      if (!b) {
        out.interfaces.added.push(ref);
        changed = true;
      } else if (!sameData(b, i, COUNTERS)) {
        out.interfaces.changed.push(ref);
        changed = true;
      }
    }
    for (const b of before.values()) {
      out.interfaces.removed.push({ netns: n.ino, index: b.index, name: b.name });
      changed = true;
    }
    if (changed) out.namespaces.changed.push(n.ino);
  }
  for (const [key, p] of Object.entries(prevNets)) {
    if (nextNets[key]) continue;
    out.namespaces.removed.push(p.ino);
    for (const i of p.interfaces) out.interfaces.removed.push({ netns: p.ino, index: i.index, name: i.name });
  }
  const prevC = prev?.containers ?? {};
  for (const [id, c] of Object.entries(next.containers)) {
    const p = prevC[id];
    if (!p) out.containers.added.push(id);
    else if (!sameData(p, c)) out.containers.changed.push(id);
  }
  for (const id of Object.keys(prevC)) if (!next.containers[id]) out.containers.removed.push(id);
  return out;
}
