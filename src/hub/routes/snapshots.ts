/**
 * One service Snapshot (service/cache.ts) per hub generation: the place the
 * routes memoise their renderings and gzips for that generation, so the
 * hub's answers reuse the service's ETag and gzip handling unchanged.
 */
import { Snapshot } from '../../service/cache.js';
import type { Hub } from '../hub.js';

export class HubSnapshots {
  private snap: Snapshot | undefined;

  constructor(readonly hub: Hub) {}

  current(): Snapshot {
    const generation = this.hub.generation;
    if (this.snap?.generation !== generation)
      this.snap = new Snapshot(generation, performance.now(), {
        rendered: new Map(),
        holders: [],
        startedAt: new Date().toISOString(),
      });
    return this.snap;
  }
}
