/**
 * The live change log and the change marks of the wiring view, derived from
 * the service's change events (no DOM, unit-tested in Node; the navigator's
 * "Live changes" panel renders it).
 *
 * A burst of namespaces (another tool creating 500) becomes one log line that
 * keeps one entry per namespace, so a search still finds a lab's changes, with
 * their details, while other tools churn.
 */
import type { ChangeEvent, VerifyReport } from '../../src/service/contract.js';
import { describeChanges } from '../../src/views/changes.js';
import { driftCounts } from './drift-marks.js';
import { type Graph, ikey } from './graph.js';

export interface ChangeLogEntry {
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

/** The wiring view's marks of recent changes, and when each was set. */
export interface ChangeMarks {
  changedNs: Map<number, 'added' | 'changed'>;
  changedIfaces: Set<string>;
  /** When each mark was set ("ns:<ino>" or an interface key): marks fade after MARK_MS so the newest changes stand out. */
  markedAt: Map<string, number>;
}

export const MARK_MS = 120_000;
/** More namespaces than this in one event and one kind become one log line. */
export const BURST = 5;
/** The log keeps the newest entries only. */
export const LOG_MAX = 200;
/** Entries the panel shows at once. */
export const SHOWN = 30;
/** Detail lines shown under one entry; a namespace rebuilt at once says "… N more". */
export const DETAIL_LINES = 6;

export const noMarks = (): ChangeMarks => ({
  changedNs: new Map(),
  changedIfaces: new Set(),
  markedAt: new Map(),
});

export function clearMarks(m: ChangeMarks): void {
  m.markedAt.clear();
  m.changedNs.clear();
  m.changedIfaces.clear();
}

/**
 * Marks an event's namespaces and interfaces, after dropping marks older than
 * MARK_MS. Marks accumulate because a namespace usually arrives in steps
 * (created, then wired); an added namespace stays "added" through its
 * changes.
 */
export function markChanges(m: ChangeMarks, e: ChangeEvent, now: number): void {
  for (const [k, t] of m.markedAt) {
    if (now - t < MARK_MS) continue;
    m.markedAt.delete(k);
    if (k.startsWith('ns:')) m.changedNs.delete(Number(k.slice(3)));
    else m.changedIfaces.delete(k);
  }
  for (const ino of e.changes.namespaces.added) {
    m.changedNs.set(ino, 'added');
    m.markedAt.set(`ns:${ino}`, now);
  }
  for (const ino of e.changes.namespaces.changed) {
    if (m.changedNs.get(ino) === 'added') continue;
    m.changedNs.set(ino, 'changed');
    m.markedAt.set(`ns:${ino}`, now);
  }
  for (const ino of e.changes.namespaces.removed) {
    m.changedNs.delete(ino);
    m.markedAt.delete(`ns:${ino}`);
  }
  for (const i of [...e.changes.interfaces.added, ...e.changes.interfaces.changed]) {
    m.changedIfaces.add(ikey(i.netns, i.index));
    m.markedAt.set(ikey(i.netns, i.index), now);
  }
}

/** Per changed namespace, what changed in it: "~ eth0 mtu 1500 → 1400" (the entry carries the namespace's name). */
function namespaceDetails(previous: Graph | undefined, g: Graph | undefined): Map<number, string[]> {
  const details = new Map<number, string[]>();
  if (!previous || !g) return details;
  for (const l of describeChanges(previous.discovery, g.discovery)) {
    if (l.netns === undefined || l.what === 'container' || l.what === 'netns') continue;
    const list = details.get(l.netns) ?? [];
    list.push(`${l.op} ${l.text.slice(l.text.indexOf(': ') + 2)}`);
    details.set(l.netns, list);
  }
  return details;
}

/**
 * The log after one change event, newest first: vanished, changed and added
 * namespaces (each kind a burst line when more than BURST), then removed and
 * added containers. `g` is the graph after the event, `previous` the one
 * before: a vanished namespace is named from the latter.
 */
export function recordChanges(
  log: readonly ChangeLogEntry[],
  e: ChangeEvent,
  previous: Graph | undefined,
  g: Graph | undefined,
  at: Date,
): ChangeLogEntry[] {
  const out = [...log];
  const name = (ino: number) => g?.cards.get(ino)?.title ?? previous?.cards.get(ino)?.title ?? `netns ${ino}`;
  // An entry matches the search as its card does (title, containers, groups, labs, addresses).
  const findable = (ino: number) => (g?.cards.get(ino) ?? previous?.cards.get(ino))?.haystack ?? name(ino);
  const details = namespaceDetails(previous, g);
  const logNamespaces = (
    kind: ChangeLogEntry['kind'],
    sign: string,
    inos: readonly number[],
    what: string,
  ) => {
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
      out.unshift({
        at,
        kind,
        text: `${sign} ${inos.length} ${what} (${names}, …)`,
        search: entries.map((x) => x.search).join(' '),
        members: [...entries].reverse(), // newest first, as single entries are shown
      });
      return;
    }
    for (const entry of entries) out.unshift(entry);
  };
  logNamespaces('removed', '−', e.changes.namespaces.removed, 'namespaces vanished');
  logNamespaces('changed', '~', e.changes.namespaces.changed, 'namespaces changed');
  logNamespaces('added', '+', e.changes.namespaces.added, 'namespaces');
  const cname = (id: string) =>
    g?.discovery.containers[id]?.name ?? previous?.discovery.containers[id]?.name ?? id.slice(0, 12);
  for (const id of e.changes.containers.removed)
    out.unshift({ at, kind: 'removed', text: `− container ${cname(id)}`, search: cname(id) });
  for (const id of e.changes.containers.added)
    out.unshift({
      at,
      kind: 'added',
      text: `+ container ${cname(id)}`,
      href: `#/container/${encodeURIComponent(id)}`,
      search: cname(id),
    });
  return out.slice(0, LOG_MAX);
}

/**
 * Log lines for labs whose drift changed between two verifications, newest
 * first (none on the first load: there is nothing to compare with).
 */
export function driftEntries(
  before: VerifyReport | undefined,
  after: VerifyReport | undefined,
  at: Date,
): ChangeLogEntry[] {
  if (!before || !after) return [];
  const out: ChangeLogEntry[] = [];
  for (const l of after.labs) {
    const text = driftCounts(l);
    const was = before.labs.find((b) => b.lab === l.lab);
    if (was && driftCounts(was) === text) continue;
    out.unshift({
      at,
      kind: l.clean ? 'added' : 'changed',
      text: `lab ${l.lab}: ${text}`,
      href: '#/wiring',
      search: l.lab,
    });
  }
  return out;
}

/**
 * The entries the panel shows for a search: with one, a burst line gives way
 * to its members, and an entry is shown when any search word is in its names.
 */
export function visibleChanges(
  log: readonly ChangeLogEntry[],
  query: string,
  limit = SHOWN,
): ChangeLogEntry[] {
  const terms = query ? query.toLowerCase().split(/\s+/) : undefined;
  const matches = (e: ChangeLogEntry) => !terms || terms.some((t) => e.search.toLowerCase().includes(t));
  return log
    .flatMap((e) => (terms && e.members ? e.members : [e]))
    .filter(matches)
    .slice(0, limit);
}
