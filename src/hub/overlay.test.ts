import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Discovery } from '../model/types.js';
import { overlayWires } from './overlay.js';
import { nodeModel } from './testing/models.js';

const nodes = (entries: [string, Discovery][]) => new Map(entries);

test('a VXLAN whose remote is another node’s address is wired to the device of the same VNI and port there, once', () => {
  const wires = overlayWires(
    nodes([
      [
        'a',
        nodeModel('10.0.0.1', [{ kind: 'vxlan', name: 'vx42', vni: 420, port: 4789, remote: '10.0.0.2' }]),
      ],
      [
        'b',
        nodeModel('10.0.0.2', [{ kind: 'vxlan', name: 'vx42b', vni: 420, port: 4789, remote: '10.0.0.1' }]),
      ],
    ]),
  );
  assert.equal(wires.length, 1);
  const [w] = wires;
  assert.equal(w?.status, 'linked');
  assert.deepEqual([w?.from.node, w?.from.name, w?.to?.node, w?.to?.name], ['a', 'vx42', 'b', 'vx42b']);
  assert.deepEqual(w?.remoteNodes, ['b']);
});

test('another VNI or port is no counterpart: the wire is unmatched, naming the node that owns the address', () => {
  const wires = overlayWires(
    nodes([
      [
        'a',
        nodeModel('10.0.0.1', [{ kind: 'vxlan', name: 'vx42', vni: 420, port: 4789, remote: '10.0.0.2' }]),
      ],
      [
        'b',
        nodeModel('10.0.0.2', [
          { kind: 'vxlan', name: 'vx43', vni: 430, port: 4789, remote: '10.0.0.1' },
          { kind: 'vxlan', name: 'vx42p', vni: 420, port: 8472, remote: '10.0.0.1' },
          { kind: 'geneve', name: 'gn42', vni: 420, port: 4789, remote: '10.0.0.1' },
        ]),
      ],
    ]),
  );
  const fromA = wires.filter((w) => w.from.node === 'a');
  assert.deepEqual(
    fromA.map((w) => [w.status, w.remoteNodes]),
    [['unmatched', ['b']]],
  );
  // b's three devices point back at a, where none of them has a counterpart either.
  assert.deepEqual(
    wires.filter((w) => w.from.node === 'b').map((w) => [w.from.name, w.status]),
    [
      ['vx43', 'unmatched'],
      ['vx42p', 'unmatched'],
      ['gn42', 'unmatched'],
    ],
  );
});

test('Geneve is matched like VXLAN; a remote that is no node’s address leaves the cluster', () => {
  const wires = overlayWires(
    nodes([
      [
        'a',
        nodeModel('fd00::1', [
          { kind: 'geneve', name: 'gn7', vni: 7, port: 6081, remote: 'FD00::2' },
          { kind: 'vxlan', name: 'vxout', vni: 9, port: 4789, remote: '198.51.100.7' },
          // A multicast-learning device names no peer: no wire.
          { kind: 'vxlan', name: 'vxmc', vni: 10, port: 4789 },
        ]),
      ],
      ['b', nodeModel('fd00::2', [{ kind: 'geneve', name: 'gn7', vni: 7, port: 6081, remote: 'fd00::1' }])],
    ]),
  );
  assert.deepEqual(
    wires.map((w) => [w.from.name, w.status, w.to?.node]),
    [
      ['gn7', 'linked', 'b'],
      ['vxout', 'leaves-cluster', undefined],
    ],
  );
});

test('a remote on the same node is a single host’s wire, not an overlay; with three nodes the counterpart that sends back wins', () => {
  const wires = overlayWires(
    nodes([
      [
        'a',
        nodeModel('10.0.0.1', [
          { kind: 'vxlan', name: 'loop', vni: 1, port: 4789, remote: '10.0.0.1' },
          { kind: 'vxlan', name: 'toc', vni: 5, port: 4789, remote: '10.0.0.3' },
        ]),
      ],
      ['b', nodeModel('10.0.0.2', [{ kind: 'vxlan', name: 'bc', vni: 5, port: 4789, remote: '10.0.0.3' }])],
      [
        'c',
        nodeModel('10.0.0.3', [
          { kind: 'vxlan', name: 'cb', vni: 5, port: 4789, remote: '10.0.0.2' },
          { kind: 'vxlan', name: 'ca', vni: 5, port: 4789, remote: '10.0.0.1' },
        ]),
      ],
    ]),
  );
  assert.deepEqual(wires.map((w) => `${w.from.node}:${w.from.name}-${w.to?.node}:${w.to?.name}`).sort(), [
    'a:toc-c:ca',
    'b:bc-c:cb',
  ]);
});
