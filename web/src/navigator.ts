/**
 * The navigator, the column left of the views: host and status, search,
 * tabs, the list of network namespaces, the selected interface, lab drift,
 * live changes, settings and exports. It renders what the state holds; what
 * its controls do is the caller's (views.ts).
 */
import type { VerifyReport } from '../../src/service/contract.js';
import { hostSummary } from '../../src/views/host.js';
import { type ChangeLogEntry, DETAIL_LINES, visibleChanges } from './changelog.js';
import { h } from './dom.js';
import { driftPanel, driftStatus } from './drift.js';
import { type Graph, matches, type Settings } from './graph.js';
import type { Discovery } from './model.js';
import { currentIno, detailsIno, type Route } from './route.js';
import type { AppState } from './state.js';

export interface NavigatorActions {
  setting(key: keyof Settings, on: boolean): void;
  clearChanges(): void;
  toggleTheme(): void;
  exportSvg(): void;
  exportPng(): void;
  exportJson(): void;
}

export class Navigator {
  readonly search = h('input', {
    type: 'search',
    id: 'search',
    placeholder: 'Search names, IPs, MACs, :ports…',
    autocomplete: 'off',
    spellcheck: 'false',
  }) as HTMLInputElement;
  /** The selected interface's panel (selection.ts fills it). */
  readonly selectionBox = h('div', { class: 'selection', id: 'selection', hidden: true });
  private readonly status = h('div', { class: 'status', id: 'status' }, 'connecting…');
  private readonly hostInfo = h('div', { class: 'hostinfo', id: 'hostinfo' });
  private readonly tabs = h('nav', { class: 'tabs' });
  private readonly nsList = h('ul', { class: 'nslist', id: 'nslist' });
  private readonly nsCount = h('span', { class: 'count' });
  private readonly changesList = h('ul', { class: 'changes', id: 'changes' });
  private readonly driftList = h('ul', { class: 'drift-list', id: 'drift' });
  private readonly driftBox = h(
    'div',
    { class: 'panel drift-panel', id: 'drift-panel', hidden: true },
    h('h4', null, 'Lab drift'),
    this.driftList,
  );

  constructor(nav: HTMLElement, settings: Settings, act: NavigatorActions) {
    const checkbox = (key: keyof Settings, label: string): HTMLElement => {
      const input = h('input', {
        type: 'checkbox',
        id: `set-${key}`,
        checked: settings[key],
      }) as HTMLInputElement;
      input.addEventListener('change', () => act.setting(key, input.checked));
      return h('label', { class: 'check' }, input, label);
    };
    nav.append(
      h(
        'div',
        { class: 'brand' },
        h('span', { class: 'logo' }, '⌁'),
        'wirescope',
        this.hostInfo,
        this.status,
      ),
      this.search,
      this.tabs,
      h('div', { class: 'panel grow' }, h('h4', null, 'Network namespaces ', this.nsCount), this.nsList),
      this.selectionBox,
      this.driftBox,
      h(
        'div',
        { class: 'panel' },
        h(
          'h4',
          null,
          'Live changes ',
          h('button', { class: 'link', id: 'clear-changes', onclick: () => act.clearChanges() }, 'clear'),
        ),
        this.changesList,
      ),
      h(
        'div',
        { class: 'panel settings' },
        h('h4', null, 'Settings'),
        checkbox('loopback', 'loopback'),
        checkbox('ipv6', 'IPv6'),
        checkbox('macs', 'MACs'),
        h('button', { id: 'theme', onclick: () => act.toggleTheme() }, '◐ theme'),
      ),
      h(
        'div',
        { class: 'panel exports' },
        h('h4', null, 'Export'),
        h('button', { id: 'export-svg', onclick: () => act.exportSvg() }, 'SVG'),
        h('button', { id: 'export-png', onclick: () => act.exportPng() }, 'PNG'),
        h('button', { id: 'export-json', onclick: () => act.exportJson() }, 'JSON'),
      ),
    );
  }

  renderTabs(route: Route, g: Graph | undefined): void {
    const ino = detailsIno(route, g?.hubs[0]);
    this.tabs.replaceChildren(
      h('a', { href: '#/wiring', class: route.view === 'wiring' ? 'active' : '' }, 'Wiring'),
      h(
        'a',
        {
          href: ino !== undefined ? `#/netns/${ino}` : '#/wiring',
          class: route.view !== 'wiring' ? 'active' : '',
        },
        'Details',
      ),
    );
  }

  /** The namespaces that match the search, hubs first, each with its change mark. */
  renderList(s: AppState): void {
    const g = s.graph;
    if (!g) return;
    const items: HTMLElement[] = [];
    const order = [...g.hubs, ...g.segments.flatMap((x) => x.members)];
    const current = currentIno(s.route);
    for (const ino of order) {
      const c = g.cards.get(ino);
      if (!c || !matches(c, s.query)) continue;
      const chg = s.changedNs.get(ino);
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
    this.nsCount.textContent = `${items.length}${s.query ? ` of ${g.cards.size}` : ''}`;
    this.nsList.replaceChildren(...items);
  }

  /** The host under the title, then what was discovered, the stream's state, lab drift and the last error. */
  renderStatus(s: AppState): void {
    this.renderHost(s.discovery);
    const d = s.discovery;
    const live = s.live
      ? h('span', { class: 'live on', title: 'receiving live changes' }, '● live')
      : h('span', { class: 'live', title: 'not connected to the change stream' }, '○ offline');
    this.status.replaceChildren(
      d
        ? `${Object.keys(d.networks).length} netns · ${Object.keys(d.containers).length} containers · gen ${s.generation} · ${Math.round(d.durationMs)} ms `
        : '',
      live,
      driftStatus(s.verify),
      s.error ? h('div', { class: 'error' }, s.error) : '',
    );
  }

  /** Name, OS, kernel, CPUs, and the container engines found. */
  private renderHost(d: Discovery | undefined): void {
    if (!d) {
      this.hostInfo.replaceChildren();
      return;
    }
    const s = hostSummary(d);
    this.hostInfo.replaceChildren(
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

  /** The live changes the search matches (changelog.ts decides which). */
  renderChanges(log: readonly ChangeLogEntry[], query: string): void {
    this.changesList.replaceChildren(...visibleChanges(log, query).map(changeItem));
    if (log.length === 0)
      this.changesList.append(h('li', { class: 'muted' }, 'no changes since the page loaded'));
  }

  /** The drift panel, shown only when the service verifies a lab. */
  renderDrift(verifyOn: boolean, verify: VerifyReport | undefined): void {
    this.driftBox.hidden = !verifyOn;
    if (verifyOn) this.driftList.replaceChildren(...driftPanel(verify));
  }
}

function changeItem(e: ChangeLogEntry): HTMLElement {
  return h(
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
  );
}
