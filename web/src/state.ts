/**
 * The UI's one mutable state: what was discovered, what the user chose
 * (route, search, selection, folds, settings) and what the live stream
 * marked. Modules read and write it; after a write, the owner of the screen
 * (views.ts) re-renders what depends on it. No DOM.
 */
import type { VerifyReport } from '../../src/service/contract.js';
import { type ChangeLogEntry, type ChangeMarks, noMarks } from './changelog.js';
import { type DriftMarks, driftMarks } from './drift-marks.js';
import type { Graph, Settings } from './graph.js';
import type { Layout } from './layout.js';
import type { Discovery } from './model.js';
import type { Route } from './route.js';

export interface AppState extends ChangeMarks {
  discovery: Discovery | undefined;
  /** The discovery as the service sent it, for the JSON export; empty once patched (then serialised on export). */
  text: string;
  generation: number;
  graph: Graph | undefined;
  /** The wiring view's layout; undefined until (re)computed for the current search. */
  layout: Layout | undefined;
  settings: Settings;
  query: string;
  expanded: Set<string>;
  collapsedCards: Set<number>;
  collapsedSections: Set<string>;
  /** The selected interface's key ("netns/index"). */
  selected: string | undefined;
  route: Route;
  changeLog: ChangeLogEntry[];
  live: boolean;
  error: string;
  /** Lab drift (serve --verify); verifyOn is false when the service verifies no lab. */
  verifyOn: boolean;
  verify: VerifyReport | undefined;
  drift: DriftMarks;
}

export const DEFAULT_SETTINGS: Settings = { loopback: false, ipv6: true, macs: false };

export function createState(settings: Settings): AppState {
  return {
    discovery: undefined,
    text: '',
    generation: 0,
    graph: undefined,
    layout: undefined,
    settings,
    query: '',
    expanded: new Set(),
    collapsedCards: new Set(),
    collapsedSections: new Set(),
    selected: undefined,
    route: { view: 'wiring' },
    ...noMarks(),
    changeLog: [],
    live: false,
    error: '',
    verifyOn: true,
    verify: undefined,
    drift: driftMarks(undefined),
  };
}

/** Adds a member that is missing, removes one that is there (a fold's open/closed state). */
export function toggle<T>(set: Set<T>, item: T): void {
  if (set.has(item)) set.delete(item);
  else set.add(item);
}
