/** wirescope library entry point. */
export { closeDiscovery, type DiscoverOptions, discover } from './discover.js';
export { createEngineTracker, type EngineTracker } from './engines/index.js';
export * as schema from './model/schema.js';
export type * from './model/types.js';
export { closeNetworkDiscovery } from './network/discover.js';
export * as views from './views/index.js';
