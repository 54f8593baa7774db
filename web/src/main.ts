/**
 * wirescope web UI: navigator + wiring view + details, deep-linked by hash
 * routes, kept live by the service's change stream.
 *
 *   #/wiring                       the wiring diagram
 *   #/wiring/<netns>[/<ifindex>]   …focussed on a namespace (and an interface)
 *   #/netns/<netns>                details of a network namespace
 *   #/container/<id>               details of a container
 *   any route may end in ?q=<search>
 */

import type { ChangeEvent, VerifyReport } from '../../src/service/contract.js';
import { describeChanges } from '../../src/views/changes.js';
import { hostSummary } from '../../src/views/host.js';
import './style.css';
import { selectionCapture } from '../../src/views/capture-links.js';
import { fetchDiscovery, fetchVerify, subscribe } from './api.js';
import { capturePanel } from './capture.js';
import { checkMarks, onCheckMarks } from './check.js';
import { containerDetails, netnsDetails } from './details.js';
import { h } from './dom.js';
import { type DriftMarks, driftCounts, driftMarks, driftPanel, driftStatus, labelLabCards } from './drift.js';
import { exportJson, exportPng, exportSvg } from './export.js';
import { buildGraph, type Graph, ikey, matches, type Settings } from './graph.js';
import { type Layout, layout, selectionClosure } from './layout.js';
import type { Discovery } from './model.js';
import { WiringView } from './wiring.js';

type Route =
  | { view: 'wiring'; ino?: number; index?: number }
  | { view: 'netns'; ino: number }
  | { view: 'container'; id: string };

interface ChangeLogEntry {
  at: Date;
  text: string;
  href?: string;
  kind: 'added' | 'removed' | 'changed';
  /** Names the entry is about, so the log follows the navigator's search. */
  search: string;
  /** What changed inside a changed namespace, one line each (views/changes.ts, as `wirescope watch` prints it). */
  details?: string[];
  /**
   * A burst line's own entries, one per namespace: a search shows the matching ones in its
   * place, so a lab's changes stay findable (with their details) while other tools churn.
   */
  members?: ChangeLogEntry[];
}

const SETTINGS_KEY = 'wirescope.settings';
const THEME_KEY = 'wirescope.theme';

const state = {
  discovery: undefined as Discovery | undefined,
  text: '',
  generation: 0,
  graph: undefined as Graph | undefined,
  layout: undefined as Layout | undefined,
  settings: {
    loopback: false,
    ipv6: true,
    macs: false,
    ...JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}'),
  } as Settings,
  query: '',
  expanded: new Set<string>(),
  collapsedCards: new Set<number>(),
  collapsedSections: new Set<string>(),
  selected: undefined as string | undefined,
  route: { view: 'wiring' } as Route,
  changedNs: new Map<number, 'added' | 'changed'>(),
  changedIfaces: new Set<string>(),
  /** When each mark was set: marks fade after MARK_MS so the newest changes stand out. */
  markedAt: new Map<string, number>(),
  changeLog: [] as ChangeLogEntry[],
  live: false,
  error: '',
  /** Lab drift (serve --verify); verifyOn is false when the service verifies no lab. */
  verifyOn: true,
  verify: undefined as VerifyReport | undefined,
  drift: driftMarks(undefined) as DriftMarks,
};

// ---- theme
function applyTheme(t: string): void {
  document.documentElement.dataset.theme = t;
  localStorage.setItem(THEME_KEY, t);
}
applyTheme(
  localStorage.getItem(THEME_KEY) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
);

// ---- routing
function parseRoute(hash: string): { route: Route; q: string | undefined } {
  const [path = '', qs = ''] = hash.replace(/^#/, '').split('?');
  const q = new URLSearchParams(qs).get('q') ?? undefined;
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'netns' && /^\d+$/.test(parts[1] ?? ''))
    return { route: { view: 'netns', ino: Number(parts[1]) }, q };
  if (parts[0] === 'container' && parts[1])
    return { route: { view: 'container', id: decodeURIComponent(parts[1]) }, q };
  const ino = /^\d+$/.test(parts[1] ?? '') ? Number(parts[1]) : undefined;
  const index = /^\d+$/.test(parts[2] ?? '') ? Number(parts[2]) : undefined;
  return { route: { view: 'wiring', ino, index }, q };
}

// ---- DOM skeleton
const nav = document.getElementById('nav')!;
const main = document.getElementById('main')!;
const wiring = new WiringView({
  select: (key) => {
    state.selected = key;
    if (key) {
      const [ino, idx] = key.split('/');
      history.replaceState(
        null,
        '',
        `#/wiring/${ino}/${idx}${state.query ? `?q=${encodeURIComponent(state.query)}` : ''}`,
      );
      state.route = { view: 'wiring', ino: Number(ino), index: Number(idx) };
    }
    remark();
    renderSelection();
  },
  toggleExpand: (key) => {
    if (state.expanded.has(key)) state.expanded.delete(key);
    else state.expanded.add(key);
    relayout(true);
  },
  toggleCard: (ino) => {
    if (state.collapsedCards.has(ino)) state.collapsedCards.delete(ino);
    else state.collapsedCards.add(ino);
    relayout(true);
  },
  toggleSection: (id) => {
    if (state.collapsedSections.has(id)) state.collapsedSections.delete(id);
    else state.collapsedSections.add(id);
    relayout(true);
  },
});

const search = h('input', {
  type: 'search',
  id: 'search',
  placeholder: 'Search names, IPs, MACs, :ports…',
  autocomplete: 'off',
  spellcheck: 'false',
}) as HTMLInputElement;
const status = h('div', { class: 'status', id: 'status' }, 'connecting…');
const hostInfo = h('div', { class: 'hostinfo', id: 'hostinfo' });
const tabs = h('nav', { class: 'tabs' });
const nsList = h('ul', { class: 'nslist', id: 'nslist' });
const nsCount = h('span', { class: 'count' });
const selectionBox = h('div', { class: 'selection', id: 'selection', hidden: true });
const changesList = h('ul', { class: 'changes', id: 'changes' });
const driftList = h('ul', { class: 'drift-list', id: 'drift' });
const driftBox = h(
  'div',
  { class: 'panel drift-panel', id: 'drift-panel', hidden: true },
  h('h4', null, 'Lab drift'),
  driftList,
);

function checkbox(key: keyof Settings, label: string): HTMLElement {
  const input = h('input', {
    type: 'checkbox',
    id: `set-${key}`,
    checked: state.settings[key],
  }) as HTMLInputElement;
  input.addEventListener('change', () => {
    state.settings = { ...state.settings, [key]: input.checked };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(state.settings));
    relayout(true);
    if (state.route.view !== 'wiring') renderMain();
  });
  return h('label', { class: 'check' }, input, label);
}

nav.append(
  h('div', { class: 'brand' }, h('span', { class: 'logo' }, '⌁'), 'wirescope', hostInfo, status),
  search,
  tabs,
  h('div', { class: 'panel grow' }, h('h4', null, 'Network namespaces ', nsCount), nsList),
  selectionBox,
  driftBox,
  h(
    'div',
    { class: 'panel' },
    h(
      'h4',
      null,
      'Live changes ',
      h('button', { class: 'link', id: 'clear-changes', onclick: () => clearChanges() }, 'clear'),
    ),
    changesList,
  ),
  h(
    'div',
    { class: 'panel settings' },
    h('h4', null, 'Settings'),
    checkbox('loopback', 'loopback'),
    checkbox('ipv6', 'IPv6'),
    checkbox('macs', 'MACs'),
    h(
      'button',
      {
        id: 'theme',
        onclick: () => applyTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'),
      },
      '◐ theme',
    ),
  ),
  h(
    'div',
    { class: 'panel exports' },
    h('h4', null, 'Export'),
    h(
      'button',
      { id: 'export-svg', onclick: () => state.layout && exportSvg(state.layout, marks().selected) },
      'SVG',
    ),
    h(
      'button',
      {
        id: 'export-png',
        onclick: () =>
          state.layout && exportPng(state.layout, marks().selected).catch((e: Error) => alert(e.message)),
      },
      'PNG',
    ),
    h('button', { id: 'export-json', onclick: () => exportJson(state.text) }, 'JSON'),
  ),
);

let searchTimer = 0;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    state.query = search.value.trim();
    const r = state.route;
    const base = r.view === 'wiring' ? '#/wiring' : location.hash.split('?')[0];
    history.replaceState(null, '', `${base}${state.query ? `?q=${encodeURIComponent(state.query)}` : ''}`);
    relayout(false);
    renderNavList();
    renderChanges();
  }, 120);
});

// ---- rendering
function marks() {
  const g = state.graph;
  const selected = g && state.selected ? selectionClosure(g, state.selected) : new Set<string>();
  const focus = state.route.view === 'wiring' ? state.route.ino : undefined;
  return {
    selected,
    changedNs: state.changedNs,
    changedIfaces: state.changedIfaces,
    focus,
    drift: state.drift,
    check: checkMarks(),
  };
}

function relayout(keepScroll: boolean): void {
  const g = state.graph;
  if (!g) return;
  const scroll = wiring.scrollState;
  state.layout = layout(g, {
    settings: state.settings,
    query: state.query,
    expanded: state.expanded,
    collapsedCards: state.collapsedCards,
    collapsedSections: state.collapsedSections,
    width: Math.max(800, wiring.width),
    extraRows: (ino) => state.drift.ghosts.get(ino) ?? [],
  });
  wiring.render(g, state.layout, marks());
  if (keepScroll) wiring.restoreScroll(scroll);
}

function remark(): void {
  wiring.mark(marks());
}
// A neighbourhood check's verdicts show on the neighbours' cards as they arrive, at most
// one re-render a frame (a check sends a hundred updates in a second).
let remarkQueued = false;
onCheckMarks(() => {
  if (remarkQueued) return;
  remarkQueued = true;
  requestAnimationFrame(() => {
    remarkQueued = false;
    remark();
  });
});

function renderTabs(): void {
  const r = state.route;
  const detailsIno =
    r.view === 'wiring' ? (r.ino ?? state.graph?.hubs[0]) : r.view === 'netns' ? r.ino : undefined;
  tabs.replaceChildren(
    h('a', { href: '#/wiring', class: r.view === 'wiring' ? 'active' : '' }, 'Wiring'),
    h(
      'a',
      {
        href: detailsIno !== undefined ? `#/netns/${detailsIno}` : '#/wiring',
        class: r.view !== 'wiring' ? 'active' : '',
      },
      'Details',
    ),
  );
}

function renderNavList(): void {
  const g = state.graph;
  if (!g) return;
  const items: HTMLElement[] = [];
  const order = [...g.hubs, ...g.segments.flatMap((s) => s.members)];
  const current = state.route.view === 'netns' || state.route.view === 'wiring' ? state.route.ino : undefined;
  for (const ino of order) {
    const c = g.cards.get(ino)!;
    if (!matches(c, state.query)) continue;
    const chg = state.changedNs.get(ino);
    items.push(
      h(
        'li',
        { class: `${ino === current ? 'current ' : ''}${chg ? `chg-${chg}` : ''}`, 'data-ino': ino },
        h(
          'a',
          { href: `#/wiring/${ino}`, class: 'nsitem', title: c.subtitle },
          h('span', { class: `dot kind-${c.kind}` }),
          h('span', { class: 't' }, c.title),
        ),
        h('a', { href: `#/netns/${ino}`, class: 'detail-link', title: 'details' }, 'details'),
      ),
    );
  }
  nsCount.textContent = `${items.length}${state.query ? ` of ${g.cards.size}` : ''}`;
  nsList.replaceChildren(...items);
}

function renderSelection(): void {
  const g = state.graph;
  const key = state.selected;
  const i = key ? g?.ifaces.get(key) : undefined;
  if (!g || !key || !i) {
    selectionBox.replaceChildren();
    selectionBox.hidden = true;
    return;
  }
  selectionBox.hidden = false;
  const ends = [...selectionClosure(g, key)].filter((k) => k !== key && g.ifaces.has(k));
  const label = (k: string) => {
    const [ino] = k.split('/');
    return `${g.ifaces.get(k)!.name} @ ${g.cards.get(Number(ino))?.title ?? ino}`;
  };
  selectionBox.replaceChildren(
    h(
      'h4',
      null,
      'Selected ',
      h('button', { class: 'link', onclick: () => wiringSelect(undefined) }, 'clear'),
    ),
    h('div', { class: 'sel-main' }, label(key), ` · ${i.kind} · ${i.operstate} · mtu ${i.mtu}`),
    h(
      'ul',
      null,
      ends.slice(0, 8).map((k) => h('li', null, '↔ ', h('a', { href: `#/wiring/${k}` }, label(k)))),
      ends.length > 8 ? h('li', null, `… ${ends.length - 8} more`) : '',
    ),
    selectionCaptureView(g, [key, ...ends], label),
  );
}

/** The selected interface and the ends it is wired to, captured together (when names pick exactly them). */
function selectionCaptureView(g: Graph, keys: string[], label: (k: string) => string): HTMLElement {
  const sel = keys.map((k) => ({ netns: Number(k.split('/')[0]), name: g.ifaces.get(k)!.name }));
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
    label: label(keys[0]!),
  }).el;
}

function wiringSelect(key: string | undefined): void {
  state.selected = key;
  remark();
  renderSelection();
}

/** The host under the title: name, OS, kernel, CPUs, and the container engines found. */
function renderHost(): void {
  const d = state.discovery;
  if (!d) {
    hostInfo.replaceChildren();
    return;
  }
  const s = hostSummary(d);
  hostInfo.replaceChildren(
    h('div', { class: 'host-facts', title: s.detail }, s.facts.join(' · ')),
    s.engines.length
      ? h(
          'div',
          { class: 'host-engines' },
          ...s.engines.flatMap((e, i) => [
            i ? ' · ' : '',
            h('span', { class: 'engine', title: e.detail }, e.label),
          ]),
        )
      : '',
  );
}

function renderStatus(): void {
  renderHost();
  const d = state.discovery;
  const live = state.live
    ? h('span', { class: 'live on', title: 'receiving live changes' }, '● live')
    : h('span', { class: 'live', title: 'not connected to the change stream' }, '○ offline');
  status.replaceChildren(
    d
      ? `${Object.keys(d.networks).length} netns · ${Object.keys(d.containers).length} containers · gen ${state.generation} · ${Math.round(d.durationMs)} ms `
      : '',
    live,
    driftStatus(state.verify),
    state.error ? h('div', { class: 'error' }, state.error) : '',
  );
}

/** Detail lines shown under one change log entry; a namespace rebuilt at once says "… N more". */
const DETAIL_LINES = 6;

function renderChanges(): void {
  const terms = state.query ? state.query.toLowerCase().split(/\s+/) : undefined;
  const matches = (e: ChangeLogEntry) => !terms || terms.some((t) => e.search.toLowerCase().includes(t));
  changesList.replaceChildren(
    ...state.changeLog
      .flatMap((e) => (terms && e.members ? e.members : [e]))
      .filter(matches)
      .slice(0, 30)
      .map((e) =>
        h(
          'li',
          { class: `c-${e.kind}` },
          h('time', null, e.at.toLocaleTimeString()),
          ' ',
          e.href ? h('a', { href: e.href }, e.text) : e.text,
          e.details
            ? h(
                'ul',
                { class: 'cdetail' },
                ...e.details.slice(0, DETAIL_LINES).map((d) => h('li', null, d)),
                ...(e.details.length > DETAIL_LINES
                  ? [h('li', { class: 'muted' }, `… ${e.details.length - DETAIL_LINES} more`)]
                  : []),
              )
            : null,
        ),
      ),
  );
  if (state.changeLog.length === 0)
    changesList.append(h('li', { class: 'muted' }, 'no changes since the page loaded'));
}

function clearChanges(): void {
  state.markedAt.clear();
  state.changedNs.clear();
  state.changedIfaces.clear();
  state.changeLog = [];
  renderChanges();
  renderNavList();
  remark();
}

function renderMain(): void {
  const g = state.graph;
  renderTabs();
  if (!g) return;
  const r = state.route;
  if (r.view === 'wiring') {
    if (wiring.el.parentElement !== main) main.replaceChildren(wiring.el);
    if (!state.layout) relayout(false);
    if (r.ino !== undefined) {
      state.selected = r.index !== undefined ? ikey(r.ino, r.index) : state.selected;
      remark();
      wiring.scrollTo(r.ino, state.selected);
    }
    renderSelection();
    document.title = 'wirescope — wiring';
  } else if (r.view === 'netns') {
    main.replaceChildren(netnsDetails(g, r.ino, { ipv6: state.settings.ipv6 }));
    main.scrollTop = 0;
    document.title = `wirescope — ${g.cards.get(r.ino)?.title ?? r.ino}`;
  } else {
    main.replaceChildren(containerDetails(g, r.id));
    document.title = `wirescope — ${r.id}`;
  }
  renderNavList();
}

function onRoute(): void {
  const { route, q } = parseRoute(location.hash);
  state.route = route;
  if (q !== undefined && q !== state.query) {
    state.query = q;
    search.value = q;
    state.layout = undefined;
  }
  renderMain();
}

// ---- data
async function load(): Promise<void> {
  const { discovery, generation, text } = await fetchDiscovery();
  state.discovery = discovery;
  state.generation = generation;
  state.text = text;
  state.graph = buildGraph(discovery);
  state.error = '';
  await loadDrift();
  renderStatus();
}

/** The lab drift measured on (at least) the discovery just loaded. */
async function loadDrift(): Promise<void> {
  if (!state.verifyOn) return;
  try {
    const r = await fetchVerify();
    state.verifyOn = r !== undefined;
    logDrift(state.verify, r);
    state.verify = r;
  } catch (err) {
    state.error = `lab drift: ${(err as Error).message}`;
  }
  state.drift = driftMarks(state.verify);
  if (state.graph) labelLabCards(state.graph, state.verify);
  renderDrift();
}

/** A line in the live-change log when a lab's drift changes (not on the first load). */
function logDrift(before: VerifyReport | undefined, after: VerifyReport | undefined): void {
  if (!before || !after) return;
  for (const l of after.labs) {
    const text = driftCounts(l);
    const was = before.labs.find((b) => b.lab === l.lab);
    if (was && driftCounts(was) === text) continue;
    state.changeLog.unshift({
      at: new Date(),
      kind: l.clean ? 'added' : 'changed',
      text: `lab ${l.lab}: ${text}`,
      href: '#/wiring',
      search: l.lab,
    });
  }
  renderChanges();
}

function renderDrift(): void {
  driftBox.hidden = !state.verifyOn;
  if (state.verifyOn) driftList.replaceChildren(...driftPanel(state.verify));
}

const MARK_MS = 120_000;
/** A burst (another tool creating 500 namespaces) becomes one log line, not 500. */
const BURST = 5;

function recordChanges(e: ChangeEvent, previous: Graph | undefined): void {
  const g = state.graph;
  const at = new Date();
  const now = Date.now();
  const name = (ino: number) => g?.cards.get(ino)?.title ?? previous?.cards.get(ino)?.title ?? `netns ${ino}`;
  // An entry matches the search as its card does (title, containers, groups, labs, addresses).
  const findable = (ino: number) => (g?.cards.get(ino) ?? previous?.cards.get(ino))?.haystack ?? name(ino);
  // Per changed namespace, what changed in it: "eth0 mtu 1500 → 1400" (the namespace's name is the entry's).
  const details = new Map<number, string[]>();
  if (previous && g) {
    for (const l of describeChanges(previous.discovery, g.discovery)) {
      if (l.netns === undefined || l.what === 'container' || l.what === 'netns') continue;
      const list = details.get(l.netns) ?? [];
      list.push(`${l.op} ${l.text.slice(l.text.indexOf(': ') + 2)}`);
      details.set(l.netns, list);
    }
  }
  // Marks accumulate (a namespace usually arrives in steps: created, then wired) and fade with age.
  for (const [k, t] of state.markedAt) {
    if (now - t < MARK_MS) continue;
    state.markedAt.delete(k);
    if (k.startsWith('ns:')) state.changedNs.delete(Number(k.slice(3)));
    else state.changedIfaces.delete(k);
  }
  const log = (kind: ChangeLogEntry['kind'], sign: string, inos: readonly number[], what: string) => {
    const entries = inos.map((ino): ChangeLogEntry => {
      const entry: ChangeLogEntry = {
        at,
        kind,
        text: `${sign} ${name(ino)}${kind === 'removed' ? ' vanished' : ''}`,
        href: kind === 'removed' ? undefined : `#/wiring/${ino}`,
        search: findable(ino),
      };
      const lines = kind === 'changed' ? details.get(ino) : undefined;
      if (lines?.length) entry.details = lines;
      return entry;
    });
    if (inos.length > BURST) {
      const names = inos.slice(0, 3).map(name).join(', ');
      state.changeLog.unshift({
        at,
        kind,
        text: `${sign} ${inos.length} ${what} (${names}, …)`,
        search: entries.map((e) => e.search).join(' '),
        members: [...entries].reverse(), // newest first, as single entries are shown
      });
      return;
    }
    for (const entry of entries) state.changeLog.unshift(entry);
  };
  for (const ino of e.changes.namespaces.added) {
    state.changedNs.set(ino, 'added');
    state.markedAt.set(`ns:${ino}`, now);
  }
  for (const ino of e.changes.namespaces.changed) {
    if (state.changedNs.get(ino) === 'added') continue;
    state.changedNs.set(ino, 'changed');
    state.markedAt.set(`ns:${ino}`, now);
  }
  for (const ino of e.changes.namespaces.removed) {
    state.changedNs.delete(ino);
    state.markedAt.delete(`ns:${ino}`);
  }
  log('removed', '−', e.changes.namespaces.removed, 'namespaces vanished');
  log('changed', '~', e.changes.namespaces.changed, 'namespaces changed');
  log('added', '+', e.changes.namespaces.added, 'namespaces');
  for (const i of [...e.changes.interfaces.added, ...e.changes.interfaces.changed]) {
    state.changedIfaces.add(ikey(i.netns, i.index));
    state.markedAt.set(ikey(i.netns, i.index), now);
  }
  const cname = (id: string) =>
    g?.discovery.containers[id]?.name ?? previous?.discovery.containers[id]?.name ?? id.slice(0, 12);
  for (const id of e.changes.containers.removed)
    state.changeLog.unshift({ at, kind: 'removed', text: `− container ${cname(id)}`, search: cname(id) });
  for (const id of e.changes.containers.added)
    state.changeLog.unshift({
      at,
      kind: 'added',
      text: `+ container ${cname(id)}`,
      href: `#/container/${encodeURIComponent(id)}`,
      search: cname(id),
    });
  state.changeLog = state.changeLog.slice(0, 200);
}

let reloading: Promise<void> | undefined;
let pending: ChangeEvent | undefined;
async function onChange(e: ChangeEvent): Promise<void> {
  pending = e;
  if (reloading) return;
  while (pending) {
    const ev = pending;
    const previous = state.graph;
    pending = undefined;
    reloading = load();
    try {
      await reloading;
    } catch (err) {
      state.error = (err as Error).message;
    } finally {
      reloading = undefined;
    }
    recordChanges(ev, previous);
    relayout(true);
    renderStatus();
    renderChanges();
    if (state.route.view !== 'wiring') renderMain();
    else renderNavList();
  }
}

let lastWidth = 0;
window.addEventListener('resize', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    if (Math.abs(wiring.width - lastWidth) > 40 && state.route.view === 'wiring') {
      lastWidth = wiring.width;
      relayout(true);
    }
  }, 150);
});
window.addEventListener('hashchange', onRoute);
document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && document.activeElement !== search) {
    ev.preventDefault();
    search.focus();
  } else if (ev.key === 'Escape') wiringSelect(undefined);
});

async function start(): Promise<void> {
  renderChanges();
  try {
    await load();
  } catch (err) {
    state.error = (err as Error).message;
    renderStatus();
    main.replaceChildren(
      h(
        'div',
        { class: 'fatal' },
        h('h2', null, 'Discovery failed'),
        h('p', null, state.error),
        h('button', { onclick: () => location.reload() }, 'Retry'),
      ),
    );
    return;
  }
  onRoute();
  lastWidth = wiring.width;
  // For tests and the benchmark: when the first complete wiring view was on screen, and how big it is.
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.cards = String(state.layout?.cards.length ?? 0);
  document.body.dataset.wires = String(state.layout?.paths.length ?? 0);
  document.body.dataset.ready = String(state.generation);
  subscribe(
    (e) => void onChange(e),
    (live) => {
      state.live = live;
      renderStatus();
    },
    (generation) => {
      // Reconnected after missing events (or the service restarted): reload what we show.
      if (generation !== 0 && generation !== state.generation) {
        void onChange({
          generation,
          startedAt: '',
          changes: {
            namespaces: { added: [], removed: [], changed: [] },
            interfaces: { added: [], removed: [], changed: [] },
            containers: { added: [], removed: [], changed: [] },
          },
        });
      }
    },
  );
}

void start();
