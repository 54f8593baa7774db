/**
 * wirescope's processes favour a small footprint over V8's default heap growth.
 *
 * After each full GC V8 lets the old generation grow to a multiple of what
 * survived, up to 4× for a small heap that collects quickly
 * (MemoryController::GrowingFactor). A warm discovery builds a fresh model
 * every run in three isolates (the main thread and two network workers), so
 * with the default each isolate's heap fills with several runs' garbage: a
 * thousand network namespaces (~45 MB live in all) sat at 210–250 MB RSS.
 * Capping the growth at 1.5× keeps them at ~180 MB; the extra full GCs mark
 * concurrently on V8's helper threads and left the warm median unchanged
 * (`npm run bench network`).
 *
 * The flag is process-wide and read at every GC, so setting it when a
 * long-running command (serve, hub, watch) starts covers the worker threads
 * it creates later as well. One-shot commands leave it: their heap never
 * grows for long, and loading node:v8 (with its heap-snapshot streams) costs
 * ~10 ms of a one-shot start.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

export function favourSmallHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
