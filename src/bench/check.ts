/**
 * Neighbourhood check: time to a complete verdict table for N Docker
 * neighbours (50; 10 with --quick) on one user-defined network, each tried by
 * container name and as NAME.NETWORK through Docker's embedded DNS, then
 * probed. The peer, in the same run, is what a user does by hand for the same
 * names: `docker exec START nslookup NAME` and `docker exec START ping -c 1
 * NAME` per name, one after the other. Figures: the check alone (on a warm
 * discovery), discovery plus check (what `wirescope check` pays), the peer.
 * Every container and the network are removed in `finally`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { checkNeighbourhood } from '../check/run.js';
import { closeDiscovery, discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';
import { ensureDockerImage } from '../engines/testing/image.js';
import type { BenchResult, BenchSuite } from './types.js';

const docker = (...args: string[]): string =>
  execFileSync('docker', args, {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/** Runs a command, returning whether it exited 0 (nslookup and ping fail for some names). */
function tryDocker(...args: string[]): boolean {
  try {
    docker(...args);
    return true;
  } catch {
    return false;
  }
}

async function measure(n: number): Promise<BenchResult> {
  const tag = `wsb${randomBytes(3).toString('hex')}`;
  const net = `${tag}-net`;
  const start = `${tag}-start`;
  const others = Array.from({ length: n }, (_, i) => `${tag}-n${i}`);
  const image = ensureDockerImage();
  const tracker = createEngineTracker({ syncBudgetMs: 5000 });
  try {
    docker('network', 'create', net);
    for (const c of [start, ...others])
      docker('run', '-d', '--name', c, '--network', net, image, 'sleep', '100000');

    // Wait until the tracker has every container (the engine's event stream is asynchronous).
    let d = await discover({ containers: tracker });
    for (let i = 0; i < 100; i++) {
      const names = new Set(Object.values(d.containers).map((c) => c.name));
      if ([start, ...others].every((c) => names.has(c))) break;
      await new Promise((r) => setTimeout(r, 200));
      d = await discover({ containers: tracker });
    }

    let t0 = performance.now();
    const r = await checkNeighbourhood(d, start);
    const checkMs = performance.now() - t0;

    t0 = performance.now();
    const d2 = await discover({ containers: tracker });
    const r2 = await checkNeighbourhood(d2, start);
    const fullMs = performance.now() - t0;

    const names = others.flatMap((c) => [c, `${c}.${net}`]);
    t0 = performance.now();
    let peerOk = 0;
    for (const name of names) {
      // As by hand: resolve the name, then ping it (ping resolves it again, as a user's would).
      const resolved = tryDocker('exec', start, 'nslookup', name);
      const pinged = tryDocker('exec', start, 'ping', '-c', '1', '-W', '1', name);
      if (resolved && pinged) peerOk++;
    }
    const peerMs = performance.now() - t0;

    const verified = r.verdicts.filter((v) => v.quality === 'verified').length;
    const ratio = peerMs / fullMs;
    return {
      name: `neighbourhood check, ${n} Docker neighbours, ${names.length} names`,
      figures: {
        'check ms (warm discovery)': Number(checkMs.toFixed(1)),
        'discover + check ms': Number(fullMs.toFixed(1)),
        'docker exec nslookup+ping ms': Number(peerMs.toFixed(1)),
        ratio: Number(ratio.toFixed(1)),
        'verified (wirescope)': `${verified}/${r.verdicts.length}; second run ${r2.verdicts.filter((v) => v.quality === 'verified').length}`,
        'answered (docker exec)': `${peerOk}/${names.length}`,
      },
      goal: { text: '≥ 20× faster than docker exec nslookup/ping per name', met: ratio >= 20 },
    };
  } finally {
    tracker.close();
    await closeDiscovery();
    try {
      docker('rm', '-f', start, ...others);
    } catch {
      // some were never created
    }
    try {
      docker('network', 'rm', net);
    } catch {
      // never created
    }
  }
}

export const suite: BenchSuite = {
  name: 'check',
  async run({ quick }) {
    return [await measure(quick ? 10 : 50)];
  },
};
