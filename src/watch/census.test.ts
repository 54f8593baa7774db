import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readlinkSync, statSync } from 'node:fs';
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

describe('NetnsCensus holder paths, on the real kernel', () => {
  it('forgets a bind-mounted holder once it is unmounted, and keeps an fd holder until the fd closes', () => {
    const tag = `wshc${process.pid % 10000}`;
    const [a, b] = [`${tag}a`, `${tag}b`];
    const made: string[] = [];
    let fd: number | undefined;
    try {
      for (const n of [a, b]) {
        execFileSync('ip', ['netns', 'add', n]);
        made.push(n);
      }
      const inoA = statSync(`/run/netns/${a}`).ino;
      const inoB = statSync(`/run/netns/${b}`).ino;
      fd = openSync(`/run/netns/${b}`, 'r');
      const fdPath = `/proc/${process.pid}/fd/${fd}`;
      const c = new NetnsCensus();
      c.walk([`/run/netns/${a}`, fdPath], []);
      assert.ok(c.live().has(inoA) && c.live().has(inoB), 'both held');
      for (const n of [a, b]) {
        execFileSync('ip', ['netns', 'del', n]);
        made.splice(made.indexOf(n), 1);
      }
      // What the watcher does on the mount table's POLLPRI.
      c.remount('/proc/self/mountinfo');
      c.recheckExtra();
      assert.equal(c.live().has(inoA), false, 'the unmounted holder path no longer counts');
      assert.equal(c.live().get(inoB), fdPath, 'the fd still holds the other namespace');
      closeSync(fd);
      fd = undefined;
      c.recheckExtra();
      assert.equal(c.live().has(inoB), false, 'the closed fd no longer counts');
    } finally {
      if (fd !== undefined) closeSync(fd);
      for (const n of made) execFileSync('ip', ['netns', 'del', n]);
    }
  });
});
