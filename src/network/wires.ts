/**
 * Wires between namespaces. A link reports its peer/lower device as an ifindex
 * plus IFLA_LINK_NETNSID — an nsid *relative to the namespace being dumped*.
 * Mapping (namespace X, nsid n) → namespace inode needs RTM_GETNSID asked in X
 * about a candidate namespace's fd; asking about every namespace from every
 * namespace would be O(N²). So candidates are ranked, and only the nsids that
 * links actually report are asked about:
 *
 *  1. Cache: (X, n) → Y learned earlier stays valid while wirescope holds both
 *     X and Y (cached sockets keep them alive, so neither the nsid nor the inode
 *     can be reused); entries are dropped when either is released.
 *  2. Symmetry: a veth A (X, index a) reporting peer (n, j) is almost always
 *     paired with an interface at index j in Y whose own IFLA_LINK points back
 *     at a with some nsid. Those Ys are asked first — usually exactly one.
 *  3. Fallback (macvlan/vxlan/tunnel lower devices, which do not point back):
 *     every other namespace with an interface at index j. Not for veths: both
 *     ends report their peer, so a veth nobody points back to has its peer in
 *     a namespace the scan did not find.
 *  4. Misses are remembered while no new namespace appears, so an nsid naming
 *     an invisible namespace is not asked about again on every run.
 *
 * Symmetry only *proposes*: each mapping is confirmed by the kernel
 * (RTM_GETNSID), so a wrong pairing is impossible even when indices collide
 * or the true peer namespace is invisible to the scan (then the link stays
 * `linkUnresolved`). One query per reported nsid on a cold run; none warm.
 */
import type { Draft } from '../model/types.js';
import { applyRef } from './dump.js';
import type { NsDump, NsidQuery } from './types.js';
import { getOrInit } from './util.js';

export type NsidMap = Map<number, Map<number, number>>;

/** (X, n) pairs whose namespace is not yet known: X → set of nsids. */
export function unresolvedNsids(dumps: NsDump[], known: NsidMap): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const d of dumps) {
    const k = known.get(d.ino);
    for (const c of d.cross) {
      if (k?.has(c.nsid)) continue;
      const s = getOrInit(out, d.ino, () => new Set());
      s.add(c.nsid);
    }
  }
  return out;
}

/**
 * Candidate targets for each unresolved (X, n), by symmetry (pass 1) or by
 * ifindex presence (pass 2), minus targets already asked about from X.
 */
export function candidateQueries(
  dumps: NsDump[],
  unresolved: Map<number, Set<number>>,
  refs: Map<number, string>,
  asked: Map<number, Set<number>>,
  pass: 1 | 2,
  /**
   * Skip targets with a higher inode: they ask about us, and deriveReverse gives our answer. The
   * higher inode asks because namespaces made later (containers) have higher inodes than the host
   * they are wired to: a thousand of them each ask about the host on whichever worker holds them,
   * where the host asking about all of them would make one worker do every query in turn.
   */
  halve = false,
): NsidQuery[] {
  const byIno = new Map<number, NsDump>();
  for (const d of dumps) byIno.set(d.ino, d);
  // index → namespaces having an interface there; (index, back-pointer index) → namespaces with a link pointing back.
  const hasIndex = new Map<number, number[]>();
  const pointsBack = new Map<string, number[]>();
  for (const d of dumps) {
    for (const f of d.interfaces) {
      const l = getOrInit(hasIndex, f.index, () => []);
      l.push(d.ino);
      if (f.linkUnresolved?.netnsId !== undefined) {
        const key = `${f.index}/${f.linkUnresolved.index}`;
        const b = getOrInit(pointsBack, key, () => []);
        b.push(d.ino);
      }
    }
  }
  const queries: NsidQuery[] = [];
  for (const [x, nsids] of unresolved) {
    const d = byIno.get(x);
    if (!d) continue;
    const already = asked.get(x) ?? new Set<number>();
    asked.set(x, already);
    const targets = new Set<number>();
    for (const c of d.cross) {
      if (!nsids.has(c.nsid)) continue;
      const own = d.interfaces[c.i] as Draft.Interface;
      // Both ends of a veth report their peer: if no namespace points back, the peer namespace is not in the scan.
      if (pass === 2 && own.kind === 'veth') continue;
      const cands = pass === 1 ? pointsBack.get(`${c.index}/${own.index}`) : hasIndex.get(c.index);
      for (const y of cands ?? []) {
        if (y !== x && !already.has(y) && refs.has(y) && !(halve && y > x)) targets.add(y);
      }
    }
    if (targets.size === 0) continue;
    for (const y of targets) already.add(y);
    queries.push({ ino: x, targets: [...targets].map((y) => ({ ino: y, ref: refs.get(y) as string })) });
  }
  return queries;
}

/**
 * Completes the other direction of confirmed veth pairings: if nsid n in X is
 * namespace Y (kernel-confirmed) and veth A (X, a) names its peer (n, j), the
 * veth at (Y, j) *is* A's peer, so the nsid m it reports for A's side names X.
 * Checked: that interface must be a veth pointing back at index a. One
 * RTM_GETNSID thus resolves both ends of a pair.
 */
export function deriveReverse(dumps: NsDump[], nsids: NsidMap): void {
  const byIno = indexInterfaces(dumps);
  for (const d of dumps) {
    const map = nsids.get(d.ino);
    if (!map) continue;
    for (const c of d.cross) {
      if (c.field !== 'link') continue;
      const y = map.get(c.nsid);
      if (y === undefined || y === d.ino) continue;
      const a = d.interfaces[c.i] as Draft.Interface;
      if (a.kind !== 'veth') continue;
      const peer = byIno.get(y)?.get(c.index);
      const back = peer?.linkUnresolved;
      if (peer?.kind !== 'veth' || back?.netnsId === undefined || back.index !== a.index) continue;
      const ym = getOrInit(nsids, y, () => new Map<number, number>());
      if (!ym.has(back.netnsId)) ym.set(back.netnsId, d.ino);
    }
  }
}

/** Applies resolved cross-namespace relations; returns per namespace the nsid → inode map used. */
function indexInterfaces(dumps: NsDump[]): Map<number, Map<number, Draft.Interface>> {
  const byIno = new Map<number, Map<number, Draft.Interface>>();
  for (const d of dumps) {
    const m = new Map<number, Draft.Interface>();
    for (const f of d.interfaces) m.set(f.index, f);
    byIno.set(d.ino, m);
  }
  return byIno;
}

export function applyWires(dumps: NsDump[], nsids: NsidMap): void {
  const byIno = indexInterfaces(dumps);
  for (const d of dumps) {
    const map = nsids.get(d.ino);
    for (const c of d.cross) {
      const y = map?.get(c.nsid);
      if (y === undefined) continue;
      const iface = d.interfaces[c.i] as Draft.Interface;
      // The target must exist in that namespace's dump; otherwise the link stays unresolved (peer vanished meanwhile).
      if (!byIno.get(y)?.has(c.index)) continue;
      applyRef(iface, c.field, { netns: y, index: c.index });
    }
  }
}
