/**
 * `wirescope verify FILE`: compares a lab declaration with a fresh discovery.
 * Exit 0 clean, 1 drift, 2 error.
 */
import type { Command } from 'commander';
import { LabFileError, loadLab } from '../lab/load.js';
import { formatDrift } from '../lab/verify.js';
import { runVerify } from '../lab/verify-run.js';
import { CliError } from './errors.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('compare a lab declaration with what the kernel has (exit 0 clean, 1 drift, 2 error)')
    .argument('<file>', 'lab file (YAML)')
    .option('--reach', 'also probe reachability between nodes and check it against the partitions')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { reach?: boolean; json?: boolean }) => {
      let lab: ReturnType<typeof loadLab>;
      try {
        lab = loadLab(file);
      } catch (e) {
        if (e instanceof LabFileError) {
          const lines = e.details().split('\n');
          for (const l of lines.slice(0, -1)) process.stderr.write(`wirescope: ${l}\n`);
          throw new CliError(lines[lines.length - 1] ?? e.message, 2);
        }
        throw e;
      }
      const r = await runVerify(lab, { reach: o.reach ?? false });
      // Exit once written: discovery's worker pool would otherwise keep the process alive.
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatDrift(r), () =>
        process.exit(r.clean ? 0 : 1),
      );
    });
}
