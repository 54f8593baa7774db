import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hubDocumentBytes } from './document.js';
import { hubId, merge } from './merge.js';
import { agentView, nodeModel } from './testing/models.js';

test('each node keeps its whole model under its name; equal inodes on two nodes do not collide', () => {
  const a = nodeModel('10.0.0.1');
  const b = nodeModel('10.0.0.2');
  const m = merge([agentView('http://b:5000', 'b', b), agentView('http://a:5000', 'a', a)]);
  assert.deepEqual([...m.nodes.keys()], ['a', 'b']);
  assert.equal(m.nodes.get('a')?.discovery, a);
  assert.equal(m.nodes.get('b')?.discovery, b);
  // The same inode numbers on both nodes (every kernel numbers its own): told apart by the node.
  const inos = Object.keys(a.networks);
  assert.deepEqual(Object.keys(b.networks), inos);
  const ids = new Set([...m.nodes.keys()].flatMap((n) => inos.map((ino) => hubId(n, ino))));
  assert.equal(ids.size, 2 * inos.length);
  const counts = m.nodes.get('a')?.summary.counts;
  assert.equal(counts?.networks, inos.length);
  assert.equal(
    counts?.interfaces,
    Object.values(a.networks).reduce((s, n) => s + n.interfaces.length, 0),
  );
});

test('a stale node keeps its model and last-seen time; two agents naming one node never merge (no namespace twice)', () => {
  const a = nodeModel('10.0.0.1');
  const m = merge([
    agentView('http://a1:5000', 'a', a, 'stale'),
    agentView('http://a2:5000', 'a', nodeModel('10.0.0.9')),
    agentView('http://new:5000', undefined, undefined, 'connecting'),
  ]);
  // The fresh one owns the name; the stale one is listed with the reason.
  assert.equal(m.nodes.get('a')?.summary.url, 'http://a2:5000');
  assert.deepEqual(
    m.agents.map((x) => [x.url, x.name, x.state]),
    [
      ['http://a1:5000', 'a', 'stale'],
      ['http://new:5000', null, 'connecting'],
    ],
  );
  const alone = merge([agentView('http://a1:5000', 'a', a, 'stale')]).nodes.get('a');
  assert.equal(alone?.summary.state, 'stale');
  assert.equal(alone?.summary.lastSeen, '2026-01-01T00:00:00.000Z');
  assert.equal(alone?.discovery, a);
});

test('the spliced document is the JSON of the merged model', () => {
  const a = nodeModel('10.0.0.1', [{ kind: 'vxlan', name: 'vx', vni: 1, port: 4789, remote: '10.0.0.2' }]);
  const b = nodeModel('10.0.0.2', [{ kind: 'vxlan', name: 'vx', vni: 1, port: 4789, remote: '10.0.0.1' }]);
  const m = merge([
    agentView('http://a:5000', 'a', a),
    agentView('http://b:5000', 'b', b),
    agentView('http://c:5000', 'c', undefined, 'connecting'),
  ]);
  const doc = JSON.parse(hubDocumentBytes(m, 7, 'test').toString('utf8'));
  assert.equal(doc.schema, 'wirescope/hub/v1');
  assert.equal(doc.generation, 7);
  assert.deepEqual(Object.keys(doc.nodes), ['a', 'b', 'c']);
  assert.deepEqual(doc.nodes.a.discovery, JSON.parse(JSON.stringify(a)));
  assert.equal(doc.nodes.c.discovery, null);
  assert.equal(doc.nodes.c.state, 'connecting');
  assert.equal(doc.overlay.length, 1);
  assert.equal(doc.overlay[0].status, 'linked');
});
