/**
 * Positions for the wiring view, computed (not measured) so the view can
 * render only what is on screen and export the whole diagram as SVG.
 *
 *   hubs column │ lanes │ section per segment: bus line, then a grid of cards
 *
 * Each segment gets one lane from its anchor row in the hub to its bus; each
 * card gets a short stub from its attached row to the rail in the gutter to
 * its left, which runs up to the bus. Lanes are per segment, never per wire.
 */

import { interfaceKey } from '../../src/model/ids.js';
import {
  type CardInfo,
  cardRows,
  type Graph,
  matches,
  type Row,
  type Segment,
  type Settings,
} from './graph.js';

export const ROW_H = 20;
export const HEAD_H = 42;
export const PAD_B = 6;
export const LEAF_W = 260;
export const HUB_W = 300;
export const GUTTER = 36;
export const SEC_HEAD = 40;
export const MARGIN = 16;

export interface PlacedCard {
  ino: number;
  info: CardInfo;
  x: number;
  y: number;
  w: number;
  h: number;
  rows: Row[];
  hub: boolean;
  collapsed: boolean;
  segment?: Segment;
}

export interface PlacedSection {
  seg: Segment;
  x: number;
  y: number;
  w: number;
  h: number;
  busY: number;
  laneX: number;
  collapsed: boolean;
  shown: number;
}

export interface WirePath {
  id: string;
  d: string;
  kind: string;
  /** Interface keys of the path's ends: it is highlighted when all of them are part of the selection. */
  keys: string[];
}

export interface Layout {
  width: number;
  height: number;
  cards: PlacedCard[];
  byIno: Map<number, PlacedCard>;
  sections: PlacedSection[];
  paths: WirePath[];
  /** Row centre positions by interface key. */
  anchors: Map<string, { xl: number; xr: number; y: number; ino: number }>;
}

export interface ViewState {
  settings: Settings;
  query: string;
  expanded: ReadonlySet<string>;
  collapsedCards: ReadonlySet<number>;
  collapsedSections: ReadonlySet<string>;
  width: number;
  /** Rows appended to a card beyond its interfaces (lab drift: declared interfaces that are missing). */
  extraRows?: (ino: number) => readonly Row[];
}

export function layout(g: Graph, v: ViewState): Layout {
  const cards: PlacedCard[] = [];
  const byIno = new Map<number, PlacedCard>();
  const anchors: Layout['anchors'] = new Map();
  const place = (
    ino: number,
    x: number,
    y: number,
    w: number,
    hub: boolean,
    segment?: Segment,
  ): PlacedCard => {
    const net = g.nets.get(ino)!;
    const collapsed = v.collapsedCards.has(ino);
    const rows = collapsed ? [] : [...cardRows(net, v.settings, v.expanded), ...(v.extraRows?.(ino) ?? [])];
    const h = HEAD_H + rows.length * ROW_H + PAD_B;
    const c: PlacedCard = { ino, info: g.cards.get(ino)!, x, y, w, h, rows, hub, collapsed, segment };
    cards.push(c);
    byIno.set(ino, c);
    rows.forEach((r, i) => {
      anchors.set(r.key, { xl: x, xr: x + w, y: y + HEAD_H + i * ROW_H + ROW_H / 2, ino });
    });
    return c;
  };

  // Hubs, stacked in the left column.
  let y = MARGIN;
  for (const ino of g.hubs) {
    const c = place(ino, MARGIN, y, HUB_W, true);
    y = c.y + c.h + 24;
  }
  const hubBottom = y;
  const segs = g.segments.filter((s) => s.members.some((m) => matches(g.cards.get(m)!, v.query)));
  const laneGap = Math.max(4, Math.min(10, 160 / Math.max(1, segs.length)));
  const laneX0 = MARGIN + HUB_W + 14;
  const x0 = laneX0 + segs.length * laneGap + 10;
  const cols = Math.max(1, Math.floor((v.width - x0 - MARGIN) / (LEAF_W + GUTTER)));
  const secW = cols * (LEAF_W + GUTTER);

  // Sections, stacked right of the lanes: a head with the bus, then the cards in rows of `cols`.
  const sections: PlacedSection[] = [];
  y = MARGIN;
  segs.forEach((seg, si) => {
    const members = seg.members.filter((m) => matches(g.cards.get(m)!, v.query));
    const collapsed = v.collapsedSections.has(seg.id);
    const sec: PlacedSection = {
      seg,
      x: x0,
      y,
      w: secW,
      h: SEC_HEAD,
      busY: y + SEC_HEAD - 8,
      laneX: laneX0 + si * laneGap,
      collapsed,
      shown: members.length,
    };
    let rowY = y + SEC_HEAD;
    if (!collapsed) {
      for (let i = 0; i < members.length; i += cols) {
        let rowH = 0;
        for (let c = 0; c < cols && i + c < members.length; c++) {
          const card = place(members[i + c]!, x0 + GUTTER + c * (LEAF_W + GUTTER), rowY, LEAF_W, false, seg);
          rowH = Math.max(rowH, card.h);
        }
        rowY += rowH + 14;
      }
    }
    sec.h = rowY - y;
    sections.push(sec);
    y = rowY + 18;
  });
  const height = Math.max(y, hubBottom) + MARGIN;
  const width = Math.max(x0 + secW + MARGIN, MARGIN * 2 + HUB_W);
  const paths = wirePaths(g, { cards, byIno, sections, anchors }, cols);
  return { width, height, cards, byIno, sections, paths, anchors };
}

type Anchor = { xl: number; xr: number; y: number; ino: number };

/** The paths of the wires between placed cards: trunks, stubs, the other wires as curves, uplinks. */
function wirePaths(
  g: Graph,
  placed: Pick<Layout, 'cards' | 'byIno' | 'sections' | 'anchors'>,
  cols: number,
): WirePath[] {
  const { cards, byIno, sections, anchors } = placed;
  // Where an interface is drawn: its row; a folded port → the fold row; else the card header.
  const headerOf = (ino: number): Anchor | undefined => {
    const c = byIno.get(ino);
    return c ? { xl: c.x, xr: c.x + c.w, y: c.y + HEAD_H / 2, ino } : undefined;
  };
  const anchorOf = (key: string): Anchor | undefined => {
    const a = anchors.get(key);
    if (a) return a;
    const i = g.ifaces.get(key);
    const ino = Number(key.split('/')[0]);
    if (i?.master) {
      const m = anchors.get(`more:${interfaceKey(i.master)}`) ?? anchors.get(interfaceKey(i.master));
      if (m) return m;
    }
    if (i?.kind === 'veth') {
      const m = anchors.get(`more:${ino}/routed`);
      if (m) return m;
    }
    return headerOf(ino);
  };

  const paths: WirePath[] = [];
  const drawn = new Set<string>();
  const secById = new Map(sections.map((s) => [s.seg.id, s]));
  // Segment trunks: anchor row → lane → bus.
  for (const s of sections) {
    if (s.seg.hub < 0) continue;
    const a = s.seg.anchor.endsWith('/routed')
      ? (anchors.get(`more:${s.seg.anchor}`) ?? headerOf(s.seg.hub))
      : anchorOf(s.seg.anchor);
    if (!a) continue;
    // The bus reaches the last rail in use, not the far edge of the section.
    const usedCols = Math.min(cols, Math.max(1, s.shown));
    const right = s.collapsed ? s.x + 200 : s.x + GUTTER / 2 + (usedCols - 1) * (LEAF_W + GUTTER) + 24;
    paths.push({
      id: `trunk:${s.seg.id}`,
      kind: 'trunk',
      d: `M${a.xr} ${a.y}H${s.laneX}V${s.busY}H${right}`,
      keys: [s.seg.anchor],
    });
  }
  // Stubs: each leaf's attached row → rail in the gutter → bus.
  for (const c of cards) {
    if (c.hub || !c.segment) continue;
    const att = g.attachments.get(c.ino);
    const sec = secById.get(c.segment.id);
    if (!att || !sec) continue;
    const a = anchors.get(att.row) ?? headerOf(c.ino)!;
    const railX = c.x - GUTTER / 2;
    paths.push({
      id: `stub:${c.ino}`,
      kind: g.wireById.get(att.wire)?.kind ?? 'veth',
      d: `M${a.xl} ${a.y}H${railX}V${sec.busY}`,
      keys: [att.row, att.peer],
    });
    drawn.add(att.wire);
  }
  // Every other wire: a curve between its two ends (through the gutters).
  for (const w of g.wires) {
    if (drawn.has(w.id)) continue;
    const a = anchorOf(w.a);
    const b = anchorOf(w.b);
    if (a && b) paths.push({ id: w.id, kind: w.kind, d: curve(a, b), keys: [w.a, w.b] });
  }
  // Physical uplinks: a short stub out of the hub's left edge.
  for (const c of cards) {
    for (const r of c.rows) {
      if (!r.uplink) continue;
      const a = anchors.get(r.key)!;
      paths.push({ id: `uplink:${r.key}`, kind: 'uplink', d: `M${a.xl} ${a.y}H${a.xl - 12}`, keys: [r.key] });
    }
  }
  return paths;
}

/** A wire between two rows: a loop out of the right edge within a card, else across the gap between them. */
function curve(a: Anchor, b: Anchor): string {
  if (a.ino === b.ino) {
    const bulge = 28;
    return `M${a.xr} ${a.y}C${a.xr + bulge} ${a.y} ${b.xr + bulge} ${b.y} ${b.xr} ${b.y}`;
  }
  if (a.xr < b.xl) {
    const mid = (a.xr + b.xl) / 2;
    return `M${a.xr} ${a.y}C${mid} ${a.y} ${mid} ${b.y} ${b.xl} ${b.y}`;
  }
  if (b.xr < a.xl) {
    const mid = (b.xr + a.xl) / 2;
    return `M${b.xr} ${b.y}C${mid} ${b.y} ${mid} ${a.y} ${a.xl} ${a.y}`;
  }
  // One above the other (same column): bulge out to the left, more for a longer wire.
  const bulge = Math.min(GUTTER * 1.6, 20 + Math.abs(a.y - b.y) / 12);
  return `M${a.xl} ${a.y}C${a.xl - bulge} ${a.y} ${b.xl - bulge} ${b.y} ${b.xl} ${b.y}`;
}

/**
 * Everything "end to end" with a selected interface: its wire's other end,
 * the hub-side peer and the segment anchor of an attached leaf, and for a
 * bridge (anchor) every leaf attached to it.
 */
export function selectionClosure(g: Graph, key: string): Set<string> {
  const out = new Set<string>([key]);
  for (const w of g.wires) {
    if (w.a === key) out.add(w.b);
    else if (w.b === key) out.add(w.a);
  }
  for (const k of [...out]) {
    const i = g.ifaces.get(k);
    if (i?.master) out.add(interfaceKey(i.master));
  }
  for (const [ino, att] of g.attachments) {
    const seg = g.segmentOf.get(ino);
    if (out.has(att.row) || out.has(att.peer)) {
      out.add(att.row);
      out.add(att.peer);
      if (seg) out.add(seg.anchor);
    } else if (seg && seg.anchor === key) {
      out.add(att.row);
      out.add(att.peer);
    }
  }
  return out;
}
