/**
 * vagga-style network split (vagga's `vagga_network`): which node pairs may
 * not talk. Entries apply in order:
 *  - `disjoint: [[a,b],[c,d]]` — groups cannot reach each other; nodes in no
 *    group are cut off from everyone;
 *  - `split: [[a,b],[c,d]]` — groups cannot reach each other; nodes in no
 *    group keep reaching everyone;
 *  - `isolate: [a]` — a reaches nobody;
 *  - `fullmesh: true` — forget every earlier entry (everyone reaches everyone).
 * The result is symmetric. Pure.
 */
import type { PartitionDecl } from './schema.js';

export interface PartitionResult {
  blocked: Map<string, Set<string>>;
  errors: { path: (string | number)[]; message: string }[];
}

export function blockedPairs(entries: readonly PartitionDecl[], nodes: readonly string[]): PartitionResult {
  const known = new Set(nodes);
  const errors: PartitionResult['errors'] = [];
  let blocked = new Map<string, Set<string>>(nodes.map((n) => [n, new Set<string>()]));
  const block = (a: string, b: string) => {
    if (a === b) return;
    blocked.get(a)?.add(b);
    blocked.get(b)?.add(a);
  };
  const check = (name: string, path: (string | number)[]) => {
    if (!known.has(name)) {
      errors.push({ path, message: `"${name}" is not a netns, container or docker node` });
      return false;
    }
    return true;
  };
  entries.forEach((e, i) => {
    if ('fullmesh' in e) {
      if (e.fullmesh) blocked = new Map(nodes.map((n) => [n, new Set<string>()]));
      return;
    }
    if ('isolate' in e) {
      e.isolate.forEach((n, j) => {
        if (check(n, [i, 'isolate', j])) for (const o of nodes) block(n, o);
      });
      return;
    }
    const groups = 'disjoint' in e ? e.disjoint : e.split;
    const key = 'disjoint' in e ? 'disjoint' : 'split';
    const groupOf = new Map<string, number>();
    groups.forEach((g, gi) => {
      g.forEach((n, j) => {
        if (!check(n, [i, key, gi, j])) return;
        if (groupOf.has(n)) errors.push({ path: [i, key, gi, j], message: `"${n}" is in two groups` });
        groupOf.set(n, gi);
      });
    });
    for (const a of nodes) {
      for (const b of nodes) {
        if (a >= b) continue;
        const ga = groupOf.get(a);
        const gb = groupOf.get(b);
        if (ga !== undefined && gb !== undefined) {
          if (ga !== gb) block(a, b);
        } else if (key === 'disjoint' && (ga !== undefined || gb !== undefined || groups.length > 0)) {
          block(a, b);
        }
      }
    }
  });
  return { blocked, errors };
}

export function isBlocked(blocked: Map<string, Set<string>>, a: string, b: string): boolean {
  return blocked.get(a)?.has(b) ?? false;
}
