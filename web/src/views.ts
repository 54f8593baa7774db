/**
 * The screen: the navigator and the main area (the wiring view, or a
 * namespace's or container's details), rendered from the state. Every
 * change of the state that the user makes goes through here, so that each
 * knows what to re-render; the live stream (live.ts) and the routes
 * (main.ts) call in too.
 */

import { clearMarks } from './changelog.js';
import { checkMarks, onCheckMarks } from './check.js';
import { containerDetails, netnsDetails } from './details.js';
import { exportJson, exportPng, exportSvg } from './export.js';
import { ikey, type Settings } from './graph.js';
import { layout, selectionClosure } from './layout.js';
import { Navigator } from './navigator.js';
import { focusIno, parseRoute, searchHash, selectionRoute } from './route.js';
import { renderSelection } from './selection.js';
import { saveSettings, toggleTheme } from './settings.js';
import { type AppState, toggle } from './state.js';
import { type Marks, WiringView } from './wiring.js';

/** The wiring view is never laid out narrower than this (it scrolls instead). */
const MIN_WIDTH = 800;

export class Views {
  readonly wiring: WiringView;
  readonly nav: Navigator;
  private remarkQueued = false;

  constructor(
    private readonly state: AppState,
    navEl: HTMLElement,
    private readonly main: HTMLElement,
  ) {
    const s = state;
    this.wiring = new WiringView({
      select: (key) => this.selectInWiring(key),
      toggleExpand: (key) => this.refold(s.expanded, key),
      toggleCard: (ino) => this.refold(s.collapsedCards, ino),
      toggleSection: (id) => this.refold(s.collapsedSections, id),
    });
    this.nav = new Navigator(navEl, s.settings, {
      setting: (key, on) => this.setSetting(key, on),
      clearChanges: () => this.clearChanges(),
      toggleTheme,
      exportSvg: () => s.layout && exportSvg(s.layout, this.marks().selected),
      exportPng: () =>
        s.layout && exportPng(s.layout, this.marks().selected).catch((e: Error) => alert(e.message)),
      exportJson: () => exportJson(s.text || JSON.stringify(s.discovery ?? {})),
    });
    // A neighbourhood check's verdicts show on the neighbours' cards as they arrive, at most
    // one re-render a frame (a check sends a hundred updates in a second).
    onCheckMarks(() => {
      if (this.remarkQueued) return;
      this.remarkQueued = true;
      requestAnimationFrame(() => {
        this.remarkQueued = false;
        this.remark();
      });
    });
  }

  /** What the wiring view highlights: the selection end to end, recent changes, focus, drift, the last check. */
  marks(): Marks {
    const s = this.state;
    const g = s.graph;
    return {
      selected: g && s.selected ? selectionClosure(g, s.selected) : new Set<string>(),
      changedNs: s.changedNs,
      changedIfaces: s.changedIfaces,
      focus: focusIno(s.route),
      drift: s.drift,
      check: checkMarks(),
    };
  }

  /** Lays the wiring view out again (new data, search, settings, folds or width) and draws it. */
  relayout(keepScroll: boolean): void {
    const s = this.state;
    const g = s.graph;
    if (!g) return;
    const scroll = this.wiring.scrollState;
    s.layout = layout(g, {
      settings: s.settings,
      query: s.query,
      expanded: s.expanded,
      collapsedCards: s.collapsedCards,
      collapsedSections: s.collapsedSections,
      width: Math.max(MIN_WIDTH, this.wiring.width),
      extraRows: (ino) => s.drift.ghosts.get(ino) ?? [],
    });
    this.wiring.render(g, s.layout, this.marks());
    if (keepScroll) this.wiring.restoreScroll(scroll);
  }

  /** Redraws the marks only (selection, changes, check): the layout stays. */
  remark(): void {
    this.wiring.mark(this.marks());
  }

  /** Shows the current route in the main area, with the tabs and the navigator's list. */
  renderMain(): void {
    const s = this.state;
    const g = s.graph;
    this.nav.renderTabs(s.route, g);
    if (!g) return;
    const r = s.route;
    if (r.view === 'wiring') {
      if (this.wiring.el.parentElement !== this.main) this.main.replaceChildren(this.wiring.el);
      if (!s.layout) this.relayout(false);
      if (r.ino !== undefined) {
        s.selected = r.index !== undefined ? ikey(r.ino, r.index) : s.selected;
        this.remark();
        this.wiring.scrollTo(r.ino, s.selected);
      }
      this.renderSelection();
      document.title = 'wirescope — wiring';
    } else if (r.view === 'netns') {
      this.main.replaceChildren(netnsDetails(g, r.ino, { ipv6: s.settings.ipv6 }));
      this.main.scrollTop = 0;
      document.title = `wirescope — ${g.cards.get(r.ino)?.title ?? r.ino}`;
    } else {
      this.main.replaceChildren(containerDetails(g, r.id));
      document.title = `wirescope — ${r.id}`;
    }
    this.nav.renderList(s);
  }

  /** Follows a location hash: its route, and its search when the link carries one. */
  showRoute(hash: string): void {
    const s = this.state;
    const { route, q } = parseRoute(hash);
    s.route = route;
    if (q !== undefined && q !== s.query) {
      s.query = q;
      this.nav.search.value = q;
      s.layout = undefined;
    }
    this.renderMain();
  }

  /** A new search: the URL keeps it (unless a followed link's route is taking over), the diagram, the list and the change log follow it. */
  setQuery(query: string, rewriteUrl = true): void {
    const s = this.state;
    s.query = query;
    if (rewriteUrl) history.replaceState(null, '', searchHash(s.route, location.hash, s.query));
    this.relayout(false);
    this.nav.renderList(s);
    this.renderChanges();
  }

  /** Selects an interface (or none) without changing the URL (Escape, the panel's "clear"). */
  select(key: string | undefined): void {
    this.state.selected = key;
    this.remark();
    this.renderSelection();
  }

  /** Re-renders after a live change was loaded and logged. */
  afterChange(): void {
    this.relayout(true);
    this.renderStatus();
    this.renderChanges();
    if (this.state.route.view !== 'wiring') this.renderMain();
    else this.nav.renderList(this.state);
  }

  renderStatus(): void {
    this.nav.renderStatus(this.state);
  }

  renderChanges(): void {
    this.nav.renderChanges(this.state.changeLog, this.state.query);
  }

  renderDrift(): void {
    this.nav.renderDrift(this.state.verifyOn, this.state.verify);
  }

  private renderSelection(): void {
    renderSelection(this.nav.selectionBox, this.state.graph, this.state.selected, () =>
      this.select(undefined),
    );
  }

  /** A click in the wiring view: the URL links to the selected interface. */
  private selectInWiring(key: string | undefined): void {
    const s = this.state;
    s.selected = key;
    if (key) {
      const { route, hash } = selectionRoute(key, s.query);
      history.replaceState(null, '', hash);
      s.route = route;
    }
    this.remark();
    this.renderSelection();
  }

  /** Opens or closes a fold (a card's rows, a card, a section) and lays out again where the user was. */
  private refold<T>(folds: Set<T>, item: T): void {
    toggle(folds, item);
    this.relayout(true);
  }

  private setSetting(key: keyof Settings, on: boolean): void {
    const s = this.state;
    s.settings = { ...s.settings, [key]: on };
    saveSettings(s.settings);
    this.relayout(true);
    if (s.route.view !== 'wiring') this.renderMain();
  }

  private clearChanges(): void {
    clearMarks(this.state);
    this.state.changeLog = [];
    this.renderChanges();
    this.nav.renderList(this.state);
    this.remark();
  }
}
