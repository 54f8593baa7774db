/**
 * Which interfaces a capture opens: TARGET words resolved against a
 * discovery exactly as `discover --netns` selects namespaces (inode,
 * container, pod, lab or compose project, GROUP/MEMBER, bind mount, `host`:
 * `matchingNetworks` of views/text-tree.ts), then the interfaces of each
 * namespace, all or those named with -i.
 */
import type { Discovery, Draft } from '../model/types.js';
import { namespaceRefs } from '../network/discover.js';
import { containerOfTenant, matchingNetworks, TreeContext } from '../views/text-tree.js';
import { type CaptureInterfaceSpec, TargetError } from './types.js';

export { TargetError };

/**
 * Interfaces one capture may open. Each gets its own ring (1–4 MiB of kernel
 * memory, see session.ts) and its own poll slot: a target such as `host` on a
 * lab host with thousands of veths must be narrowed with -i, not accepted.
 */
export const MAX_CAPTURE_INTERFACES = 64;

export interface TargetNamespace {
  netns: number;
  /** The name `discover` gives it: containers, processes or a bind mount; "host". */
  name: string;
  /** Paths that open it (as discovery found them); the session re-checks them for liveness. */
  refs: string[];
  containers: { name: string; type: string; engine?: string }[];
  interfaces: string[];
}

export interface ResolvedTargets {
  interfaces: CaptureInterfaceSpec[];
  /** One entry per namespace, for the section comment and the liveness checks. */
  namespaces: TargetNamespace[];
}

/** The short form of a namespace name for an interface label: a bind mount's last path element. */
function shortName(name: string): string {
  if (!name.startsWith('/')) return name;
  return name.split('/').pop() || name;
}

export function resolveTargets(
  d: Discovery,
  targets: readonly string[],
  interfaceNames: readonly string[] = [],
): ResolvedTargets {
  if (targets.length === 0) throw new TargetError('name at least one capture target');
  const ctx = new TreeContext(d);
  const chosen = new Map<number, Discovery['networks'][string]>();
  for (const t of targets) {
    const found = matchingNetworks(d, t, ctx);
    if (found.length === 0) throw new TargetError(`no network namespace matches "${t}"`);
    for (const ns of found) chosen.set(ns.ino, ns);
  }
  const out: ResolvedTargets = { interfaces: [], namespaces: [] };
  const unmatched = new Set(interfaceNames);
  for (const ns of chosen.values()) {
    const name = ctx.netnsName(ns.ino);
    const rec = d.namespaces[ns.ino];
    // namespaceRefs only reads the record; the model's frozen type is the draft's, read-only.
    const refs = rec ? namespaceRefs(rec as unknown as Draft.Namespace) : [];
    if (refs.length === 0) throw new TargetError(`network namespace ${ns.ino} has no path to open it`);
    const ifaces = [...ns.interfaces]
      .filter((i) => interfaceNames.length === 0 || interfaceNames.includes(i.name))
      .sort((a, b) => a.index - b.index);
    const label = `${ns.ino}${name ? `/${shortName(name)}` : ''}`;
    for (const i of ifaces) {
      unmatched.delete(i.name);
      out.interfaces.push({
        refs,
        netns: ns.ino,
        ifindex: i.index,
        ifname: i.name,
        label: `${label}:${i.name}`,
        description: `${i.name} (${i.kind}) in network namespace ${ns.ino}${name ? ` (${name})` : ''}`,
      });
    }
    const containers = new Map<string, TargetNamespace['containers'][number]>();
    for (const t of ns.tenants) {
      const c = containerOfTenant(d, t);
      if (c && !containers.has(c.id))
        containers.set(c.id, {
          name: c.prefix ? `${c.prefix}/${c.name || c.id}` : c.name || c.id,
          type: c.type,
          ...(c.engine ? { engine: d.engines[c.engine]?.type ?? c.engine } : {}),
        });
    }
    if (ifaces.length > 0)
      out.namespaces.push({
        netns: ns.ino,
        name,
        refs,
        containers: [...containers.values()],
        interfaces: ifaces.map((i) => i.name),
      });
  }
  if (unmatched.size > 0)
    throw new TargetError(
      `no interface ${[...unmatched].map((n) => JSON.stringify(n)).join(', ')} in the targets`,
    );
  if (out.interfaces.length === 0) throw new TargetError('the targets have no interfaces to capture on');
  if (out.interfaces.length > MAX_CAPTURE_INTERFACES)
    throw new TargetError(
      `the targets have ${out.interfaces.length} interfaces, more than the ${MAX_CAPTURE_INTERFACES} one capture may open: name some with -i`,
    );
  return out;
}
