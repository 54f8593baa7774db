import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../testing/eventually.js';
import { inNetns, ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { liveNetns } from './nsset.js';
import { type ChangeReason, ChangeWatcher } from './watcher.js';

describe('change watcher on the real kernel', () => {
  const ns = `${uniquePrefix('wst', 5)}-watch`;
  const reasons: ChangeReason[] = [];
  // Ticked by hand: the interval never fires within the test. Only our namespace is watched:
  // on a shared host other namespaces change all the time.
  let ino = -1;
  const watcher = new ChangeWatcher((r) => reasons.push(r), {
    intervalMs: 3_600_000,
    census: (root, extra) => new Map([...liveNetns(root, extra)].filter(([i]) => i === ino)),
  });
  const sysctl = (...args: string[]) => inNetns(ns, 'sysctl', [...args]).trim();

  before(() => {
    ip('netns', 'add', ns);
    ino = statSync(`/run/netns/${ns}`).ino;
    watcher.tick(); // opens a socket in our namespace
  });
  after(() => {
    watcher.stop();
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  });

  it('reports nothing while nothing changes', () => {
    reasons.length = 0;
    watcher.tick();
    assert.ok(!reasons.includes('netlink'));
  });

  it('notices a forwarding switch turned in a namespace (netconf), not only links, addresses and routes', () => {
    // A new namespace may inherit the host's value (net.core.devconf_inherit_init_net): flip it.
    const now = sysctl('-n', 'net.ipv4.conf.all.forwarding');
    reasons.length = 0;
    sysctl('-qw', `net.ipv4.conf.all.forwarding=${now === '1' ? 0 : 1}`);
    watcher.tick();
    assert.ok(reasons.includes('netlink'), `reasons: ${reasons.join(',')}`);
  });

  it('notices a link coming up', () => {
    reasons.length = 0;
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    watcher.tick();
    assert.ok(reasons.includes('netlink'));
  });
});

describe('change watcher when the first holder of a namespace passes through', () => {
  it('opens the socket through the next holder, so later changes in that namespace are seen', () => {
    // `ip netns add` and `ip netns exec` live in a new namespace for a moment: the census may
    // name it by such a process, which is gone when the watcher enters it.
    const ns = `${uniquePrefix('wst', 5)}-pass`;
    ip('netns', 'add', ns);
    const ino = statSync(`/run/netns/${ns}`).ino;
    const reasons: ChangeReason[] = [];
    let holder = '/proc/999999999/ns/net'; // a process that no longer exists
    const watcher = new ChangeWatcher((r) => reasons.push(r), {
      intervalMs: 3_600_000,
      census: () => new Map([[ino, holder]]),
    });
    try {
      watcher.tick();
      assert.equal(watcher.watchedNamespaces, 0, 'the vanished holder cannot be entered');
      holder = `/run/netns/${ns}`; // the bind mount that outlives it
      watcher.tick();
      assert.equal(watcher.watchedNamespaces, 1, 'entered through the bind mount');
      reasons.length = 0;
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      watcher.tick();
      assert.deepEqual(reasons, ['netlink']);
    } finally {
      watcher.stop();
      ip('netns', 'del', ns);
    }
  });
});

describe('the event-driven census on the real kernel (the safety-net walk set to 60 s)', () => {
  const p = uniquePrefix('wsc', 5);
  const reasons: ChangeReason[] = [];
  const watcher = new ChangeWatcher((r) => reasons.push(r), { censusMode: 'events', fullWalkMs: 60_000 });
  const children: ChildProcess[] = [];
  const names: string[] = [];

  before(() => watcher.start());
  after(() => {
    watcher.stop();
    for (const c of children) c.kill('SIGKILL');
    for (const n of names) {
      try {
        ip('netns', 'del', n);
      } catch {
        // already gone
      }
    }
  });

  /** Waits until `cond` holds (well under the 60 s walk); the timeout names `what` and the reasons so far. */
  const until = (what: string, cond: () => boolean): Promise<unknown> =>
    eventually(
      what,
      () => ({ held: cond(), reasons: reasons.join(',') }),
      (v) => v.held,
      {
        timeoutMs: 5000,
        intervalMs: 10,
      },
    );

  it('runs on events: the process connector and mountinfo are live', () => {
    const s = watcher.status;
    assert.equal(s.census, 'events', JSON.stringify(s));
    assert.ok(s.sources.procConnector.live);
    assert.ok(s.sources.mountinfo.live);
    assert.equal(s.fullWalkMs, 60_000);
  });

  it('learns of `ip netns add` and `ip netns del` from the mount table, without a walk', async () => {
    const ns = `${p}-add`;
    names.push(ns);
    const walks = watcher.status.fullWalks;
    reasons.length = 0;
    ip('netns', 'add', ns);
    const ino = statSync(`/run/netns/${ns}`).ino;
    await until(`namespace ${ns} (${ino}) in the census`, () => watcher.knows(ino));
    await until('a namespaces change', () => reasons.includes('namespaces'));
    reasons.length = 0;
    ip('netns', 'del', ns);
    await until(`namespace ${ns} (${ino}) gone from the census`, () => !watcher.knows(ino));
    await until('a namespaces change', () => reasons.includes('namespaces'));
    assert.equal(watcher.status.fullWalks, walks, 'no full walk ran meanwhile');
  });

  it('sees a veth appear in a new namespace through the socket opened for it', async () => {
    const ns = `${p}-veth`;
    names.push(ns);
    ip('netns', 'add', ns);
    const ino = statSync(`/run/netns/${ns}`).ino;
    await until(`namespace ${ns} (${ino}) in the census`, () => watcher.knows(ino));
    reasons.length = 0;
    ip('-n', ns, 'link', 'add', `${p}a`, 'type', 'veth', 'peer', 'name', `${p}b`);
    await until('a netlink change', () => reasons.includes('netlink'));
  });

  it('learns of a process that creates a namespace (unshare -n sleep) from exec, and of its exit', async () => {
    const walks = watcher.status.fullWalks;
    reasons.length = 0;
    const child = spawn('unshare', ['-n', 'sleep', '60'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid ?? -1;
    let ino = 0;
    await until(`sleep ${pid} in a namespace of its own`, () => {
      try {
        ino = statSync(`/proc/${pid}/ns/net`).ino;
        return ino !== statSync('/proc/self/ns/net').ino;
      } catch {
        return false;
      }
    });
    await until(`namespace ${ino} of pid ${pid} in the census`, () => watcher.knows(ino));
    await until('a namespaces change', () => reasons.includes('namespaces'));
    reasons.length = 0;
    child.kill('SIGKILL');
    await until(`namespace ${ino} gone with pid ${pid}`, () => !watcher.knows(ino));
    await until('a namespaces change', () => reasons.includes('namespaces'));
    assert.equal(watcher.status.fullWalks, walks, 'no full walk ran meanwhile');
  });
});
