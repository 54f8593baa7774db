/**
 * The wiring view: absolutely positioned cards (HTML, for crisp text and
 * easy clicking) over one SVG of wires. Only cards near the viewport are in
 * the DOM (the layout is computed, not measured), so 500 namespaces scroll
 * as smoothly as 5.
 */

import type { CheckMarks } from './check.js';
import { cardBadge, type DriftMarks, OP_CLASS, rowBadge, worst } from './drift-marks.js';
import type { Graph, Row } from './graph.js';
import { esc } from './html.js';
import { HEAD_H, type Layout, type PlacedCard, ROW_H } from './layout.js';

export interface WiringCallbacks {
  select(key: string | undefined): void;
  toggleExpand(key: string): void;
  toggleCard(ino: number): void;
  toggleSection(id: string): void;
}

export interface Marks {
  /** Interface keys highlighted end to end. */
  selected: ReadonlySet<string>;
  /** Namespaces added/changed by the last live update. */
  changedNs: ReadonlyMap<number, 'added' | 'changed'>;
  changedIfaces: ReadonlySet<string>;
  /** Namespace focussed through the navigator or a deep link. */
  focus?: number;
  /** Lab drift (serve --verify): missing, undeclared and changed objects. */
  drift?: DriftMarks;
  /** The last neighbourhood check: its start and each neighbour's verdict so far. */
  check?: CheckMarks;
}

const CHECK_TEXT: Record<string, string> = {
  verified: 'reached',
  unreachable: 'unreachable',
  invalid: 'invalid',
  verifying: 'checking',
  unverified: 'unchecked',
};

/** The neighbourhood check's word on a card: the start, or a neighbour's verdict (in words, not only colour). */
function checkBadge(ino: number, m: Marks): string {
  const c = m.check;
  if (!c) return '';
  if (c.start === ino)
    return '<span class="cbadge check-start" title="neighbourhood check from here">check start</span>';
  const n = c.neighbours.get(ino);
  if (!n) return '';
  const lines = [...n.verdicts.values()]
    .filter((v) => v.quality !== 'unverified' && v.quality !== 'verifying')
    .map(
      (v) =>
        `${v.fqdn} ${v.address || '-'}: ${v.quality}${v.quality === 'verified' ? ` via ${v.via ?? '?'}` : v.error ? ` (${v.error})` : ''}`,
    );
  return `<span class="cbadge check-${n.quality}" title="${esc(lines.join('\n') || 'being checked')}">${CHECK_TEXT[n.quality] ?? ''}</span>`;
}

const OVERSCAN = 600;

function rowHtml(r: Row, m: Marks): string {
  const cls = ['row'];
  if (r.indent) cls.push('indent');
  if (r.kind === 'fold') cls.push('fold');
  else if (r.kind === 'note') cls.push('note');
  else if (!r.up) cls.push('down');
  if (m.selected.has(r.key)) cls.push('sel');
  if (m.changedIfaces.has(r.key)) cls.push('chg');
  if (r.kind === 'ghost') cls.push('ghost');
  const drift = m.drift?.ifaces.get(r.key);
  const op = drift && worst(drift);
  if (op) cls.push(`drift-${OP_CLASS[op]}`);
  let title = r.iface
    ? `${r.iface.name} (${r.iface.kind}, ifindex ${r.iface.index}, ${r.iface.operstate}, mtu ${r.iface.mtu})`
    : r.kind === 'ghost'
      ? `${r.name}: ${r.addr} (lab drift)`
      : r.name;
  if (drift) title += `\n${drift.map((n) => n.text).join('\n')}`;
  return (
    `<div class="${cls.join(' ')}" data-key="${esc(r.key)}" title="${esc(title)}">` +
    `<span class="port${r.uplink ? ' uplink' : ''}${r.kind === 'note' ? ' none' : ''}"></span>` +
    `<span class="name">${esc(r.name)}</span>` +
    (r.kind !== 'fold' && r.kind !== 'note'
      ? `<span class="chip k-${esc(r.kind)}">${esc(r.kind === 'ghost' ? 'missing' : r.kind)}</span>`
      : '') +
    `<span class="addr">${esc(r.mac ? `${r.addr} ${r.mac}`.trim() : r.addr)}</span>${rowBadge(drift)}</div>`
  );
}

/**
 * Positions an element of the canvas. Through the CSSOM, not a style
 * attribute in the markup: the service's Content-Security-Policy
 * (style-src 'self') refuses inline styles, the CSSOM is not inline.
 */
function place(el: HTMLElement, x: number, y: number, w: number, h?: number): void {
  el.style.left = `${x}px`;
  el.style.top = `${y}px`;
  el.style.width = `${w}px`;
  if (h !== undefined) el.style.height = `${h}px`;
}

export function cardHtml(c: PlacedCard, m: Marks): string {
  const cls = ['card', `kind-${c.info.kind}`];
  if (c.hub) cls.push('hub');
  if (c.rows.some((r) => m.selected.has(r.key))) cls.push('sel');
  if (m.focus === c.ino) cls.push('focus');
  const chg = m.changedNs.get(c.ino);
  if (chg) cls.push(`chg-${chg}`);
  const drift = m.drift?.cards.get(c.ino);
  const op = drift && worst(drift);
  if (op) cls.push('drift', `drift-${OP_CLASS[op]}`);
  return (
    `<div class="${cls.join(' ')}" data-ino="${c.ino}">` +
    '<div class="head"><span class="dot"></span>' +
    `<a class="title" href="#/netns/${c.ino}" title="${esc(c.info.title)} — details">${esc(c.info.title)}</a>` +
    '<span class="badges">' +
    (chg ? `<span class="badge">${chg === 'added' ? 'new' : 'changed'}</span>` : '') +
    cardBadge(drift) +
    checkBadge(c.ino, m) +
    '</span>' +
    `<button class="collapse" data-ino="${c.ino}" title="${c.collapsed ? 'expand' : 'collapse'}">${c.collapsed ? '▸' : '▾'}</button>` +
    `<div class="sub" title="${esc(c.info.subtitle)}">${esc(c.info.subtitle)}</div></div>` +
    c.rows.map((r) => rowHtml(r, m)).join('') +
    '</div>'
  );
}

export function wiresSvg(l: Layout, m: Marks): string {
  const base: string[] = [];
  const top: string[] = [];
  for (const p of l.paths) {
    const sel = p.keys.every((k) => m.selected.has(k));
    const hit = `<path class="hit" d="${p.d}" data-keys="${esc(p.keys.join(' '))}"/>`;
    const vis = `<path class="w w-${p.kind}${sel ? ' sel' : ''}" d="${p.d}"/>`;
    (sel ? top : base).push(vis, hit);
  }
  // A declared veth that is missing: a dashed wire between the placeholders of its two ends.
  for (const [ka, kb] of m.drift?.ghostWires ?? []) {
    const a = l.anchors.get(ka);
    const b = l.anchors.get(kb);
    if (a && b) top.push(`<path class="w w-ghost" d="${ghostPath(a, b)}"/>`);
  }
  const dots: string[] = [];
  for (const s of l.sections) {
    if (s.seg.hub < 0) continue;
    dots.push(`<circle class="bus-dot" cx="${s.laneX}" cy="${s.busY}" r="3"/>`);
  }
  return `<svg class="wires" width="${l.width}" height="${l.height}" xmlns="http://www.w3.org/2000/svg">${base.join('')}${top.join('')}${dots.join('')}</svg>`;
}

type Anchor = { xl: number; xr: number; y: number };

/** Side to side when the cards are apart, else a bulge on the right of the column. */
function ghostPath(a: Anchor, b: Anchor): string {
  if (a.xl > b.xl) [a, b] = [b, a];
  if (a.xr <= b.xl) {
    const mx = (a.xr + b.xl) / 2;
    return `M${a.xr} ${a.y}C${mx} ${a.y} ${mx} ${b.y} ${b.xl} ${b.y}`;
  }
  const bx = Math.max(a.xr, b.xr) + 18;
  return `M${a.xr} ${a.y}C${bx} ${a.y} ${bx} ${b.y} ${b.xr} ${b.y}`;
}

export class WiringView {
  readonly el: HTMLElement;
  private scroller: HTMLElement;
  private canvas: HTMLElement;
  private wires: HTMLElement;
  private cardsLayer: HTMLElement;
  private sectionsLayer: HTMLElement;
  private rendered = new Map<number, HTMLElement>();
  private layout: Layout | undefined;
  private marks: Marks = { selected: new Set(), changedNs: new Map(), changedIfaces: new Set() };
  private raf = 0;

  constructor(private readonly cb: WiringCallbacks) {
    this.el = document.createElement('div');
    this.el.className = 'wiring';
    this.el.innerHTML =
      '<div class="scroller"><div class="canvas"><div class="wires-layer"></div><div class="sections-layer"></div><div class="cards-layer"></div></div></div>' +
      '<div class="legend" title="wire styles"><svg width="28" height="8"><path class="w w-trunk" d="M0 4H28"/></svg>bridge bus' +
      '<svg width="28" height="8"><path class="w w-veth" d="M0 4H28"/></svg>veth' +
      '<svg width="28" height="8"><path class="w w-macvlan" d="M0 4H28"/></svg>macvlan/ipvlan' +
      '<svg width="28" height="8"><path class="w w-vlan" d="M0 4H28"/></svg>vlan' +
      '<svg width="28" height="8"><path class="w w-vxlan" d="M0 4H28"/></svg>vxlan/tunnel underlay' +
      '<span class="legend-drift"><svg width="28" height="8"><path class="w w-ghost" d="M0 4H28"/></svg>missing (lab drift)</span></div>';
    this.scroller = this.el.querySelector('.scroller')!;
    this.canvas = this.el.querySelector('.canvas')!;
    this.wires = this.el.querySelector('.wires-layer')!;
    this.sectionsLayer = this.el.querySelector('.sections-layer')!;
    this.cardsLayer = this.el.querySelector('.cards-layer')!;
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.canvas.addEventListener('click', (ev) => this.onClick(ev));
  }

  get width(): number {
    return this.scroller.clientWidth || window.innerWidth - 300;
  }

  get scrollState(): { top: number; left: number } {
    return { top: this.scroller.scrollTop, left: this.scroller.scrollLeft };
  }

  restoreScroll(s: { top: number; left: number }): void {
    this.scroller.scrollTop = s.top;
    this.scroller.scrollLeft = s.left;
  }

  render(g: Graph, l: Layout, m: Marks): void {
    this.layout = l;
    this.marks = m;
    this.el.classList.toggle('has-ghosts', (m.drift?.ghosts.size ?? 0) > 0);
    this.canvas.style.width = `${l.width}px`;
    this.canvas.style.height = `${l.height}px`;
    this.wires.innerHTML = wiresSvg(l, m);
    this.sectionsLayer.innerHTML = l.sections
      .map((s) => {
        const net = s.seg.hub >= 0 ? '' : ' isolated';
        return (
          `<div class="section-head${net}${s.collapsed ? ' collapsed' : ''}" data-seg="${esc(s.seg.id)}">` +
          `<button class="collapse" data-seg="${esc(s.seg.id)}">${s.collapsed ? '▸' : '▾'}</button>` +
          `<span class="label">${esc(s.seg.label)}</span><span class="seg-count">${s.shown} namespace${s.shown === 1 ? '' : 's'}</span>` +
          `<span class="sub">${esc(s.seg.sub)}</span></div>`
        );
      })
      .join('');
    l.sections.forEach((s, i) => {
      const el = this.sectionsLayer.children[i] as HTMLElement | undefined;
      if (el) place(el, s.x, s.y, s.w);
    });
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
    this.update();
    void g;
  }

  /** Updates highlight marks without a new layout. */
  mark(m: Marks): void {
    if (!this.layout) return;
    this.marks = m;
    this.el.classList.toggle('has-ghosts', (m.drift?.ghosts.size ?? 0) > 0);
    this.wires.innerHTML = wiresSvg(this.layout, m);
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
    this.update();
  }

  scrollTo(ino: number, key?: string): void {
    const c = this.layout?.byIno.get(ino);
    if (!c) return;
    const a = key ? this.layout?.anchors.get(key) : undefined;
    const y = a ? a.y - this.scroller.clientHeight / 2 : c.y - 40;
    this.scroller.scrollTo({ top: Math.max(0, y), left: Math.max(0, c.x - 60) });
    this.update();
  }

  private schedule(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.update();
    });
  }

  /** Puts cards near the viewport into the DOM and takes far ones out. */
  private update(): void {
    const l = this.layout;
    if (!l) return;
    const top = this.scroller.scrollTop - OVERSCAN;
    const bottom = this.scroller.scrollTop + (this.scroller.clientHeight || 1000) + OVERSCAN;
    const left = this.scroller.scrollLeft - OVERSCAN;
    const right = this.scroller.scrollLeft + (this.scroller.clientWidth || 1400) + OVERSCAN;
    const want = new Set<number>();
    let html = '';
    for (const c of l.cards) {
      if (c.y > bottom || c.y + c.h < top || c.x > right || c.x + c.w < left) continue;
      want.add(c.ino);
      if (!this.rendered.has(c.ino)) html += cardHtml(c, this.marks);
    }
    for (const [ino, el] of this.rendered) {
      if (!want.has(ino)) {
        el.remove();
        this.rendered.delete(ino);
      }
    }
    if (html) {
      const t = document.createElement('template');
      t.innerHTML = html;
      for (const el of Array.from(t.content.children) as HTMLElement[]) {
        const ino = Number(el.dataset.ino);
        this.rendered.set(ino, el);
        const c = l.byIno.get(ino);
        if (c) {
          place(el, c.x, c.y, c.w, c.h);
          (el.firstElementChild as HTMLElement | null)?.style.setProperty('height', `${HEAD_H}px`);
        }
      }
      this.cardsLayer.append(t.content);
    }
  }

  private onClick(ev: Event): void {
    const t = ev.target as Element;
    const btn = t.closest('button.collapse') as HTMLElement | null;
    if (btn) {
      ev.preventDefault();
      if (btn.dataset.seg !== undefined) this.cb.toggleSection(btn.dataset.seg);
      else this.cb.toggleCard(Number(btn.dataset.ino));
      return;
    }
    const row = t.closest('.row') as HTMLElement | null;
    if (row?.dataset.key) {
      const key = row.dataset.key;
      if (key.startsWith('note:') || key.startsWith('ghost:')) return;
      if (key.startsWith('more:')) this.cb.toggleExpand(key.slice(5));
      else this.cb.select(this.marks.selected.has(key) && row.classList.contains('sel') ? undefined : key);
      return;
    }
    if (t instanceof SVGPathElement && t.classList.contains('hit')) {
      const keys = (t.dataset.keys ?? '').split(' ').filter(Boolean);
      this.cb.select(keys[0]);
      return;
    }
    const sec = t.closest('.section-head') as HTMLElement | null;
    if (sec?.dataset.seg !== undefined) {
      this.cb.toggleSection(sec.dataset.seg);
      return;
    }
    if (!t.closest('a')) this.cb.select(undefined);
  }
}

export { ROW_H };
