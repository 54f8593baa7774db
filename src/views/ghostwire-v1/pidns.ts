/**
 * PID namespaces as the v1 tree: the root namespace(s) at the top level,
 * children nested, each listing the containers whose initial process lives
 * in it. `netns-idref` is left out, as Ghostwire's server does: a PID
 * namespace has no network namespace of its own.
 */
import type { Namespace } from '../../model/types.js';
import type { V1Context } from './context.js';
import { pidnsId } from './ids.js';
import type { Container, Pidns } from './schema.js';

export function v1PidNamespaces(ctx: V1Context, containers: readonly Container[]): Pidns[] {
  const refs = new Map<number, string[]>();
  for (const c of containers) {
    // Ghostwire lists only real containers here, not stand-alone processes.
    if (c.type === 'proc' || c.type === 'bindmount' || c.pidns === 0) continue;
    const list = refs.get(c.pidns);
    if (list) list.push(c.id);
    else refs.set(c.pidns, [c.id]);
  }
  const children = new Map<number, Namespace[]>();
  const roots: Namespace[] = [];
  for (const ns of ctx.pidnsRecords.values()) {
    if (ns.parent !== undefined && ns.parent !== ns.ino && ctx.pidnsRecords.has(ns.parent)) {
      const list = children.get(ns.parent);
      if (list) list.push(ns);
      else children.set(ns.parent, [ns]);
    } else {
      roots.push(ns);
    }
  }
  const node = (ns: Namespace, depth: number): Pidns => ({
    id: pidnsId(ns.ino),
    pidnsid: ns.ino,
    // The kernel nests PID namespaces at most 32 deep (MAX_PID_NS_LEVEL); the
    // bound also guards against a parent cycle in a corrupt scan.
    children: depth > 32 ? [] : (children.get(ns.ino) ?? []).sort(byIno).map((c) => node(c, depth + 1)),
    'container-idrefs': refs.get(ns.ino) ?? [],
  });
  return roots.sort(byIno).map((r) => node(r, 0));
}

const byIno = (a: Namespace, b: Namespace): number => a.ino - b.ino;
