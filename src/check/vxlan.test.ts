/**
 * The neighbourhood check across a vxlan overlay between two namespaces of
 * this host (two "hosts" u1 and u2 joined by an underlay veth): the start on
 * u1's bridge has a neighbour on that bridge and one on u2's bridge, reached
 * through the tunnel; a namespace behind another VNI is no neighbour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeDiscovery, discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { NetFixtures } from '../network/testing/fixtures.js';
import { ipBatch } from '../testing/ip.js';
import { checkNeighbourhood } from './run.js';

describe('neighbourhood check across a vxlan overlay', () => {
  const fx = new NetFixtures();
  const [u1, u2, a, b, c, d] = ['u1', 'u2', 'a', 'b', 'c', 'd'].map((n) => `${fx.prefix}-${n}`) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let disc: Discovery;

  before(async () => {
    fx.netns('u1', 'u2', 'a', 'b', 'c', 'd');
    const lines = [
      `-n ${u1} link add eth0 type veth peer name eth0 netns ${u2}`,
      `-n ${u1} addr add 10.90.0.1/24 dev eth0`,
      `-n ${u2} addr add 10.90.0.2/24 dev eth0`,
      `-n ${u1} link set eth0 up`,
      `-n ${u2} link set eth0 up`,
      `-n ${u1} link add vx0 type vxlan id 42 remote 10.90.0.2 local 10.90.0.1 dev eth0 dstport 4789`,
      `-n ${u2} link add vx0 type vxlan id 42 remote 10.90.0.1 local 10.90.0.2 dev eth0 dstport 4789`,
      // Another VNI on u2, with a namespace behind it: no tunnel from u1 leads there.
      `-n ${u2} link add vx1 type vxlan id 43 local 10.90.0.2 dev eth0 dstport 4789`,
    ];
    const bridge = (u: string, br: string, vx: string) =>
      lines.push(
        `-n ${u} link add ${br} type bridge`,
        `-n ${u} link set ${br} up`,
        `-n ${u} link set ${vx} master ${br} up`,
      );
    bridge(u1, 'br0', 'vx0');
    bridge(u2, 'br0', 'vx0');
    bridge(u2, 'br1', 'vx1');
    const attach = (u: string, br: string, port: string, ns: string, addr: string) =>
      lines.push(
        `-n ${u} link add ${port} type veth peer name eth0 netns ${ns}`,
        `-n ${u} link set ${port} master ${br} up`,
        `-n ${ns} addr add ${addr}/24 dev eth0`,
        `-n ${ns} link set eth0 up`,
      );
    attach(u1, 'br0', 'pa', a, '10.91.0.1');
    attach(u1, 'br0', 'pc', c, '10.91.0.3');
    attach(u2, 'br0', 'pb', b, '10.91.0.2');
    attach(u2, 'br1', 'pd', d, '10.91.0.4');
    ipBatch(lines);
    disc = await discover({ dns: false });
  });

  after(async () => {
    fx.cleanup();
    await closeDiscovery();
  });

  it('walks the tunnel to the bridge on the other side and reaches the neighbour there', async () => {
    const r = await checkNeighbourhood(disc, a, { limits: { probeTimeoutMs: 1500 } });
    assert.deepEqual(
      r.neighbours.map((n) => [n.label, n.addresses]),
      [
        [b, ['10.91.0.2']],
        [c, ['10.91.0.3']],
      ],
      'c on the same bridge, b across the overlay; d is behind another VNI',
    );
    assert.deepEqual(
      r.verdicts.map((v) => [v.fqdn, v.address, v.quality, v.via]),
      [
        [b, '10.91.0.2', 'verified', 'icmp'],
        [c, '10.91.0.3', 'verified', 'icmp'],
      ],
    );
    assert.deepEqual(r.notes, []);
    assert.equal(r.ok, true);
  });
});
