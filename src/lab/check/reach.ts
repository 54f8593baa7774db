/**
 * The reachability matrix a lab implies (pure), and the probe that measures
 * it (ICMP echo from inside each node to addresses of the lab's own nodes —
 * never anywhere else).
 *
 * Expected blocked: every pair the partitions cut. Expected reachable: pairs
 * the partitions leave alone that share a segment (a bridge, a veth pair, a
 * macvlan parent or a VXLAN VNI) — routed paths depend on more than the file
 * says, so they are not judged.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isBlocked } from '../file/partitions.js';
import { type DesiredIf, HOLDER_KINDS, ifKey, type Topology } from '../file/topology.js';

export interface ReachPair {
  from: string;
  to: string;
  address: string;
  expected: boolean;
}

/** Segment id of a holder node's interface. */
function segmentOf(t: Topology, d: DesiredIf): string | undefined {
  if (d.kind === 'veth' && d.peer) {
    const p = t.ifs.find((x) => x.ns === d.peer?.ns && x.name === d.peer.name);
    if (p?.master) return `bridge:${p.ns}/${p.master}`;
    return `veth:${d.link}`;
  }
  if (d.macvlan) return `macvlan:${d.macvlan.parentNs}/${d.macvlan.parent}`;
  if (d.vxlan) return `vxlan:${d.vxlan.vni}`;
  return undefined;
}

export function reachPlan(t: Topology): ReachPair[] {
  const holders = t.nodes.filter((n) => HOLDER_KINDS.has(n.kind)).map((n) => n.name);
  const segs = new Map<string, { seg: string; d: DesiredIf }[]>();
  for (const n of holders) {
    segs.set(
      n,
      t.ifs
        .filter((d) => d.node === n)
        .map((d) => ({ seg: segmentOf(t, d), d }))
        .filter((x): x is { seg: string; d: DesiredIf } => x.seg !== undefined),
    );
  }
  const v4 = (d: DesiredIf) => d.addrs.find((a) => a.family === 'inet')?.address;
  const out: ReachPair[] = [];
  for (const a of holders) {
    // A node without an IPv4 address has nothing to probe from.
    if (!t.ifs.some((d) => d.node === a && v4(d))) continue;
    for (const b of holders) {
      if (a === b) continue;
      if (isBlocked(t.blocked, a, b)) {
        const addr = t.ifs
          .filter((d) => d.node === b)
          .map(v4)
          .find((x) => x !== undefined);
        if (addr) out.push({ from: a, to: b, address: addr, expected: false });
        continue;
      }
      const shared = (segs.get(b) ?? []).find(
        (y) => (segs.get(a) ?? []).some((x) => x.seg === y.seg && v4(x.d)) && v4(y.d),
      );
      if (shared) out.push({ from: a, to: b, address: v4(shared.d) as string, expected: true });
    }
  }
  return out;
}

const pingCmd = (): string[] =>
  existsSync('/usr/bin/ping') || existsSync('/bin/ping') ? ['ping'] : ['busybox', 'ping'];

/**
 * ICMP echo from inside the network namespace open as `nsFd` (1 s timeout
 * per try): the child gets the fd as its fd 3 and nsenter enters
 * /proc/self/fd/3, so the namespace is the one verify-run.ts checked, not
 * whatever a reused pid points at by then. A pair expected to reach gets a
 * few tries, so a busy host or a first ARP resolution does not pass for a
 * partition.
 */
export async function probe(nsFd: number, address: string, tries = 1): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = spawn('nsenter', ['--net=/proc/self/fd/3', ...pingCmd(), '-c', '1', '-W', '1', address], {
        stdio: ['ignore', 'ignore', 'ignore', nsFd],
      });
      c.on('error', () => resolve(false));
      c.on('close', (code) => resolve(code === 0));
    });
    if (ok) return true;
  }
  return false;
}

export const pairKey = (p: { from: string; to: string }): string => ifKey(p.from, p.to);
