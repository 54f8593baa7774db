/**
 * "Check neighbourhood" on a namespace's details: runs the check on the
 * service and fills a table in as verdicts arrive, one row per (name,
 * address), updated in place as its quality changes.
 */
import type { CheckResult, Neighbourhood, Quality, Verdict } from '../../src/service/contract.js';
import { streamCheck } from './api.js';
import { h } from './dom.js';

/**
 * The last check started, for the wiring view: each neighbour's card shows
 * the worst of its settled verdicts so far (or that it is being checked).
 */
export interface CheckMarks {
  start: number;
  neighbours: Map<number, { quality: Quality; verdicts: Map<string, Verdict> }>;
}

let current: CheckMarks | undefined;
let changed: () => void = () => {};

export function checkMarks(): CheckMarks | undefined {
  return current;
}

/** `cb` runs whenever the marks change (a check starts, a verdict arrives, a check ends). */
export function onCheckMarks(cb: () => void): void {
  changed = cb;
}

const BAD: ReadonlySet<Quality> = new Set(['unreachable', 'invalid']);
const PENDING: ReadonlySet<Quality> = new Set(['unverified', 'verifying']);

/** Worst first: a broken verdict, then one still under way, then verified. */
function summarise(vs: Iterable<Verdict>, done: boolean): Quality {
  const qs = [...vs].map((v) => v.quality);
  const bad = qs.find((q) => BAD.has(q));
  if (bad) return bad;
  if (qs.length === 0) return done ? 'unverified' : 'verifying';
  return qs.some((q) => PENDING.has(q)) ? 'verifying' : 'verified';
}

function markStart(start: number, hood: Neighbourhood): void {
  current = {
    start,
    neighbours: new Map(hood.neighbours.map((n) => [n.netns, { quality: 'verifying', verdicts: new Map() }])),
  };
  changed();
}

function markVerdict(start: number, v: Verdict): void {
  const n =
    current?.start === start && v.neighbour !== undefined ? current.neighbours.get(v.neighbour) : undefined;
  if (!n) return;
  n.verdicts.set(`${v.fqdn}\u0000${v.address}`, v);
  n.quality = summarise(n.verdicts.values(), false);
  changed();
}

function markDone(start: number): void {
  if (current?.start !== start) return;
  for (const n of current.neighbours.values()) n.quality = summarise(n.verdicts.values(), true);
  changed();
}

/**
 * One section per target for the page's lifetime: the details view is rebuilt
 * on every change event, and a check under way (or its table) must survive that.
 */
const sections = new Map<string, HTMLElement>();

export function checkSection(target: string, label: string): HTMLElement {
  let el = sections.get(target);
  if (!el) {
    el = buildSection(target, label);
    sections.set(target, el);
  }
  return el;
}

function buildSection(target: string, label: string): HTMLElement {
  const status = h(
    'p',
    { class: 'check-status' },
    `Can ${label} resolve and reach its neighbours, from inside?`,
  );
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'grid check', hidden: true },
    h(
      'thead',
      null,
      h('tr', null, ...['name', 'address', 'verdict', 'via / why', 'source'].map((t) => h('th', null, t))),
    ),
    body,
  );
  const rows = new Map<string, HTMLTableRowElement>();
  const show = (v: Verdict) => {
    const key = `${v.fqdn}\u0000${v.address}`;
    const row = h(
      'tr',
      { class: `quality-${v.quality}` },
      h('td', null, v.fqdn),
      h('td', null, v.address || '—'),
      h('td', { class: 'quality' }, v.quality),
      h('td', null, v.quality === 'verified' ? (v.via ?? '') : (v.error ?? '')),
      h('td', null, v.source ?? ''),
    );
    const old = rows.get(key);
    if (old) old.replaceWith(row);
    else body.append(row);
    rows.set(key, row);
  };
  let abort: AbortController | undefined;
  const button = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        abort?.abort();
        abort = new AbortController();
        rows.clear();
        body.replaceChildren();
        table.hidden = false;
        button.disabled = true;
        status.textContent = 'checking…';
        streamCheck(
          target,
          (event, data) => {
            if (event === 'neighbourhood') {
              const n = data as Neighbourhood & { names: number };
              markStart(n.target.netns, n);
              status.textContent = `checking ${n.neighbours.length} neighbour(s), ${n.names} name(s)…${n.notes.map((x) => ` ${x}.`).join('')}`;
            } else if (event === 'verdict') {
              show(data as Verdict);
              markVerdict(Number(target), data as Verdict);
            } else if (event === 'done') {
              const r = data as CheckResult;
              markDone(r.target.netns);
              const count = (q: string) => r.verdicts.filter((v) => v.quality === q).length;
              status.textContent =
                `${r.verdicts.length} check(s): ${count('verified')} verified, ${count('unreachable')} unreachable, ` +
                `${count('invalid')} invalid${r.notes.map((x) => `. ${x}`).join('')}`;
            } else if (event === 'error')
              status.textContent = `check failed: ${(data as { message: string }).message}`;
          },
          abort.signal,
        )
          .catch((e: unknown) => {
            status.textContent = `check failed: ${(e as Error).message}`;
          })
          .finally(() => {
            button.disabled = false;
          });
      },
    },
    'check neighbourhood',
  );
  return h(
    'section',
    { class: 'detail-section', id: 'sec-check' },
    h('h3', null, 'Neighbourhood'),
    button,
    status,
    table,
  );
}
