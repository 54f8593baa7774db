/**
 * How the UI's copy of the discovery follows the change events: a change
 * event's patch (RFC 6902, src/model/patch.ts) applies when the copy is of the
 * event's base generation; otherwise (events missed, a reconnect, a patch the
 * service left out as too large, one that does not fit) the whole document is
 * fetched again. Pure: live.ts does the fetching.
 */
import { applyPatch, PatchError } from '../../src/model/patch.js';
import type { ChangeEvent } from '../../src/service/contract.js';
import type { Discovery } from './model.js';

export type CatchUp =
  /** The copy is already this event's generation or newer (a refetch overtook the event). */
  | { kind: 'current' }
  | { kind: 'patched'; discovery: Discovery; generation: number }
  | { kind: 'refetch'; why: string };

/** What to do with the copy `doc` of generation `generation` on change event `ev`. */
export function catchUp(doc: Discovery | undefined, generation: number, ev: ChangeEvent): CatchUp {
  if (doc !== undefined && ev.generation <= generation) return { kind: 'current' };
  if (doc === undefined) return { kind: 'refetch', why: 'no document yet' };
  // The census's news of namespaces that came and went between discoveries: the document did not move.
  if (ev.census) return { kind: 'current' };
  if (ev.patch === undefined || ev.base === undefined)
    return { kind: 'refetch', why: 'the event has no patch' };
  if (ev.base !== generation)
    return { kind: 'refetch', why: `the patch is from generation ${ev.base}, the copy of ${generation}` };
  try {
    return { kind: 'patched', discovery: applyPatch(doc, ev.patch), generation: ev.generation };
  } catch (err) {
    if (err instanceof PatchError) return { kind: 'refetch', why: err.message };
    throw err;
  }
}

/**
 * Events in the order they arrived, applied one after another while they
 * chain; the first that does not leaves the rest to a refetch (which the
 * events after it may then patch on from, or find already current).
 */
export function catchUpAll(
  doc: Discovery | undefined,
  generation: number,
  events: readonly ChangeEvent[],
): { discovery: Discovery | undefined; generation: number; patched: number; refetch?: string } {
  let patched = 0;
  for (const ev of events) {
    const step = catchUp(doc, generation, ev);
    if (step.kind === 'refetch') return { discovery: doc, generation, patched, refetch: step.why };
    if (step.kind === 'patched') {
      doc = step.discovery;
      generation = step.generation;
      patched++;
    }
  }
  return { discovery: doc, generation, patched };
}
