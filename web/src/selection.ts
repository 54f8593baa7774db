/**
 * The navigator's "Selected" panel: the interface selected in the wiring
 * view, the ends it is wired to, and a capture of them all at once.
 */
import { selectionCapture } from '../../src/views/capture-links.js';
import { capturePanel } from './capture.js';
import { h } from './dom.js';
import type { Graph } from './graph.js';
import { selectionClosure } from './layout.js';

/** Ends listed by name; more are counted. */
const LISTED = 8;

/** Fills `box` for the selected interface `key` (hides it without one); `clear` drops the selection. */
export function renderSelection(
  box: HTMLElement,
  g: Graph | undefined,
  key: string | undefined,
  clear: () => void,
): void {
  const i = key ? g?.ifaces.get(key) : undefined;
  if (!g || !key || !i) {
    box.replaceChildren();
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const ends = [...selectionClosure(g, key)].filter((k) => k !== key && g.ifaces.has(k));
  const label = (k: string) => {
    const [ino] = k.split('/');
    return `${g.ifaces.get(k)?.name} @ ${g.cards.get(Number(ino))?.title ?? ino}`;
  };
  box.replaceChildren(
    h('h4', null, 'Selected ', h('button', { class: 'link', onclick: () => clear() }, 'clear')),
    h('div', { class: 'sel-main' }, label(key), ` · ${i.kind} · ${i.operstate} · mtu ${i.mtu}`),
    h(
      'ul',
      null,
      ends.slice(0, LISTED).map((k) => h('li', null, '↔ ', h('a', { href: `#/wiring/${k}` }, label(k)))),
      ends.length > LISTED ? h('li', null, `… ${ends.length - LISTED} more`) : '',
    ),
    selectionCaptureView(g, [key, ...ends], label),
  );
}

/** The selected interface and the ends it is wired to, captured together (when names pick exactly them). */
function selectionCaptureView(g: Graph, keys: string[], label: (k: string) => string): HTMLElement {
  const sel = keys.map((k) => ({ netns: Number(k.split('/')[0]), name: g.ifaces.get(k)?.name ?? '' }));
  const c = selectionCapture(sel, (ino) => g.nets.get(ino)?.interfaces.map((i) => i.name) ?? []);
  if (c.extra.length > 0)
    return h(
      'p',
      { class: 'muted cap-ambiguous' },
      `No capture of the selection at once: ${c.extra.map((e) => `${e.name} @ ${g.cards.get(e.netns)?.title ?? e.netns}`).join(', ')} share its names. Capture each end from its namespace's details.`,
    );
  return capturePanel({
    key: `selection:${keys.join(' ')}`,
    targets: c.targets,
    interfaces: c.interfaces,
    label: label(keys[0] ?? ''),
  }).el;
}
