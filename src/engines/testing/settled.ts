/**
 * Discovery with engines, for tests that describe what engines report: the
 * tracker waits for each engine's first listing only up to its budget, and
 * containers made just before reach it through event streams, each engine in
 * its own time. On a busy host either may come after the first discovery, so
 * tests discover until the engines have answered and the test's own state is
 * there, and name what they waited for when it does not come.
 */
import { type DiscoverOptions, discover } from '../../discover.js';
import type { Discovery } from '../../model/types.js';
import { eventually } from '../../testing/eventually.js';
import type { EngineTracker } from '../tracker.js';

/**
 * Discovers until no engine's first listing is still pending and `missing`
 * (what the test needs that the discovery lacks, in words) is empty.
 */
export async function discoverSettled(
  tracker: EngineTracker,
  options: Omit<DiscoverOptions, 'containers'> = {},
  missing: (d: Discovery) => string[] = () => [],
  timeoutMs = 30_000,
): Promise<Discovery> {
  const lacking = (d: Discovery): string[] => [
    ...d.warnings.filter((w) => w.code === 'engine-sync-pending').map((w) => `${w.engine}'s first listing`),
    ...missing(d),
  ];
  return eventually(
    'the engines to answer and the test state to be there',
    () => discover({ ...options, containers: tracker }),
    (d) => lacking(d).length === 0,
    { timeoutMs, intervalMs: 200, show: (d) => `still lacking ${lacking(d).join(', ')}` },
  );
}
