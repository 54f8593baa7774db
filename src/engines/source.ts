/** Contract between the engine stage and the pipeline. */

import type { Draft } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';
import type { CachedNetwork } from './types.js';

export interface Workloads {
  containers: Record<string, Draft.Container>;
  engines: Record<string, Draft.Engine>;
  groups: Record<string, Draft.Group>;
  warnings: Draft.Warning[];
}

/** The networks an engine manages, for the network-name decorators. */
export interface EngineNetworks {
  /** Engine id (see Engine.id). */
  engine: string;
  type: string;
  pid: number;
  networks: readonly CachedNetwork[];
}

/**
 * A source of containers, e.g. the event-tracked engine cache. `snapshot`
 * is called once per discovery with the fresh process scan, so it can detect
 * new engines and relate containers to processes and namespaces. It also sets
 * `Process.container` on the scan's processes that belong to a container.
 */
export interface ContainerSource {
  snapshot(scan: NamespaceScan): Promise<Workloads>;
  /** Engine-managed networks as of the last snapshot (optional). */
  networks?(): EngineNetworks[];
}
