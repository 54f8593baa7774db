/**
 * Gives a thread's garbage back once its work is done. V8 collects the old
 * generation when it reaches a limit it sets at a multiple of what survived the
 * last full collection (heap growing), and a thread that then goes idle keeps
 * that garbage resident: the service's discovery worker held ~80–100 MB of heap
 * for ~27 MB of live objects between discoveries, its namespace workers and the
 * serving thread (old documents' buffers, freed only with their wrappers) the
 * same in small. A full collection of such a heap takes ~20–50 ms.
 *
 * `gc` is V8's own (--expose-gc), taken from a fresh vm context with the flag
 * set for that moment only: other contexts and threads are not given it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null | undefined;

function fullGc(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') gcFn = own;
  else {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return gcFn;
}

/** How long a thread stays idle after work before it collects. */
export const IDLE_GC_MS = 1000;
/**
 * Busy without a pause (a host whose namespaces churn): collect between two pieces of work once
 * the heap holds this many times what survived the last collection (plus HEADROOM_BYTES), at most
 * every PRESSURE_GC_MS.
 */
const PRESSURE_FACTOR = 2;
const HEADROOM_BYTES = 16 * 1024 * 1024;
const PRESSURE_GC_MS = 5000;

export class IdleCollector {
  private timer: NodeJS.Timeout | undefined;
  /** Pieces of work under way (a thread may answer a request while another awaits). */
  private depth = 0;
  private live = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  /** Full collections run (for tests). */
  collections = 0;

  constructor(private readonly idleMs = IDLE_GC_MS) {}

  /** Work starts: no collection until it is done. */
  busy(): void {
    this.depth++;
    this.cancel();
  }

  /**
   * Work ended (also without a busy(): something happened that left garbage): once nothing else is
   * under way, collect after idleMs of quiet, or now if garbage piled up.
   */
  done(): void {
    this.depth = Math.max(0, this.depth - 1);
    if (this.depth > 0) return;
    this.cancel();
    const heap = getHeapStatistics();
    // The first piece of work only sets the bar (what is used now stands for what lives): a
    // one-shot command's namespace worker ends before any collection would pay.
    const first = this.live === 0;
    if (first) this.live = heap.used_heap_size;
    if (
      !first &&
      heap.total_physical_size > PRESSURE_FACTOR * this.live + HEADROOM_BYTES &&
      performance.now() - this.lastAt >= PRESSURE_GC_MS
    ) {
      this.collect();
      return;
    }
    this.timer = setTimeout(() => this.collect(), this.idleMs);
    this.timer.unref();
  }

  /** A full collection now (a no-op where V8's gc cannot be had). */
  collect(): void {
    this.cancel();
    const gc = fullGc();
    if (!gc) return;
    gc();
    this.collections++;
    this.lastAt = performance.now();
    this.live = getHeapStatistics().used_heap_size;
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
