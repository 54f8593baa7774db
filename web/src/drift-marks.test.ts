import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LabReport, ServiceDrift, VerifyReport } from '../../src/service/contract.js';
import { GUEST, HOST, POD, sampleDiscovery } from '../../src/views/fixtures.js';
import {
  cardBadge,
  driftCounts,
  driftMarks,
  ghostKey,
  hrefOf,
  labelLabCards,
  rowBadge,
  worst,
} from './drift-marks.js';
import { buildGraph } from './graph.js';

const lab = (drift: ServiceDrift[], over: Partial<LabReport> = {}): LabReport => ({
  lab: 'demo',
  file: 'demo.yaml',
  clean: drift.length === 0,
  drift,
  nodes: { a: GUEST, b: POD },
  ...over,
});
const report = (...labs: LabReport[]): VerifyReport => ({
  startedAt: '',
  clean: labs.every((l) => l.clean),
  labs,
});

const mtu: ServiceDrift = {
  object: 'node a',
  op: '~',
  path: 'a:eth0.mtu',
  declared: '1500',
  found: '1400',
  message: 'declared 1500, found 1400',
  netns: GUEST,
  index: 2,
};
const extra: ServiceDrift = {
  object: 'node a',
  op: '+',
  message: 'present, undeclared',
  netns: GUEST,
  index: 3,
};
const route: ServiceDrift = {
  object: 'node b',
  op: '-',
  message: 'route 10.9.0.0/16: declared, missing',
  node: 'b',
};
const missingVeth: ServiceDrift = {
  object: 'link a:eth1 <-> b:eth1',
  op: '-',
  message: 'declared, missing',
  ghosts: [
    { netns: GUEST, name: 'eth1', kind: 'veth', node: 'a' },
    { netns: POD, name: 'eth1', kind: 'veth', node: 'b' },
  ],
};

describe('lab drift on the wiring view', () => {
  it('marks nothing without a report or for a clean lab', () => {
    for (const r of [undefined, report(lab([]))]) {
      const m = driftMarks(r);
      assert.equal(m.ifaces.size + m.cards.size + m.ghosts.size + m.ghostWires.length, 0);
    }
  });

  it('marks a changed interface on its row and its card, saying what was declared and found', () => {
    const m = driftMarks(report(lab([mtu])));
    const note = { op: '~', text: '~ a:eth0.mtu: declared 1500, found 1400' };
    assert.deepEqual(m.ifaces.get(`${GUEST}/2`), [note]);
    assert.deepEqual(m.cards.get(GUEST), [note]);
  });

  it('puts what belongs to a whole node (a route) on the node’s card, found by name or @name', () => {
    assert.deepEqual(driftMarks(report(lab([route]))).cards.get(POD), [
      { op: '-', text: '− route 10.9.0.0/16: declared, missing' },
    ]);
    const byAt = driftMarks(report(lab([route], { nodes: { '@b': HOST } })));
    assert.equal(byAt.cards.get(HOST)?.length, 1);
    assert.equal(
      driftMarks(report(lab([route], { nodes: {} }))).cards.size,
      0,
      'a node that is not running has no card',
    );
  });

  it('draws a missing veth as ghost rows on both cards joined by a ghost wire', () => {
    const m = driftMarks(report(lab([missingVeth])));
    assert.deepEqual(
      m.ghosts.get(GUEST)?.map((r) => [r.key, r.name, r.kind, r.addr]),
      [[ghostKey(GUEST, 'eth1'), 'eth1', 'ghost', 'declared veth']],
    );
    assert.equal(m.ghosts.get(POD)?.length, 1);
    assert.deepEqual(m.ghostWires, [[ghostKey(GUEST, 'eth1'), ghostKey(POD, 'eth1')]]);
    assert.equal(m.ifaces.size, 0);
  });

  it('badges the worst difference: missing over changed over undeclared', () => {
    const notes =
      driftMarks(report(lab([extra, mtu, route], { nodes: { b: GUEST } }))).cards.get(GUEST) ?? [];
    assert.equal(worst(notes), '-');
    assert.equal(worst(notes.filter((n) => n.op !== '-')), '~');
    assert.equal(worst([]), undefined);
    assert.match(cardBadge(notes), /class="dbadge card-drift d-missing"[^>]*>drift 3</);
    assert.equal(cardBadge(undefined), '');
  });

  it('escapes what a lab file says in a badge’s tooltip', () => {
    const badge = rowBadge([{ op: '+', text: '+ <img src=x onerror=alert(1)> & "q"' }]);
    assert.ok(!badge.includes('<img'), badge);
    assert.match(badge, /title="\+ &lt;img src=x onerror=alert\(1\)&gt; &amp; &quot;q&quot;"/);
  });

  it('links each difference to its interface, its ghost’s card, or its node’s card', () => {
    const l = lab([]);
    assert.equal(hrefOf(l, mtu), `#/wiring/${GUEST}/2`);
    assert.equal(hrefOf(l, missingVeth), `#/wiring/${GUEST}`);
    assert.equal(hrefOf(l, route), `#/wiring/${POD}`);
    assert.equal(hrefOf(l, { object: 'lab', op: '-', message: 'x', node: 'gone' }), undefined);
  });

  it('counts a lab’s differences by kind', () => {
    assert.equal(driftCounts(lab([])), 'clean');
    assert.equal(driftCounts(lab([mtu, extra, route, missingVeth])), 'drift −2 ~1 +1');
    assert.equal(driftCounts(lab([], { clean: false, error: 'no such file' })), 'cannot verify');
  });
});

describe('lab nodes’ cards', () => {
  it('name the lab and the node where the card does not, and let the search find them by both', () => {
    const g = buildGraph(sampleDiscovery());
    labelLabCards(g, report(lab([], { lab: 'Demo', nodes: { a: GUEST, host: HOST } })));
    const guest = g.cards.get(GUEST);
    assert.equal(guest?.subtitle, 'lab Demo · node a · process 1000 · hostname guest1');
    assert.ok(guest?.haystack.includes('\u0001demo\u0001a'));
    assert.equal(g.cards.get(HOST)?.subtitle, 'initial network namespace', 'the host is no lab node');
  });
});
