/**
 * `npm run bench [-- --quick] [-- suite...]`: runs the benchmark suites and prints
 * each figure, with ratios against the peer measured in the same run.
 */
import { suites } from './suites.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));

let failed = false;
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  process.stdout.write(`\n== ${suite.name}\n`);
  try {
    for (const r of await suite.run({ quick })) {
      const figs = Object.entries(r.figures)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toFixed(3)) : v}`)
        .join('  ');
      const goal = r.goal ? `  [goal ${r.goal.met ? 'met' : 'MISSED'}: ${r.goal.text}]` : '';
      process.stdout.write(`${r.name}: ${figs}${goal}\n`);
    }
  } catch (err) {
    failed = true;
    process.stdout.write(`suite ${suite.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
process.exit(failed ? 1 : 0);
