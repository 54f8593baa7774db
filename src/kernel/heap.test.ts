import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { IdleCollector } from './heap.js';

describe('IdleCollector', () => {
  it('gives garbage back once the thread stays idle after work', async () => {
    const c = new IdleCollector(20);
    c.busy();
    let junk: object[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
    const before = getHeapStatistics().used_heap_size;
    junk = undefined;
    c.done();
    assert.equal(c.collections, 0, 'not while work may follow');
    const t0 = performance.now();
    while (c.collections === 0) {
      if (performance.now() - t0 > 10_000) assert.fail('no collection after the idle time');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(junk, undefined);
    assert.ok(getHeapStatistics().used_heap_size < before, 'the garbage was collected');
  });

  it('does not collect while other work is under way', async () => {
    const c = new IdleCollector(10);
    c.busy();
    c.busy();
    c.done();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.collections, 0);
    c.done();
    const t0 = performance.now();
    while (c.collections === 0) {
      if (performance.now() - t0 > 10_000) assert.fail('no collection once all work ended');
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('does not hand gc to the rest of the process', () => {
    new IdleCollector().collect();
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  });
});
