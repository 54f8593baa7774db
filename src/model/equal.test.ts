import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameData } from './equal.js';

describe('sameData: equality of plain model data', () => {
  it('compares objects, arrays and primitives deeply, as their JSON texts compare', () => {
    assert.ok(sameData({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] }));
    assert.ok(!sameData({ a: [1, 2] }, { a: [2, 1] }), 'order of arrays matters');
    assert.ok(!sameData({ a: 1 }, { a: '1' }));
    assert.ok(!sameData([], {}));
    assert.ok(!sameData({ a: null }, { a: {} }));
    assert.ok(!sameData({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!sameData({ a: 1, b: 2 }, { a: 1 }));
  });

  it('takes a key whose value is undefined for no key, as JSON does', () => {
    assert.ok(sameData({ a: 1, b: undefined }, { a: 1 }));
    assert.ok(sameData({ a: 1 }, { a: 1, b: undefined }));
    for (const [x, y] of [
      [{ a: 1, b: undefined }, { a: 1 }],
      [
        { a: [1], b: 2 },
        { a: [1], b: 3 },
      ],
    ] as const) {
      assert.equal(sameData(x, y), JSON.stringify(x) === JSON.stringify(y));
    }
  });

  it('ignores the given keys of the outermost object only', () => {
    const ignore = new Set(['stats']);
    assert.ok(sameData({ mtu: 1500, stats: { rx: 1 } }, { mtu: 1500, stats: { rx: 9 } }, ignore));
    assert.ok(sameData({ mtu: 1500, stats: { rx: 1 } }, { mtu: 1500 }, ignore));
    assert.ok(!sameData({ x: { stats: 1 } }, { x: { stats: 2 } }, ignore));
  });
});
