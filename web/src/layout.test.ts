import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLUE, GUEST, HOST, POD, sampleDiscovery, syntheticDiscovery } from '../../src/views/fixtures.js';
import { buildGraph, type Graph, type Row } from './graph.js';
import {
  GUTTER,
  HEAD_H,
  HUB_W,
  type Layout,
  LEAF_W,
  layout,
  MARGIN,
  PAD_B,
  type PlacedCard,
  ROW_H,
  selectionClosure,
  type ViewState,
} from './layout.js';

const view = (over: Partial<ViewState> = {}): ViewState => ({
  settings: { loopback: false, ipv6: true, macs: false },
  query: '',
  expanded: new Set(),
  collapsedCards: new Set(),
  collapsedSections: new Set(),
  width: 1200,
  ...over,
});

const overlap = (a: PlacedCard, b: PlacedCard) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function assertNoOverlap(l: Layout): void {
  for (const [i, a] of l.cards.entries())
    for (const b of l.cards.slice(i + 1)) assert.ok(!overlap(a, b), `cards ${a.ino} and ${b.ino} overlap`);
}

const inos = (l: Layout) => l.cards.map((c) => c.ino).sort();

describe('the wiring layout', () => {
  it('puts hubs in the left column and leaves in sections to their right, none overlapping', () => {
    const l = layout(buildGraph(sampleDiscovery()), view());
    const hub = l.byIno.get(HOST);
    assert.deepEqual([hub?.x, hub?.y, hub?.w, hub?.hub], [MARGIN, MARGIN, HUB_W, true]);
    for (const c of l.cards.filter((x) => !x.hub)) {
      assert.ok(c.x >= MARGIN + HUB_W + GUTTER, `leaf ${c.ino} right of the lanes`);
      assert.equal(c.w, LEAF_W);
    }
    assertNoOverlap(l);
    assert.ok(
      l.cards.every((c) => c.x + c.w <= l.width && c.y + c.h <= l.height),
      'the diagram contains its cards',
    );
  });

  it('sizes a card by its rows', () => {
    const l = layout(buildGraph(sampleDiscovery()), view());
    for (const c of l.cards) assert.equal(c.h, HEAD_H + c.rows.length * ROW_H + PAD_B);
  });

  it('places as many cards side by side as the width holds', () => {
    const g = buildGraph(syntheticDiscovery(12));
    const columns = (width: number) =>
      new Set(
        layout(g, view({ width }))
          .cards.filter((c) => !c.hub)
          .map((c) => c.x),
      ).size;
    assert.equal(columns(800), 1);
    assert.ok(columns(2400) > 3, `${columns(2400)} columns at 2400 px`);
    assertNoOverlap(layout(g, view({ width: 2400 })));
  });

  it('shows only the leaves the search matches, and drops sections left empty; hubs stay', () => {
    const g = buildGraph(sampleDiscovery());
    const l = layout(g, view({ query: 'blue' }));
    assert.deepEqual(inos(l), [HOST, BLUE].sort());
    assert.deepEqual(
      l.sections.map((s) => [s.seg.anchor, s.shown]),
      [[`${HOST}/2`, 1]],
    );
  });

  it('draws a collapsed card as its head and a collapsed section without its cards', () => {
    const g = buildGraph(sampleDiscovery());
    const card = layout(g, view({ collapsedCards: new Set([GUEST]) })).byIno.get(GUEST);
    assert.deepEqual([card?.collapsed, card?.rows.length, card?.h], [true, 0, HEAD_H + PAD_B]);
    const l = layout(g, view({ collapsedSections: new Set([`${HOST}/3`]) }));
    assert.equal(l.byIno.get(GUEST), undefined);
    assert.ok(l.sections.find((s) => s.seg.anchor === `${HOST}/3`)?.collapsed);
  });

  it('draws a trunk per segment, a stub per attached leaf, and other wires between their rows', () => {
    const l = layout(buildGraph(sampleDiscovery()), view());
    assert.deepEqual(
      l.paths.map((p) => [p.id, p.kind]),
      [
        [`trunk:${HOST}/2`, 'trunk'],
        [`trunk:${HOST}/3`, 'trunk'],
        [`stub:${BLUE}`, 'vxlan'],
        [`stub:${GUEST}`, 'veth'],
        [`macvlan:${GUEST}/3>${GUEST}/2`, 'macvlan'],
        [`uplink:${HOST}/2`, 'uplink'],
      ],
    );
    // A stub starts at the leaf's attached row, on the card's left edge.
    const guest = l.byIno.get(GUEST);
    const row = l.anchors.get(`${GUEST}/2`);
    assert.ok(guest && row);
    assert.ok(l.paths.find((p) => p.id === `stub:${GUEST}`)?.d.startsWith(`M${guest.x} ${row.y}H`));
    assert.equal(l.byIno.get(POD)?.rows[0]?.kind, 'note', 'an isolated card is placed, with no wire');
  });

  it('appends extra rows (declared interfaces a lab node lacks) to their card', () => {
    const ghost: Row = {
      key: `ghost:${GUEST}:eth9`,
      indent: false,
      name: 'eth9',
      kind: 'ghost',
      addr: 'declared veth',
      mac: '',
      up: false,
      uplink: false,
    };
    const g = buildGraph(sampleDiscovery());
    const card = layout(g, view({ extraRows: (ino) => (ino === GUEST ? [ghost] : []) })).byIno.get(GUEST);
    assert.deepEqual(card?.rows.at(-1), ghost);
  });
});

describe('the selection, end to end', () => {
  const g: Graph = buildGraph(sampleDiscovery());

  it('reaches from a leaf’s interface to its peer and the bridge the peer is a port of', () => {
    assert.deepEqual(
      [...selectionClosure(g, `${GUEST}/2`)].sort(),
      [`${GUEST}/2`, `${GUEST}/3`, `${HOST}/3`, `${HOST}/4`].sort(),
    );
  });

  it('reaches from a bridge to every leaf attached to it', () => {
    assert.deepEqual(
      [...selectionClosure(g, `${HOST}/3`)].sort(),
      [`${HOST}/3`, `${HOST}/4`, `${GUEST}/2`].sort(),
    );
  });
});
