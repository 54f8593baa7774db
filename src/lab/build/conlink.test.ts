/**
 * The conlink-style example on the real kernel: a switch bridge in its own
 * namespace, a router to an "internet" namespace, a VXLAN overlay over a veth
 * underlay, a macvlan on the underlay, an isolated node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cli,
  driftOf,
  footprint,
  inNode,
  perturbationTests,
  ping,
  reaches,
  useExampleLab,
} from '../testing/fixtures.js';

describe('lab: conlink-style example (switch, internet, vxlan overlay, macvlan)', () => {
  const lab = useExampleLab('conlink.yaml');

  it('a second up changes nothing', async () => {
    const r = await cli('lab', 'up', lab().file);
    assert.match(r.stdout, /up to date, nothing to do/);
  });

  it('carries traffic on the switch, to the internet node, over the overlay and through the macvlan', () => {
    const n = lab().name;
    assert.ok(reaches(n, 'h1', '10.0.0.2'), 'h1 -> h2 on the switch');
    assert.ok(reaches(n, 'h1', 'fd00:0:0:1::2'), 'h1 -> h2 over IPv6');
    assert.ok(reaches(n, 'h1', '8.8.8.8'), 'h1 -> internet through the router');
    assert.ok(reaches(n, 'vtep1', '10.1.0.2'), 'vtep1 -> vtep2 over VXLAN');
    assert.ok(reaches(n, 'm1', '192.168.100.1'), 'm1 (macvlan on vtep2:u0) -> vtep1 on the underlay');
  });

  it('blocks the isolated node', () => {
    const n = lab().name;
    assert.ok(!ping(n, 'h1', '10.0.0.3'), 'h1 -> h3 is cut');
    assert.ok(!ping(n, 'h1', 'fd00:0:0:1::3'), 'h1 -> h3 is cut over IPv6 too');
    assert.ok(!ping(n, 'h3', '10.0.0.254'), 'h3 -> router is cut');
  });

  it('builds what was declared: vxlan parameters, macvlan mode and parent, MTU, MAC', () => {
    const n = lab().name;
    const vx = inNode(n, 'vtep1', ['ip', '-d', 'link', 'show', 'vx0']).out;
    assert.match(vx, /vxlan id 42 remote 192\.168\.100\.2 local 192\.168\.100\.1 dev u0/);
    assert.match(vx, /dstport 4789/);
    assert.match(inNode(n, 'm1', ['ip', '-d', 'link', 'show', 'mv0']).out, /macvlan mode bridge/);
    assert.match(inNode(n, 'h2', ['ip', 'link', 'show', 'eth0']).out, /mtu 1400/);
    assert.match(inNode(n, 'internet', ['ip', 'link', 'show', 'eth0']).out, /link\/ether 02:00:08:08:08:08/);
  });

  it('verify is clean, with the reachability matrix', async () => {
    const r = await cli('verify', '--reach', '--json', lab().file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(driftOf(r), []);
  });

  it('reports a changed VXLAN VNI and a changed MTU, each once', async () => {
    const n = lab().name;
    try {
      assert.equal(inNode(n, 'vtep2', ['ip', 'link', 'del', 'vx0']).code, 0);
      assert.equal(
        inNode(n, 'vtep2', [
          'ip',
          'link',
          'add',
          'vx0',
          'type',
          'vxlan',
          'id',
          '43',
          'remote',
          '192.168.100.1',
          'local',
          '192.168.100.2',
          'dev',
          'u0',
          'dstport',
          '4789',
        ]).code,
        0,
      );
      assert.equal(inNode(n, 'vtep2', ['ip', 'addr', 'add', '10.1.0.2/24', 'dev', 'vx0']).code, 0);
      assert.equal(inNode(n, 'vtep2', ['ip', 'link', 'set', 'vx0', 'up']).code, 0);
      assert.equal(inNode(n, 'h2', ['ip', 'link', 'set', 'eth0', 'mtu', '1500']).code, 0);
      const r = await cli('verify', '--json', lab().file);
      assert.equal(r.code, 1);
      assert.deepEqual(
        driftOf(r)
          .map((x) => `${x.op} ${x.message}`)
          .sort(),
        ['~ h2:eth0.mtu: declared 1400, found 1500', '~ vtep2:vx0.vxlan.vni: declared 42, found 43'],
      );
    } finally {
      // A kernel-made vxlan without the lab's mark is replaced: the namespace is the lab's.
      const up = await cli('lab', 'up', lab().file);
      assert.equal(up.code, 0, up.stderr);
    }
    assert.equal((await cli('verify', lab().file)).code, 0);
  });

  perturbationTests(
    lab,
    {
      veth: { node: 'h1', ifname: 'eth0', expect: /^- s1:p1 <-> h1:eth0 \(veth\): declared, missing/ },
      address: {
        node: 'internet',
        ifname: 'eth0',
        from: '8.8.8.8/24',
        to: '8.8.8.9/24',
        expect: /^~ internet:eth0\.ipv4: declared 8\.8\.8\.8\/24, found 8\.8\.8\.9\/24/,
      },
      route: {
        node: 'h2',
        dst: 'default',
        expect: /^- route default via 10\.0\.0\.254 in h2: declared, missing/,
      },
      partition: { node: 'h1', expect: /^- partition rule partition:h3 in h1: declared, missing/ },
      kill: { node: 'm1', expect: /^- node m1 \(netns\): declared, not running/ },
    },
    it,
    assert,
  );

  it('down leaves nothing behind', async () => {
    assert.equal((await cli('lab', 'down', lab().name)).code, 0);
    assert.deepEqual(await footprint(lab().name), []);
  });
});
