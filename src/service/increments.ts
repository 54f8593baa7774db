/**
 * The document increments of `/api/events`: each change event carries the
 * RFC 6902 patch (src/model/patch.ts) that turns the `/api/discovery` document
 * of the stream's previous event into this one, so a client that holds the
 * previous one applies it instead of fetching the whole document again.
 *
 * Discoveries happen more often than events (an event only when the topology
 * or the drift changed), so the patches of the discoveries in between are
 * chained: an event's patch reaches from the generation of the previous event
 * to its own. Pure; the discovery worker makes each step where both models
 * live (`stepView`), routes/events.ts keeps the chain (`PatchChain`).
 */
import { concatPatches, diffJson, type PatchOp } from '../model/patch.js';

/** The rendering (Snapshot.rendered) that holds a discovery's step from the one before. */
export const PATCH_VIEW = 'patch';

/**
 * The most a change event's patch may weigh (JSON bytes): beyond it the event
 * goes without, and clients fetch the document (gzipped, where a patch is not).
 * A quarter of a subscriber's backlog bound (events.ts), so a reader a few
 * events behind is not dropped for one big change.
 */
export const MAX_PATCH_BYTES = 256 * 1024;

/**
 * One discovery's step from the previous one, as the discovery worker renders
 * it: `from` names the previous discovery (its startedAt), so a step made
 * against another model than the previous snapshot's (a restarted worker) is
 * never applied to it; no `ops` when the step weighs more than the document.
 */
export interface StepView {
  from?: string;
  ops?: PatchOp[];
}

/** The step view (JSON) from `prev` to `next`, whose document weighs `documentBytes`. */
export function stepView(
  prev: unknown,
  prevStartedAt: string | undefined,
  next: unknown,
  documentBytes: number,
): string {
  if (prev === undefined || prevStartedAt === undefined) return '{}';
  const view = JSON.stringify({ from: prevStartedAt, ops: diffJson(prev, next) } satisfies StepView);
  return view.length < Math.min(documentBytes, MAX_PATCH_BYTES)
    ? view
    : JSON.stringify({ from: prevStartedAt } satisfies StepView);
}

/** What a change event carries of the chain: the patch from generation `base`. */
export interface Increment {
  base: number;
  patch: PatchOp[];
}

/**
 * The patch from the generation of the last event to the newest discovery.
 * Broken (no increment for the next event) when a step is missing or the
 * chain grows past its bound; the next event starts it anew.
 */
export class PatchChain {
  private base = 0;
  private head = 0;
  private ops: PatchOp[] = [];
  private intact = false;

  /** Starts at `generation` (a stream set starts listening, or an event was sent). */
  start(generation: number): void {
    this.base = generation;
    this.head = generation;
    this.ops = [];
    this.intact = generation > 0;
  }

  /**
   * Adds the step `from` → `to` (undefined: not known). `limit` bounds the
   * chain's bytes (the newest document's size, at most MAX_PATCH_BYTES).
   */
  extend(from: number, to: number, step: readonly PatchOp[] | undefined, limit: number): void {
    if (!this.intact || step === undefined || from !== this.head) {
      this.intact = false;
      return;
    }
    const ops = concatPatches(this.ops, step);
    if (JSON.stringify(ops).length >= Math.min(limit, MAX_PATCH_BYTES)) {
      this.intact = false;
      return;
    }
    this.ops = ops;
    this.head = to;
  }

  /** The increment to the newest discovery, when the chain holds one. */
  increment(): Increment | undefined {
    return this.intact ? { base: this.base, patch: this.ops } : undefined;
  }
}
