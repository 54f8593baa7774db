import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HubDocument, HubNode } from '../../src/hub/contract.js';
import type { Discovery } from '../../src/model/types.js';
import { sampleDiscovery } from '../../src/views/fixtures.js';
import { hubPicture, lastSeenText } from './hub-model.js';

const node = (name: string, state: HubNode['state'], discovery: Discovery | null): HubNode => ({
  name,
  url: `http://${name}:5000`,
  state,
  lastSeen: '2026-01-01T12:00:00.000Z',
  error: state === 'stale' ? 'fetch failed (ECONNREFUSED)' : null,
  generation: 1,
  counts: { namespaces: 0, networks: 0, interfaces: 0, containers: 0 },
  discovery,
});

test('nodes are the outer groups; a stale node keeps its cards and says when it was last seen', () => {
  const d = sampleDiscovery() as Discovery;
  const host = Object.values(d.networks).find((n) => n.isInitial);
  const vx = Object.values(d.networks)
    .flatMap((n) => n.interfaces)
    .find((i) => i.vxlan);
  assert.ok(host && vx);
  const doc: HubDocument = {
    schema: 'wirescope/hub/v1',
    generation: 4,
    source: 'test',
    nodes: { a: node('a', 'fresh', d), b: node('b', 'stale', d), c: node('c', 'connecting', null) },
    overlay: [
      {
        kind: 'vxlan',
        vni: 42,
        port: 4789,
        from: { node: 'a', netns: vx.netns, index: vx.index, name: vx.name },
        to: { node: 'b', netns: vx.netns, index: vx.index, name: vx.name },
        remote: '10.0.2.99',
        status: 'linked',
        remoteNodes: ['b'],
      },
      {
        kind: 'vxlan',
        vni: 42,
        from: { node: 'b', netns: vx.netns, index: vx.index, name: vx.name },
        remote: '198.51.100.1',
        status: 'leaves-cluster',
      },
    ],
    agents: [{ url: 'http://x:5000', name: null, state: 'connecting', error: 'timed out' }],
  };
  const p = hubPicture(doc, Date.parse('2026-01-01T12:05:00Z'));
  assert.deepEqual(
    p.groups.map((g) => [g.node.name, g.cards.length > 0, g.status.split(',')[0]]),
    [
      ['a', true, 'fresh'],
      ['b', true, 'stale'],
      ['c', false, 'connecting'],
    ],
  );
  assert.match(p.groups[1]?.status ?? '', /last seen 12:00:00 UTC \(5 min ago\): fetch failed/);
  assert.equal(p.groups[0]?.cards[0]?.title, 'node');
  assert.equal(p.groups[0]?.cards[0]?.key, `a/${host.ino}`);
  // Card keys are per node: the same inode under two nodes is two cards.
  assert.notEqual(p.groups[0]?.cards[0]?.key, p.groups[1]?.cards[0]?.key);
  assert.deepEqual(
    p.wires.map((w) => [w.from, w.to, w.status]),
    [
      [`a/${vx.netns}/${vx.index}`, `b/${vx.netns}/${vx.index}`, 'linked'],
      [`b/${vx.netns}/${vx.index}`, undefined, 'leaves-cluster'],
    ],
  );
  assert.match(p.wires[1]?.label ?? '', /leaves the cluster/);
  assert.deepEqual(p.problems, ['http://x:5000 (http://x:5000): connecting, timed out']);
  assert.equal(lastSeenText(null, 0), 'never');
});
