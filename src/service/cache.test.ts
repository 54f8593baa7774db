/**
 * The cache's choice between incremental and full discoveries (ARCHITECTURE.md "Incremental
 * discovery"): pure, with a run that records the hints it gets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Product, RunHint } from './cache.js';
import { DiscoveryCache } from './cache.js';

function recorder(): { hints: boolean[]; run: (h: RunHint) => Promise<Product> } {
  const hints: boolean[] = [];
  const run = async (h: RunHint): Promise<Product> => {
    hints.push(h.incremental);
    return { rendered: new Map([['native', Buffer.from('{}')]]), holders: [], startedAt: '' };
  };
  return { hints, run };
}

test('the first discovery is full; rtnetlink and census changes then ask for incremental ones', async () => {
  const r = recorder();
  const cache = new DiscoveryCache(r.run, { incremental: true });
  await cache.refresh();
  cache.markDirty('netlink');
  await cache.refresh();
  cache.markDirty('namespaces');
  cache.markDirty('netlink');
  await cache.refresh();
  assert.deepEqual(r.hints, [false, true, true]);
  assert.deepEqual(cache.runs, { full: 1, incremental: 2 });
});

test('engine events, an unnamed change (?fresh=1) and a failed run ask for a full discovery', async () => {
  const r = recorder();
  let fail = false;
  const cache = new DiscoveryCache(
    async (h) => {
      if (fail) throw new Error('boom');
      return r.run(h);
    },
    { incremental: true },
  );
  await cache.refresh();
  cache.markDirty('engine');
  cache.markDirty('netlink');
  await cache.refresh();
  await cache.get({ fresh: true });
  fail = true;
  cache.markDirty('netlink');
  await assert.rejects(cache.refresh());
  fail = false;
  cache.markDirty('netlink');
  await cache.refresh();
  cache.markDirty('netlink');
  await cache.refresh();
  assert.deepEqual(r.hints, [false, false, false, false, true]);
});

test('a full discovery at least every maxAgeMs, and none incremental when turned off', async () => {
  const r = recorder();
  const cache = new DiscoveryCache(r.run, { incremental: true, maxAgeMs: 30 });
  await cache.refresh();
  await new Promise((res) => setTimeout(res, 50));
  cache.markDirty('netlink');
  await cache.refresh();
  assert.deepEqual(r.hints, [false, false]);
  const off = recorder();
  const plain = new DiscoveryCache(off.run, { incremental: false });
  await plain.refresh();
  plain.markDirty('netlink');
  await plain.refresh();
  assert.deepEqual(off.hints, [false, false]);
});

test('a view the discovery worker no longer renders for an older snapshot is answered from the newest one, not rendered here', async () => {
  // As the worker does (runner.ts): only its latest model renders; older ones answer undefined.
  let latest = '';
  let n = 0;
  const run = async (): Promise<Product> => {
    const startedAt = `t${++n}`;
    latest = startedAt;
    return {
      rendered: new Map([['native', Buffer.from('{}')]]),
      holders: [],
      startedAt,
      lazyViews: ['v1'],
      render: async (view) => (startedAt === latest ? Buffer.from(`${view} of ${startedAt}`) : undefined),
    };
  };
  const cache = new DiscoveryCache(run);
  const first = await cache.refresh();
  cache.markDirty('netlink');
  const second = await cache.refresh();
  const built: string[] = [];
  const build = (s: { startedAt: string }) => {
    built.push(s.startedAt);
    return 'here';
  };
  const old = await DiscoveryCache.renderNewest(first, 'v1', build);
  assert.equal(old.snap, second, 'the newest snapshot answers');
  assert.equal(old.body.toString(), 'v1 of t2');
  // A view the worker does not make is built here, of the snapshot asked for.
  const own = await DiscoveryCache.renderNewest(first, 'netns-1', build);
  assert.equal(own.snap, first);
  assert.deepEqual(built, ['t1']);
});
