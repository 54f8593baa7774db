/** Every benchmark suite, in the order `npm run bench` runs them. */
import type { BenchSuite } from './types.js';
import { suite as views } from './views.js';

export const suites: BenchSuite[] = [views];
