/**
 * wirescope web UI: navigator + wiring view + details, deep-linked by hash
 * routes (route.ts), kept live by the service's change stream (live.ts).
 * This entry point wires the modules to the page: the state (state.ts), the
 * screen (views.ts), and the browser's events (hash, search box, keys, size).
 */
import './style.css';
import { isHub } from './api.js';
import { h } from './dom.js';
import { follow, load } from './live.js';
import { applyTheme, initialTheme, loadSettings } from './settings.js';
import { createState } from './state.js';
import { Views } from './views.js';

/** Typing settles this long before the search runs (it re-lays out 500 cards). */
const SEARCH_DEBOUNCE_MS = 120;
const RESIZE_DEBOUNCE_MS = 150;
/** A narrower or wider window than this re-lays out the wiring view. */
const RESIZE_STEP = 40;

applyTheme(initialTheme());
const state = createState(loadSettings());
const views = new Views(state, document.getElementById('nav')!, document.getElementById('main')!);
const search = views.nav.search;

let searchTimer = 0;
let searchPending = false;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchPending = true;
  searchTimer = window.setTimeout(() => {
    searchPending = false;
    views.setQuery(search.value.trim());
  }, SEARCH_DEBOUNCE_MS);
});

let resizeTimer = 0;
let lastWidth = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    if (Math.abs(views.wiring.width - lastWidth) > RESIZE_STEP && state.route.view === 'wiring') {
      lastWidth = views.wiring.width;
      views.relayout(true);
    }
  }, RESIZE_DEBOUNCE_MS);
});
window.addEventListener('hashchange', () => {
  // A search typed just before a link was followed comes first, as the user did them: applied now
  // without rewriting the URL, so the debounced rewrite cannot replace the link's route after it.
  if (searchPending) {
    clearTimeout(searchTimer);
    searchPending = false;
    views.setQuery(search.value.trim(), false);
  }
  views.showRoute(location.hash);
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && document.activeElement !== search) {
    ev.preventDefault();
    search.focus();
  } else if (ev.key === 'Escape') views.select(undefined);
});

async function start(): Promise<void> {
  // A hub (wirescope hub) is shown as nodes with the wires between them; a single host as it always was.
  if (await isHub()) {
    const { startHubView } = await import('./hub-view.js');
    try {
      await startHubView(document.getElementById('nav')!, document.getElementById('main')!);
    } catch (err) {
      document
        .getElementById('main')
        ?.replaceChildren(
          h('div', { class: 'fatal' }, h('h2', null, 'The hub failed'), h('p', null, (err as Error).message)),
        );
    }
    return;
  }
  views.renderChanges();
  try {
    await load(state, views);
  } catch (err) {
    state.error = (err as Error).message;
    views.renderStatus();
    document
      .getElementById('main')
      ?.replaceChildren(
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
  views.showRoute(location.hash);
  lastWidth = views.wiring.width;
  // For tests and the benchmark: when the first complete wiring view was on screen, and how big it is.
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.cards = String(state.layout?.cards.length ?? 0);
  document.body.dataset.wires = String(state.layout?.paths.length ?? 0);
  document.body.dataset.ready = String(state.generation);
  follow(state, views);
}

void start();
