/**
 * Engine overhead of a warm discovery: with N running Docker containers
 * (100; 20 with --quick) and with none of ours, the median wall time of
 * discover() with the engine tracker minus without it (network stage off, so
 * the figure is the engine stage: cache → model, PID translation, groups,
 * Process.container, container tenants). The peer is what a per-request
 * discovery pays instead of an event-tracked cache: `docker ps` plus
 * `docker inspect` of every container. All containers are removed in `finally`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';
import { ensureDockerImage } from '../engines/testing/image.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
}

/**
 * Medians over `runs` paired iterations (without, then with the tracker, back
 * to back so load from elsewhere hits both alike), and the engine stage alone:
 * tracker.snapshot() over a fresh scan.
 */
async function measure(label: string, runs: number): Promise<BenchResult> {
  const tracker = createEngineTracker();
  try {
    // Warm-up: the first snapshot syncs every engine (list + inspect + events) in parallel.
    const first = scanNamespaces();
    const s0 = performance.now();
    await tracker.snapshot(first);
    const initialSync = performance.now() - s0;
    await discover({ network: false });
    const withT: number[] = [];
    const withoutT: number[] = [];
    const diffs: number[] = [];
    const snaps: number[] = [];
    let containers = 0;
    for (let i = 0; i < runs; i++) {
      let t0 = performance.now();
      await discover({ network: false });
      const a = performance.now() - t0;
      t0 = performance.now();
      const d = await discover({ containers: tracker, network: false });
      const b = performance.now() - t0;
      containers = Object.keys(d.containers).length;
      withoutT.push(a);
      withT.push(b);
      diffs.push(b - a);
      const scan = scanNamespaces();
      t0 = performance.now();
      await tracker.snapshot(scan);
      snaps.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const ids = docker('ps', '-aq').split('\n').filter(Boolean);
    if (ids.length > 0) docker('inspect', ...ids);
    const peer = performance.now() - t0;
    const overhead = median(diffs);
    const snapshot = median(snaps);
    return {
      name: label,
      figures: {
        containers,
        'initial sync ms': initialSync,
        'discover ms (engines)': median(withT),
        'discover ms (no engines)': median(withoutT),
        'engine overhead ms': overhead,
        'snapshot ms': snapshot,
        'docker ps+inspect ms': peer,
        'ratio peer/snapshot': peer / Math.max(snapshot, 0.001),
      },
      goal: { text: 'engine overhead < 50 ms', met: overhead < 50 },
    };
  } finally {
    tracker.close();
  }
}

export const suite: BenchSuite = {
  name: 'engines',
  async run({ quick }) {
    const n = quick ? 20 : 100;
    const runs = quick ? 5 : 11;
    const prefix = `wstb${randomBytes(3).toString('hex')}`;
    const image = ensureDockerImage();
    const results: BenchResult[] = [];
    results.push(await measure('warm discovery, none of ours running', runs));
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    try {
      // Started in parallel batches: one `docker run` takes a few hundred ms.
      for (let i = 0; i < names.length; i += 10) {
        const batch = names
          .slice(i, i + 10)
          .map((name) => `docker run -d --name ${name} ${image} sleep 100000 >/dev/null`);
        execFileSync('bash', ['-c', `${batch.join(' & ')} & wait`]);
      }
      const running = docker('ps', '-q', '--filter', `name=${prefix}-`).split('\n').filter(Boolean).length;
      if (running !== n) throw new Error(`only ${running} of ${n} bench containers are running`);
      results.push(await measure(`warm discovery, ${n} running containers`, runs));
    } finally {
      const existing = docker('ps', '-aq', '--filter', `name=${prefix}-`).split('\n').filter(Boolean);
      if (existing.length > 0) docker('rm', '-f', ...existing);
    }
    return results;
  },
};
