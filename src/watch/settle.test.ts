import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Settler } from './settle.js';

describe('settling change notifications', () => {
  let t = 0;
  beforeEach(() => {
    t = 0;
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => mock.timers.reset());
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) {
      t++;
      mock.timers.tick(1);
    }
  };
  const make = () => {
    const fired: number[] = [];
    const s = new Settler(() => fired.push(t), { quietMs: 20, maxMs: 200, now: () => t });
    return { s, fired };
  };

  it('fires a lone notification after the quiet time, not the whole window', () => {
    const { s, fired } = make();
    s.notify();
    advance(19);
    assert.deepEqual(fired, []);
    advance(1);
    assert.deepEqual(fired, [20]);
  });

  it('lets a quick burst (a veth pair: messages within milliseconds) land in one firing', () => {
    const { s, fired } = make();
    for (let i = 0; i < 10; i++) {
      s.notify();
      advance(2);
    }
    advance(40);
    assert.deepEqual(fired, [38]);
  });

  it('fires no later than the window after the first of a steady stream', () => {
    const { s, fired } = make();
    for (let i = 0; i < 30; i++) {
      s.notify();
      advance(10);
    }
    assert.equal(fired[0], 200);
  });

  it('coalesces for the whole window while busy (a firing less than a window ago), and loses nothing', () => {
    const { s, fired } = make();
    s.notify();
    advance(20); // fired at 20
    s.notify(); // at 20: busy
    advance(100);
    s.notify();
    advance(100); // fires at 220
    assert.deepEqual(fired, [20, 220]);
    assert.equal(s.pending, false, 'every notification was followed by a firing');
    advance(300);
    s.notify(); // quiet again: quick
    advance(20);
    assert.deepEqual(fired, [20, 220, 540]);
  });

  it('cancels', () => {
    const { s, fired } = make();
    s.notify();
    s.cancel();
    advance(500);
    assert.deepEqual(fired, []);
  });
});
