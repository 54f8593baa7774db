/**
 * Data: the discovery (and the lab drift) loaded into the state, and the
 * service's change stream that reloads it. A change event only says what
 * changed; the UI reloads the whole discovery, one load at a time, and the
 * newest event that arrived meanwhile triggers the next.
 */
import type { ChangeEvent } from '../../src/service/contract.js';
import { fetchDiscovery, fetchVerify, subscribe } from './api.js';
import { driftEntries, markChanges, recordChanges } from './changelog.js';
import { driftMarks, labelLabCards } from './drift-marks.js';
import { buildGraph } from './graph.js';
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

/** Follows the service's change stream: each change reloads, marks and logs, then re-renders. */
export function follow(s: AppState, v: LiveView): void {
  let reloading: Promise<void> | undefined;
  let pending: ChangeEvent | undefined;
  const onChange = async (e: ChangeEvent): Promise<void> => {
    pending = e;
    if (reloading) return; // the running loop picks it up
    while (pending) {
      const ev = pending;
      const previous = s.graph;
      pending = undefined;
      reloading = load(s, v);
      try {
        await reloading;
      } catch (err) {
        s.error = (err as Error).message;
      } finally {
        reloading = undefined;
      }
      markChanges(s, ev, Date.now());
      s.changeLog = recordChanges(s.changeLog, ev, previous, s.graph, new Date());
      v.afterChange();
    }
  };
  subscribe(
    (e) => void onChange(e),
    (live) => {
      s.live = live;
      v.renderStatus();
    },
    (generation) => {
      // Reconnected after missing events (or the service restarted): reload what we show.
      if (generation !== 0 && generation !== s.generation)
        void onChange({ generation, startedAt: '', changes: NOTHING });
    },
  );
}
