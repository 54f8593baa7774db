/** Every benchmark suite, in the order `npm run bench` runs them. */
import { suite as namespaces } from './namespaces.js';
import { suite as engines } from './engines.js';
import type { BenchSuite } from './types.js';
import { suite as views } from './views.js';

export const suites: BenchSuite[] = [namespaces, views, engines];
