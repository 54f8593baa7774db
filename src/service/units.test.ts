import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Discovery, Draft } from '../model/types.js';
import { sampleDiscovery } from '../views/fixtures.js';
import { parseNetnsMounts, parseNsLink } from '../watch/nsset.js';
import { diffDiscoveries, isEmpty } from './diff.js';
import { isLoopback, parseListen } from './listen.js';
import { safeRelativePath } from './static.js';

const clone = (d: Draft.Discovery): Draft.Discovery => structuredClone(d);

describe('change sets between discoveries', () => {
  it('reports nothing for identical discoveries, even when counters and timing moved', () => {
    const a = sampleDiscovery();
    const b = clone(a);
    b.durationMs = 99;
    for (const n of Object.values(b.networks))
      for (const i of n.interfaces) if (i.stats) i.stats.rxBytes += 1000;
    assert.ok(isEmpty(diffDiscoveries(a as Discovery, b as Discovery)));
  });

  it('names added and removed namespaces with their interfaces, and changed interfaces', () => {
    const a = sampleDiscovery();
    const b = clone(a);
    const [firstKey, first] = Object.entries(b.networks).find(
      ([, n]) => !n.isInitial && n.interfaces.length > 0,
    )!;
    delete b.networks[firstKey];
    const host = Object.values(b.networks).find((n) => n.isInitial)!;
    host.interfaces[0]!.mtu = 9000;
    const added = structuredClone(first);
    added.ino = 4242;
    b.networks['4242'] = added;
    const c = diffDiscoveries(a as Discovery, b as Discovery);
    assert.deepEqual(c.namespaces.added, [4242]);
    assert.deepEqual(c.namespaces.removed, [first.ino]);
    assert.deepEqual(c.namespaces.changed, [host.ino]);
    assert.deepEqual(
      c.interfaces.changed.map((i) => i.name),
      [host.interfaces[0]!.name],
    );
    assert.equal(c.interfaces.removed.length, first.interfaces.length);
    assert.equal(c.interfaces.added.filter((i) => i.netns === 4242).length, added.interfaces.length);
  });

  it('treats everything as added when there was no previous discovery', () => {
    const a = sampleDiscovery();
    const c = diffDiscoveries(undefined, a as Discovery);
    assert.equal(c.namespaces.added.length, Object.keys(a.networks).length);
    assert.equal(c.containers.added.length, Object.keys(a.containers).length);
  });
});

describe('static path safety', () => {
  it('maps ordinary paths and / to files inside the root', () => {
    assert.equal(safeRelativePath('/'), 'index.html');
    assert.equal(safeRelativePath('/assets/index-1.js'), 'assets/index-1.js');
    assert.equal(safeRelativePath('/./assets//x.css'), 'assets/x.css');
  });
  it('refuses "..", encoded separators, backslashes, NUL and malformed escapes', () => {
    for (const p of [
      '/../x',
      '/a/../../x',
      '/%2e%2e/x',
      '/..%2fx',
      '/a%2fb',
      '/..%5cx',
      '/a\\b',
      '/x%00',
      '/%E0%A4%A',
    ]) {
      assert.equal(safeRelativePath(p), undefined, p);
    }
  });
});

describe('--listen parsing', () => {
  it('accepts host:port, [v6]:port, :port and a bare port', () => {
    assert.deepEqual(parseListen('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
    assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseListen(':7000'), { host: '0.0.0.0', port: 7000 });
    assert.deepEqual(parseListen('6000'), { host: '127.0.0.1', port: 6000 });
  });
  it('refuses bad ports with a one-line message', () => {
    assert.throws(() => parseListen('host:99999'), /no valid port/);
    assert.throws(() => parseListen('host:http'), /no valid port/);
  });
  it('knows loopback from the rest', () => {
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('192.168.1.5'));
  });
});

describe('namespace census parsing', () => {
  it('reads nsfs links', () => {
    assert.equal(parseNsLink('net:[4026531840]'), 4026531840);
    assert.equal(parseNsLink('mnt:[4026531841]'), undefined);
  });
  it('finds network namespace bind mounts in mountinfo, unescaping mount points', () => {
    const text = [
      '22 1 0:21 / /proc rw,nosuid - proc proc rw',
      '610 25 0:4 net:[4026532291] /run/netns/blue rw shared:5 - nsfs nsfs rw',
      '611 25 0:4 net:[4026532292] /run/netns/with\\040space rw - nsfs nsfs rw',
      '612 25 0:4 mnt:[4026532293] /run/mnt rw - nsfs nsfs rw',
    ].join('\n');
    assert.deepEqual(parseNetnsMounts(text), [
      { ino: 4026532291, path: '/run/netns/blue' },
      { ino: 4026532292, path: '/run/netns/with space' },
    ]);
  });
});
