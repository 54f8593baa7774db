/**
 * What a lab does to the host's own namespace is undone by down: host
 * sysctls get their old values back, host routes and marked interfaces go.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { cleanup, cli, driftOf, footprint, type TestLab, uniqueLab } from '../testing/fixtures.js';

const KEY = '/proc/sys/net/ipv4/icmp_msgs_burst';

describe('lab: host sysctls, routes and interfaces are restored by down', () => {
  let t: TestLab | undefined;
  let before0 = '';
  const lab = (): TestLab => {
    if (!t) throw new Error('lab not set up');
    return t;
  };
  before(async () => {
    before0 = readFileSync(KEY, 'utf8').trim();
    // An obscure per-namespace sysctl (a plain integer: icmp_ratelimit would round to jiffies),
    // so other tests on this host never notice.
    const want = String(Number(before0) + 7);
    t = uniqueLab('vagga.yaml', (d) => {
      const h = d.nodes.host;
      if (h) h.sysctls = { 'net.ipv4.icmp_msgs_burst': want };
    });
    const r = await cli('lab', 'up', t.file);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await cleanup(t);
    writeFileSync(KEY, before0);
  });

  it('sets the host sysctl and verify checks it', async () => {
    assert.equal(readFileSync(KEY, 'utf8').trim(), String(Number(before0) + 7));
    assert.equal((await cli('verify', lab().file)).code, 0);
    writeFileSync(KEY, String(Number(before0) + 8));
    const r = await cli('verify', '--json', lab().file);
    assert.equal(r.code, 1);
    assert.deepEqual(
      driftOf(r).map((x) => `${x.op} ${x.message}`),
      [`~ host net.ipv4.icmp_msgs_burst: declared ${Number(before0) + 7}, found ${Number(before0) + 8}`],
    );
    assert.equal((await cli('lab', 'up', lab().file)).code, 0);
    assert.equal(readFileSync(KEY, 'utf8').trim(), String(Number(before0) + 7));
  });

  it('down restores the old value and removes the host route and interface', async () => {
    const vagga = lab().hostIf.get('vagga') as string;
    assert.match(readFileSync('/proc/net/route', 'utf8'), new RegExp(`^${vagga}\\t`, 'm'));
    assert.equal((await cli('lab', 'down', lab().name)).code, 0);
    assert.equal(readFileSync(KEY, 'utf8').trim(), before0, 'the sysctl has its old value again');
    assert.doesNotMatch(readFileSync('/proc/net/route', 'utf8'), new RegExp(`^${vagga}\\t`, 'm'));
    assert.deepEqual(await footprint(lab().name), []);
  });
});
