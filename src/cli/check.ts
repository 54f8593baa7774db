/**
 * `wirescope check TARGET`: can this container or namespace resolve and reach
 * its neighbours? Prints each verdict as it settles (or one JSON document with
 * --json). Exit 0 when every check is verified, 1 when one is not, 2 on error.
 */
import type { Command } from 'commander';
import { CheckTargetError, checkNeighbourhood } from '../check/run.js';
import { formatHeader, formatSummary, formatVerdict } from '../check/text.js';
import type { CheckResult } from '../check/types.js';
import { closeDiscovery, discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

interface CheckFlags {
  json?: boolean;
  engines: boolean;
  engineBudget: string;
  timeout: string;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`${flag}: "${text}" is not a positive number of milliseconds`);
  return n;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(SUMMARIES.check.description)
    .argument('<target>', 'container name or id, group/member, netns inode or bind-mount name')
    .option('--json', 'one JSON document with neighbours and verdicts')
    .option('--no-engines', 'do not ask container engines (plain namespaces only)')
    .option('--engine-budget <ms>', 'how long to wait for container engines', '2000')
    .option('--timeout <ms>', 'budget per name and per probe', '1500')
    .action(async (target: string, flags: CheckFlags) => {
      const budget = positive('--engine-budget', flags.engineBudget);
      const timeout = positive('--timeout', flags.timeout);
      const tracker = flags.engines ? createEngineTracker({ syncBudgetMs: budget }) : undefined;
      let r: CheckResult;
      try {
        const d = await discover(tracker ? { containers: tracker } : {});
        tracker?.close();
        const live = !flags.json;
        r = await checkNeighbourhood(d, target, {
          limits: { resolveTimeoutMs: timeout, probeTimeoutMs: timeout },
          onPlan: (p) => {
            if (live) process.stdout.write(formatHeader(p.hood, p.plan.names.length));
          },
          onVerdict: (v) => {
            const settled = v.quality !== 'unverified' && v.quality !== 'verifying';
            if (live && settled) process.stdout.write(formatVerdict(v));
          },
        });
      } catch (e) {
        if (e instanceof CheckTargetError) throw new CliError(e.message);
        throw e;
      } finally {
        tracker?.close();
        await closeDiscovery();
      }
      const out = flags.json ? `${JSON.stringify(r, null, 2)}\n` : formatSummary(r);
      process.stdout.write(out, () => process.exit(r.ok ? 0 : 1));
    });
}
