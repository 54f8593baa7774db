/**
 * Forwarded-ports reading cost per network namespace: N throwaway namespaces
 * (1000; 100 with --quick), one in ten with an nftables DNAT table, read by
 * the decorator over a draft that holds only those namespaces. Cold = first
 * run (setns + socket per namespace, then dumps); warm = cached sockets, dumps
 * only. The peer is the CLI way a per-request tool would read the same rules:
 * `ip netns exec NS nft -j list ruleset`, timed over a sample and given per
 * namespace. Every namespace is deleted in `finally`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { closeForwardedPortSockets, decorateForwardedPorts } from '../decorators/forwarded-ports/index.js';
import { draftOf } from '../decorators/forwarded-ports/testing/draft.js';
import type { Draft } from '../model/types.js';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

/** A draft of the named namespaces (ip-netns names), for the decorator alone. */
function draftOfNames(names: string[]): Draft.Discovery {
  return draftOf(
    names.map((n) => {
      const ref = `/run/netns/${n}`;
      return { ino: statSync(ref).ino, ref };
    }),
  );
}

async function measure(count: number): Promise<BenchResult> {
  const P = `wstbf${randomBytes(2).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `${P}-${i}`);
  const created: string[] = [];
  try {
    // One `ip -batch` creates all namespaces; nft fills every tenth.
    execFileSync('ip', ['-batch', '-'], { input: names.map((n) => `netns add ${n}`).join('\n') });
    created.push(...names);
    const ruled = names.filter((_, i) => i % 10 === 0);
    for (const [i, n] of ruled.entries())
      execFileSync('ip', ['netns', 'exec', n, 'nft', '-f', '-'], {
        input: `table ip ${P} {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  tcp dport ${8000 + i} dnat to 10.250.0.2:80\n }\n}\n`,
      });
    closeForwardedPortSockets();
    let d = draftOfNames(names);
    let t0 = performance.now();
    decorateForwardedPorts(d, { dockerProxy: false });
    const cold = performance.now() - t0;
    const found = Object.values(d.networks).reduce((a, n) => a + n.forwardedPorts.length, 0);
    const warm: number[] = [];
    for (let i = 0; i < 9; i++) {
      d = draftOfNames(names);
      t0 = performance.now();
      decorateForwardedPorts(d, { dockerProxy: false });
      warm.push(performance.now() - t0);
    }
    const sample = names.slice(0, Math.min(20, names.length));
    t0 = performance.now();
    for (const n of sample) execFileSync('ip', ['netns', 'exec', n, 'nft', '-j', 'list', 'ruleset']);
    const peerPer = (performance.now() - t0) / sample.length;
    const warmMs = median(warm);
    const warmBest = Math.min(...warm);
    const coldPer = (cold * 1000) / count;
    const warmPer = (warmMs * 1000) / count;
    const bestPer = (warmBest * 1000) / count;
    return {
      name: `forwarded ports, ${count} netns (${ruled.length} with DNAT rules)`,
      figures: {
        forwards: found,
        'cold ms': cold,
        'warm ms': warmMs,
        'cold µs/netns': coldPer,
        'warm µs/netns (median)': warmPer,
        'warm µs/netns (best)': bestPer,
        'nft CLI µs/netns': peerPer * 1000,
        'ratio CLI/warm median': (peerPer * 1000) / Math.max(warmPer, 0.001),
      },
      // The best warm run is the figure least disturbed by other load on the machine.
      goal: {
        text: 'a few tens of µs per netns (best warm < 50 µs)',
        met: bestPer < 50 && found === ruled.length,
      },
    };
  } finally {
    closeForwardedPortSockets();
    if (created.length > 0)
      execFileSync('ip', ['-batch', '-'], {
        input: created.map((n) => `netns del ${n}`).join('\n'),
        stdio: ['pipe', 'ignore', 'ignore'],
      });
  }
}

export const suite: BenchSuite = {
  name: 'forwarded-ports',
  async run({ quick }) {
    return [await measure(quick ? 100 : 1000)];
  },
};
