import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../../src/model/types.js';
import { BLUE, GUEST, HOST, POD, sampleDiscovery, syntheticDiscovery } from '../../src/views/fixtures.js';
import { buildGraph, cardRows, FOLD_AT, matches, type Settings } from './graph.js';

const SETTINGS: Settings = { loopback: false, ipv6: true, macs: false };

const card = (d: Draft.Discovery, ino: number) => {
  const c = buildGraph(d).cards.get(ino);
  assert.ok(c, `a card for ${ino}`);
  return c;
};

describe('the wiring graph', () => {
  it('gives every network namespace a card titled by what lives in it', () => {
    const d = sampleDiscovery();
    const g = buildGraph(d);
    assert.deepEqual([...g.cards.keys()].sort(), [HOST, GUEST, POD, BLUE].sort());
    const titles = Object.fromEntries(
      [...g.cards.values()].map((c) => [c.ino, [c.kind, c.title, c.subtitle]]),
    );
    assert.deepEqual(titles[HOST], ['host', 'host · testhost', 'initial network namespace']);
    // Two containers share the pod's namespace: both name it, and the engine and groups describe it.
    assert.deepEqual(titles[POD], ['pod', 'k8s_POD_mypod + nginx', 'containerd · pod mypod, project shop']);
    // A process's own UTS hostname is part of its description.
    assert.deepEqual(titles[GUEST], ['process', 'sleep', 'process 1000 · hostname guest1']);
    assert.deepEqual(titles[BLUE], ['bindmount', 'blue', 'bind mount /run/netns/blue']);
  });

  it('draws a veth pair as one wire, and macvlan and vxlan wires from the child to its parent or underlay', () => {
    const g = buildGraph(sampleDiscovery());
    assert.deepEqual(
      g.wires.map((w) => [w.kind, w.a, w.b]),
      [
        ['veth', `${HOST}/4`, `${GUEST}/2`],
        ['macvlan', `${GUEST}/3`, `${GUEST}/2`],
        ['vxlan', `${BLUE}/5`, `${HOST}/2`],
      ],
    );
  });

  it('hangs each leaf off the hub interface it is wired to: a bridge, a vxlan underlay; unwired ones apart', () => {
    const g = buildGraph(sampleDiscovery());
    assert.deepEqual(g.hubs, [HOST]);
    assert.deepEqual(
      g.segments.map((s) => [s.anchor, s.label, s.members]),
      [
        [`${HOST}/2`, 'eth0', [BLUE]],
        [`${HOST}/3`, 'br0 · network "backend"', [GUEST]],
        ['isolated', 'not wired to a hub', [POD]],
      ],
    );
    // The guest is attached by its eth0 (not its macvlan) to the host's bridge port.
    assert.deepEqual(g.attachments.get(GUEST), {
      row: `${GUEST}/2`,
      peer: `${HOST}/4`,
      wire: `veth:${HOST}/4=${GUEST}/2`,
    });
  });

  it('keeps 500 namespaces on one bridge as one segment, sorted by title', () => {
    const g = buildGraph(syntheticDiscovery(500));
    const bridge = g.segments.find((s) => s.anchor === `${HOST}/3`);
    assert.equal(bridge?.members.length, 501);
    assert.equal(g.segments.length, 3);
    assert.deepEqual(g.hubs, [HOST]);
  });

  it('finds a card by every search word, in any case: names, addresses, ports, container labels', () => {
    const d = sampleDiscovery();
    assert.ok(matches(card(d, GUEST), '172.20.0.2/16'));
    assert.ok(matches(card(d, GUEST), ':80'));
    assert.ok(matches(card(d, POD), 'MyPod NGINX'));
    assert.ok(!matches(card(d, POD), 'mypod absent'), 'every word must match');
    assert.ok(matches(card(d, POD), ''), 'no search matches everything');
  });
});

describe('a card’s rows', () => {
  const rows = (
    d: Draft.Discovery,
    ino: number,
    s: Settings = SETTINGS,
    expanded: ReadonlySet<string> = new Set(),
  ) => {
    const net = buildGraph(d).nets.get(ino);
    assert.ok(net);
    return cardRows(net, s, expanded);
  };

  it('lists uplinks, then each bridge followed by its ports, hiding loopback unless asked', () => {
    const d = sampleDiscovery();
    assert.deepEqual(
      rows(d, HOST).map((r) => [r.name, r.indent, r.uplink]),
      [
        ['eth0', false, true],
        ['br0', false, false],
        ['veth12', true, false],
      ],
    );
    assert.equal(rows(d, HOST, { ...SETTINGS, loopback: true }).at(-1)?.name, 'lo');
  });

  it(`folds a bridge with more than ${FOLD_AT} ports into one row until it is expanded`, () => {
    // The sample's bridge has one port; the synthetic namespaces add one each.
    assert.equal(
      rows(syntheticDiscovery(FOLD_AT - 1), HOST).length,
      2 + FOLD_AT,
      'at the limit every port has its row',
    );
    const many = syntheticDiscovery(FOLD_AT);
    assert.deepEqual(
      rows(many, HOST).map((r) => [r.key, r.name, r.kind, r.folded]),
      [
        [`${HOST}/2`, 'eth0', 'physical', undefined],
        [`${HOST}/3`, 'br0', 'bridge', undefined],
        [`more:${HOST}/3`, `${FOLD_AT + 1} ports`, 'fold', FOLD_AT + 1],
      ],
    );
    assert.equal(rows(many, HOST, SETTINGS, new Set([`${HOST}/3`])).length, 2 + FOLD_AT + 1);
  });

  it('shows IPv4 first with a count of the others, IPv6 and MACs only when the settings say so', () => {
    const d = sampleDiscovery();
    const eth0 = d.networks[`${GUEST}`]?.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0);
    eth0.addresses.unshift(
      { family: 'inet6', address: '2001:db8::2', prefixlen: 64, scope: 'global', flags: [] },
      { family: 'inet6', address: 'fe80::1', prefixlen: 64, scope: 'link', flags: [] },
    );
    const row = (s: Settings) => rows(d, GUEST, s).find((r) => r.name === 'eth0');
    assert.equal(row(SETTINGS)?.addr, '172.20.0.2/16 +1', 'link-local addresses are not counted');
    assert.equal(row({ ...SETTINGS, ipv6: false })?.addr, '172.20.0.2/16');
    assert.equal(row(SETTINGS)?.mac, '');
    assert.match(row({ ...SETTINGS, macs: true })?.mac ?? '', /^02:00:00:00:/);
  });

  it('says a namespace with only loopback is isolated instead of drawing an empty card', () => {
    assert.deepEqual(
      rows(sampleDiscovery(), POD).map((r) => [r.kind, r.name, r.addr]),
      [['note', 'lo only', 'isolated']],
    );
  });
});
