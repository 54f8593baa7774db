import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { eventually } from '../testing/eventually.js';
import { NetnsCensus } from './census.js';

describe('NetnsCensus, on the real /proc', () => {
  it('says the live set may have changed only when a namespace gained its first holder or lost its last', async () => {
    const c = new NetnsCensus();
    c.walk([], []);
    assert.equal(c.takeDirty(), true, 'a walk rebuilds everything');
    assert.equal(c.takeDirty(), false);
    // This process is one of many in the initial network namespace: no news either way.
    c.look(process.pid);
    assert.equal(c.takeDirty(), false);
    // A process alone in a new network namespace is.
    const child = spawn('unshare', ['-n', 'sleep', '60'], { stdio: 'ignore' });
    try {
      const pid = child.pid;
      assert.ok(pid !== undefined);
      const own = readlinkSync('/proc/self/ns/net');
      await eventually(
        `process ${pid} in a network namespace of its own`,
        () => readlinkSync(`/proc/${pid}/ns/net`) !== own,
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      c.look(pid);
      assert.equal(c.takeDirty(), true, 'a new namespace');
      assert.ok(c.live().has(Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[1])));
      c.forget(pid);
      assert.equal(c.takeDirty(), true, 'its last holder went');
    } finally {
      child.kill();
    }
  });
});
