/**
 * `wirescope verify FILE`: compares a lab declaration with a fresh discovery.
 * Exit 0 clean, 1 drift, 2 error.
 */
import type { Command } from 'commander';
import { loadLabFile } from './lab.js';
import { SUMMARIES } from './summaries.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(SUMMARIES.verify.description)
    .argument('<file>', 'lab file (YAML)')
    .option('--reach', 'also probe reachability between nodes and check it against the partitions')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { reach?: boolean; json?: boolean }) => {
      const lab = await loadLabFile(file);
      const { verifyAgainstFresh } = await import('../service/drift.js');
      const { formatDrift } = await import('../lab/check/verify.js');
      const r = await verifyAgainstFresh(lab, { reach: o.reach ?? false });
      // Exit once written: discovery's worker pool would otherwise keep the process alive.
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatDrift(r), () =>
        process.exit(r.clean ? 0 : 1),
      );
    });
}
