/**
 * The hub's screen (a `wirescope hub` serves this UI): nodes as the outer
 * groups, each node's network namespaces as cards, the overlay wires drawn
 * between node groups (an SVG over the groups, from row to row; a wire that
 * leaves the cluster ends at the "outside the cluster" box), stale nodes
 * marked with when they were last seen. Kept current by the hub's change
 * events (each one refetches the merged document). The picture comes from
 * hub-model.ts; the single-host views are not used.
 */
import type { HubChangeEvent, HubDocument } from '../../src/hub/contract.js';
import { fetchHubDocument, subscribe } from './api.js';
import { h } from './dom.js';
import { type HubPicture, type HubWire, hubPicture } from './hub-model.js';
import './hub.css';

const SVG = 'http://www.w3.org/2000/svg';
/** The "last seen … ago" texts are redrawn this often. */
const CLOCK_MS = 10_000;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function renderPicture(p: HubPicture, generation: number): HTMLElement {
  const groups = p.groups.map((g) =>
    h(
      'section',
      { class: `hub-node hub-${g.node.state}`, 'data-node': g.node.name },
      h(
        'header',
        null,
        h('h2', null, g.node.name),
        h('span', { class: 'hub-state' }, g.status),
        h(
          'span',
          { class: 'hub-counts' },
          `${g.node.counts.networks} netns · ${g.node.counts.interfaces} interfaces · ${g.node.counts.containers} containers · ${g.node.url}`,
        ),
      ),
      h(
        'div',
        { class: 'hub-cards' },
        g.cards.map((c) =>
          h(
            'div',
            { class: 'hub-card', 'data-key': c.key },
            h(
              'div',
              { class: 'hub-card-head' },
              h('b', null, c.title),
              ' ',
              h('span', { class: 'muted' }, c.subtitle),
            ),
            c.rows.map((r) =>
              h(
                'div',
                { class: `hub-row${r.overlay ? ' hub-tunnel' : ''}`, 'data-key': r.key },
                h('span', { class: 'hub-if' }, r.name),
                h('span', { class: 'muted' }, r.kind),
                r.overlay ? h('span', { class: 'hub-overlay' }, r.overlay) : null,
                r.addresses.length > 0 ? h('span', { class: 'hub-addr' }, r.addresses.join(' ')) : null,
              ),
            ),
          ),
        ),
      ),
    ),
  );
  const leaving = p.wires.some((w) => w.to === undefined);
  return h(
    'div',
    { class: 'hub', 'data-generation': generation },
    h('div', { class: 'hub-groups' }, groups),
    leaving ? h('div', { class: 'hub-outside' }, 'outside the cluster') : null,
    h(
      'ul',
      { class: 'hub-wires' },
      p.wires.map((w) => h('li', { class: `hub-wire-${w.status}` }, w.label)),
    ),
    p.problems.length > 0
      ? h(
          'ul',
          { class: 'hub-problems' },
          p.problems.map((x) => h('li', null, x)),
        )
      : null,
  );
}

/** Draws the wires over the rendered groups (positions are known only once laid out). */
function drawWires(root: HTMLElement, wires: readonly HubWire[]): void {
  root.querySelector(':scope > svg')?.remove();
  const box = root.getBoundingClientRect();
  const canvas = svg('svg', { class: 'hub-canvas', width: box.width, height: root.scrollHeight });
  const anchor = (key: string) => {
    const el = root.querySelector<HTMLElement>(`.hub-row[data-key="${CSS.escape(key)}"]`);
    if (!el) return undefined;
    const r = el.getBoundingClientRect();
    return { x: r.left - box.left, y: r.top - box.top + r.height / 2, w: r.width };
  };
  const outside = root.querySelector<HTMLElement>('.hub-outside')?.getBoundingClientRect();
  for (const w of wires) {
    const a = anchor(w.from);
    const b = w.to ? anchor(w.to) : undefined;
    if (!a) continue;
    let x2: number;
    let y2: number;
    if (b) {
      x2 = b.x;
      y2 = b.y;
    } else if (outside) {
      x2 = outside.left - box.left + outside.width / 2;
      y2 = outside.top - box.top;
    } else continue;
    const x1 = a.x + a.w;
    const path = svg('path', {
      d: `M${x1},${a.y} C${x1 + 80},${a.y} ${x2 - 80},${y2} ${x2},${y2}`,
      class: `hub-wire hub-wire-${w.status}`,
    });
    const title = svg('title', {});
    title.textContent = w.label;
    path.append(title);
    canvas.append(path);
  }
  root.prepend(canvas);
}

/** Runs the hub's UI in `main` (the navigator column says what this is). */
export async function startHubView(nav: HTMLElement, main: HTMLElement): Promise<void> {
  let doc: HubDocument = await fetchHubDocument();
  let root: HTMLElement | undefined;
  const render = () => {
    const picture = hubPicture(doc, Date.now());
    root = renderPicture(picture, doc.generation);
    main.replaceChildren(root);
    drawWires(root, picture.wires);
    nav.replaceChildren(
      h('h1', null, 'wirescope hub'),
      h('p', { class: 'muted' }, doc.source),
      h(
        'ul',
        { class: 'hub-nav' },
        picture.groups.map((g) =>
          h('li', { class: `hub-${g.node.state}` }, `${g.node.name}: ${g.node.state}`),
        ),
      ),
    );
    document.body.dataset.hubGeneration = String(doc.generation);
    document.body.dataset.ready = String(doc.generation);
  };
  render();
  let loading = false;
  let again = false;
  const reload = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      do {
        again = false;
        doc = await fetchHubDocument();
        render();
      } while (again);
    } catch {
      // the next event or the clock tries again
    } finally {
      loading = false;
    }
  };
  subscribe<HubChangeEvent>(
    () => void reload(),
    () => {},
    (generation) => {
      if (generation !== doc.generation) void reload();
    },
  );
  setInterval(render, CLOCK_MS);
  window.addEventListener('resize', () => root && drawWires(root, hubPicture(doc, Date.now()).wires));
}
