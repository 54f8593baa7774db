/** The engine stage: container engines anywhere, their containers, groups and networks. */
export type { EngineCandidate, EngineType } from './detect.js';
export { detectEngines, engineTypeOf } from './detect.js';
export type { ContainerSource, EngineNetworks, Workloads } from './source.js';
export {
  containerKey,
  createEngineTracker,
  type EngineTracker,
  type EngineTrackerOptions,
} from './tracker.js';
export type { CachedNetwork } from './types.js';
