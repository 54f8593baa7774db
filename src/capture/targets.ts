/**
 * Which interfaces a capture opens: TARGET words resolved against a
 * discovery the way `discover --netns` selects namespaces (inode, container,
 * pod, lab or compose project, GROUP/MEMBER, bind mount, `host`), then the
 * interfaces of each namespace, all or those named with -i.
 */
import type { Draft } from '../model/types.js';
import type { Discovery } from '../model/types.js';
import { namespaceRefs } from '../network/discover.js';
import { matchingNetworks, TreeContext } from '../views/text-tree.js';
import type { CaptureInterfaceSpec } from './types.js';

/** A TARGET or interface that matches nothing: a user error, said in one line. */
export class TargetError extends Error {}

export interface ResolvedTargets {
  interfaces: CaptureInterfaceSpec[];
  /** One entry per namespace, for the section comment. */
  namespaces: { netns: number; name: string; interfaces: string[] }[];
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
    const refs = rec ? namespaceRefs(rec as unknown as Draft.Namespace) : [];
    if (refs.length === 0) throw new TargetError(`network namespace ${ns.ino} has no path to open it`);
    const ifaces = [...ns.interfaces]
      .filter((i) => interfaceNames.length === 0 || interfaceNames.includes(i.name))
      .sort((a, b) => a.index - b.index);
    for (const i of ifaces) {
      unmatched.delete(i.name);
      out.interfaces.push({
        refs,
        netns: ns.ino,
        ifindex: i.index,
        ifname: i.name,
        label: `${ns.ino}${name ? `/${name}` : ''}:${i.name}`,
        description: `${i.name} (${i.kind}) in network namespace ${ns.ino}${name ? ` (${name})` : ''}`,
      });
    }
    if (ifaces.length > 0) out.namespaces.push({ netns: ns.ino, name, interfaces: ifaces.map((i) => i.name) });
  }
  if (unmatched.size > 0)
    throw new TargetError(`no interface ${[...unmatched].map((n) => JSON.stringify(n)).join(', ')} in the targets`);
  if (out.interfaces.length === 0) throw new TargetError('the targets have no interfaces to capture on');
  return out;
}
