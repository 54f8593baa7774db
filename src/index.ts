/** wirescope library entry point. */
export { type DiscoverOptions, discover } from './discover.js';
export * as schema from './model/schema.js';
export type * from './model/types.js';
