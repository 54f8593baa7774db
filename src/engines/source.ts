/** Contract between the engine stage and the pipeline. */

import type { Draft } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';

export interface Workloads {
  containers: Record<string, Draft.Container>;
  engines: Record<string, Draft.Engine>;
  groups: Record<string, Draft.Group>;
  warnings: Draft.Warning[];
}

/**
 * A source of containers, e.g. the event-tracked engine cache. `snapshot`
 * is called once per discovery with the fresh process scan, so it can detect
 * new engines and relate containers to processes and namespaces.
 */
export interface ContainerSource {
  snapshot(scan: NamespaceScan): Promise<Workloads>;
}
