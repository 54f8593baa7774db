/**
 * The lab drift in the navigator (`wirescope serve --verify FILE`): the
 * status bar's badge and the drift panel that lists every difference with a
 * link to the object. The marks on the wiring view are drift-marks.ts.
 */
import type { VerifyReport } from '../../src/service/contract.js';
import './drift.css';
import { h } from './dom.js';
import { hrefOf, noteText, OP_CLASS, OP_SIGN } from './drift-marks.js';

/** Summary line for the status bar: "lab clean" or "drift: 3". */
export function driftStatus(r: VerifyReport | undefined): HTMLElement | '' {
  if (!r) return '';
  const n = r.labs.reduce((s, l) => s + l.drift.length, 0);
  if (r.clean)
    return h('span', { class: 'lab-badge clean', title: 'every lab matches its file' }, '✓ lab clean');
  return h(
    'span',
    { class: 'lab-badge drift', title: 'the kernel differs from the lab file(s)' },
    `⚠ drift ${n || ''}`.trim(),
  );
}

/** The drift panel: per lab a clean badge or its differences, grouped by object. */
export function driftPanel(r: VerifyReport | undefined): HTMLElement[] {
  if (!r) return [h('li', { class: 'muted' }, 'waiting for the first verification…')];
  if (r.error) return [h('li', { class: 'd-error' }, r.error)];
  const out: HTMLElement[] = [];
  for (const l of r.labs) {
    const counts = (['-', '~', '+'] as const)
      .map((op) => [op, l.drift.filter((x) => x.op === op).length] as const)
      .filter(([, n]) => n > 0)
      .map(([op, n]) => h('span', { class: `dcount d-${OP_CLASS[op]}` }, `${OP_SIGN[op]}${n}`));
    out.push(
      h(
        'li',
        { class: 'dlab', 'data-lab': l.lab, title: l.file },
        h('span', { class: 'dlab-name' }, l.lab),
        ' ',
        l.error
          ? h('span', { class: 'lab-badge drift' }, 'error')
          : l.clean
            ? h('span', { class: 'lab-badge clean' }, '✓ lab clean')
            : counts,
      ),
    );
    if (l.error) out.push(h('li', { class: 'd-error' }, l.error));
    let last = '';
    for (const x of l.drift) {
      if (x.object !== last) {
        out.push(h('li', { class: 'dobj' }, x.object));
        last = x.object;
      }
      const href = hrefOf(l, x);
      const text = noteText(x);
      out.push(
        h(
          'li',
          { class: `ditem d-${OP_CLASS[x.op]}`, 'data-op': OP_CLASS[x.op] },
          href ? h('a', { href, title: x.message }, text) : h('span', { title: x.message }, text),
        ),
      );
    }
  }
  return out;
}
