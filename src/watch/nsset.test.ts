import assert from 'node:assert/strict';
import { readlinkSync, statSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Fixtures, token, waitForSleep } from '../namespaces/testing/fixtures.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { liveNetns } from './nsset.js';

describe('the census of live network namespaces', () => {
  const fx = new Fixtures();
  after(() => fx.cleanup());

  it('counts a namespace held by an fd opened through its since-deleted bind mount, by that fd path', async () => {
    const name = uniquePrefix();
    const ino = fx.netnsAdd(name);
    const t = token();
    fx.start(['sh', '-c', `exec sleep ${t} 3</run/netns/${name}`]);
    const [pid = 0] = await waitForSleep(t);
    ip('netns', 'delete', name);
    const path = `/proc/${pid}/fd/3`;
    assert.equal(readlinkSync(path), '/');
    assert.equal(liveNetns('/proc', [path]).get(ino), path);
  });

  it('does not count a holder path that is no namespace file', () => {
    const live = liveNetns('/proc', ['/etc/hostname']);
    assert.ok(![...live.values()].includes('/etc/hostname'));
    assert.ok(!live.has(statSync('/etc/hostname').ino));
  });
});
