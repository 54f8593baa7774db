/**
 * Views benchmark: how fast a discovery of a large host becomes the Ghostwire
 * v1 document the service answers `GET /json` with (transform + JSON text),
 * and the native JSON and text tree for comparison. Goal (issue 3/4 brief):
 * v1 for 500 namespaces at p50 < 100 ms. No peer tool renders this model, so
 * the native JSON serialisation of the same discovery is the baseline; for the
 * change lines (`watch`, the UI's change log) the service's diff by identity is.
 */
import { deepFreeze } from '../model/freeze.js';
import type { Discovery, Draft } from '../model/types.js';
import { diffDiscoveries } from '../service/diff.js';
import { describeChanges } from '../views/changes.js';
import { syntheticDiscovery } from '../views/fixtures.js';
import { toGhostwireV1 } from '../views/ghostwire-v1/transform.js';
import { toNativeJson } from '../views/native.js';
import { renderTextTree } from '../views/text-tree.js';
import type { BenchResult, BenchSuite } from './types.js';

function p50(fn: () => unknown, runs: number): number {
  for (let i = 0; i < 3; i++) fn(); // warm the JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

const round = (x: number): number => Math.round(x * 100) / 100;

export const suite: BenchSuite = {
  name: 'views',
  async run({ quick }) {
    const results: BenchResult[] = [];
    for (const n of quick ? [500] : [100, 500, 1000]) {
      const d = deepFreeze(syntheticDiscovery(n)) as Discovery;
      const runs = quick ? 10 : 30;
      const v1 = p50(() => JSON.stringify(toGhostwireV1(d)), runs);
      const native = p50(() => toNativeJson(d), runs);
      const text = p50(() => renderTextTree(d), runs);
      // `wirescope watch` and the UI's change log: one MTU changed among n namespaces, spelled out,
      // against the service's diff by identity alone (what its change events carry).
      const changed = structuredClone(d) as Draft.Discovery;
      const guest = Object.values(changed.networks).find((x) => !x.isInitial);
      if (guest?.interfaces[1]) guest.interfaces[1].mtu += 100;
      const next = deepFreeze(changed) as Discovery;
      const lines = p50(() => describeChanges(d, next), runs);
      const ids = p50(() => diffDiscoveries(d, next), runs);
      const bytes = JSON.stringify(toGhostwireV1(d)).length;
      const r: BenchResult = {
        name: `views, ${n} netns`,
        figures: {
          'v1 JSON p50 ms': round(v1),
          'native JSON p50 ms': round(native),
          'v1/native ratio': round(v1 / native),
          'text tree p50 ms': round(text),
          'change lines p50 ms': round(lines),
          'id diff p50 ms': round(ids),
          'change lines/id diff ratio': round(lines / ids),
          'v1 KB': Math.round(bytes / 1024),
          'RSS MB': Math.round(process.memoryUsage().rss / 2 ** 20),
        },
      };
      if (n === 500) r.goal = { text: 'v1 JSON for 500 netns at p50 < 100 ms', met: v1 < 100 };
      results.push(r);
    }
    return results;
  },
};
