import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { inNetns, ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { type ChangeReason, ChangeWatcher } from './watcher.js';

describe('change watcher on the real kernel', () => {
  const ns = `${uniquePrefix('wst', 5)}-watch`;
  const reasons: ChangeReason[] = [];
  // Ticked by hand: the interval never fires within the test.
  const watcher = new ChangeWatcher((r) => reasons.push(r), { intervalMs: 3_600_000 });
  const sysctl = (...args: string[]) => inNetns(ns, 'sysctl', [...args]).trim();

  before(() => {
    ip('netns', 'add', ns);
    watcher.tick(); // opens a socket in every namespace, ours included
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
