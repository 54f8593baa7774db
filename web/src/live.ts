/**
 * Data: the discovery (and the lab drift) loaded into the state, and the
 * service's change stream that keeps it current. A change event carries the
 * patch from the previous event's document (increment.ts): the UI applies
 * it to its copy, and fetches the whole discovery only when it cannot (events
 * missed, a reconnect, no patch). Events are handled in order, one batch at a
 * time; what arrives meanwhile is the next batch.
 */
import type { ChangeEvent } from '../../src/service/contract.js';
import { fetchDiscovery, fetchVerify, subscribe } from './api.js';
import { driftEntries, markChanges, recordChanges } from './changelog.js';
import { driftMarks, labelLabCards } from './drift-marks.js';
import { buildGraph } from './graph.js';
import { catchUpAll } from './increment.js';
import type { Discovery } from './model.js';
import type { AppState } from './state.js';

/** What the loader re-renders (views.ts). */
export interface LiveView {
  renderStatus(): void;
  renderChanges(): void;
  renderDrift(): void;
  afterChange(): void;
}

/** Loads the discovery and the lab drift measured on it; throws when the discovery fails. */
export async function load(s: AppState, v: LiveView): Promise<void> {
  const { discovery, generation, text } = await fetchDiscovery();
  await show(s, v, discovery, generation, text);
}

/** Puts a discovery of `generation` on screen, with the lab drift measured on it. */
async function show(s: AppState, v: LiveView, discovery: Discovery, generation: number, text: string) {
  s.discovery = discovery;
  s.generation = generation;
  s.text = text;
  s.graph = buildGraph(discovery);
  s.error = '';
  await loadDrift(s, v);
  v.renderStatus();
}

/** The lab drift measured on (at least) the discovery just loaded; a changed lab gets a line in the log. */
async function loadDrift(s: AppState, v: LiveView): Promise<void> {
  if (!s.verifyOn) return;
  try {
    const r = await fetchVerify();
    s.verifyOn = r !== undefined;
    if (s.verify && r) {
      s.changeLog = [...driftEntries(s.verify, r, new Date()), ...s.changeLog];
      v.renderChanges();
    }
    s.verify = r;
  } catch (err) {
    s.error = `lab drift: ${(err as Error).message}`;
  }
  s.drift = driftMarks(s.verify);
  if (s.graph) labelLabCards(s.graph, s.verify);
  v.renderDrift();
}

/** No change: what a reconnect that missed events reloads with. */
const NOTHING: ChangeEvent['changes'] = {
  namespaces: { added: [], removed: [], changed: [] },
  interfaces: { added: [], removed: [], changed: [] },
  containers: { added: [], removed: [], changed: [] },
};

/** For tests: how many change events were applied as patches, and how often the whole document was fetched. */
const followStats = { patched: 0, refetched: 0 };
const showStats = () => {
  document.body.dataset.patched = String(followStats.patched);
  document.body.dataset.refetched = String(followStats.refetched);
};

/** Follows the service's change stream: each change patches (or reloads), marks and logs, then re-renders. */
export function follow(s: AppState, v: LiveView): void {
  let running = false;
  let queue: ChangeEvent[] = [];
  /** A reconnect: whatever the events say, the copy is fetched again (see the hello handler). */
  let reconnected = false;
  const onChange = async (e: ChangeEvent): Promise<void> => {
    // The census's early word of namespaces (no patch): the discovery's event that follows moves
    // the copy, marks and logs them; logging both would list each namespace twice.
    if (e.census) return;
    queue.push(e);
    if (running) return; // the running loop picks it up
    running = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const previous = s.graph;
      const r = reconnected
        ? { refetch: 'reconnected', patched: 0, discovery: undefined, generation: 0 }
        : catchUpAll(s.discovery, s.generation, batch);
      reconnected = false;
      try {
        if (r.refetch !== undefined) {
          followStats.refetched++;
          await load(s, v);
        } else if (r.patched > 0 && r.discovery) {
          followStats.patched += r.patched;
          // The export serialises the patched copy when asked (the service's text is of an older generation).
          await show(s, v, r.discovery, r.generation, '');
        }
      } catch (err) {
        s.error = (err as Error).message;
      }
      showStats();
      const now = Date.now();
      for (const ev of batch) markChanges(s, ev, now);
      const at = new Date();
      for (const ev of batch) s.changeLog = recordChanges(s.changeLog, ev, previous, s.graph, at);
      v.afterChange();
    }
    running = false;
  };
  let hellos = 0;
  subscribe(
    (e) => void onChange(e),
    (live) => {
      s.live = live;
      v.renderStatus();
    },
    (generation) => {
      // The first hello names the generation this stream's first patch starts from: a copy of another
      // is reloaded. Every later hello is a reconnect: events may be missed, and a restarted service
      // counts generations anew (its patch from "generation 5" is not from our generation 5): reload.
      if (hellos++ > 0 || (generation !== 0 && generation !== s.generation)) {
        reconnected = true;
        void onChange({ generation, startedAt: '', changes: NOTHING });
      }
    },
  );
}
