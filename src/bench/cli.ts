/**
 * Whole-process start of the command line: `wirescope --help` and
 * `--version` (node started, the launcher, the parser and the summaries; no
 * command module), against iproute2's `ip -V` in the same run (the floor of a
 * C program that prints and exits) and `node -e 0` (the floor of any Node.js
 * command: what is left above it is wirescope's own start). Median of 15 runs each (5 with --quick),
 * interleaved so load from elsewhere hits both alike.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));
const GOAL_MS = 120;

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  const ms = performance.now() - t0;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return ms;
}

export const suite: BenchSuite = {
  name: 'cli',
  async run({ quick }) {
    const runs = quick ? 5 : 15;
    const out: BenchResult[] = [];
    for (const flag of ['--help', '--version']) {
      const ours: number[] = [];
      const peer: number[] = [];
      const bare: number[] = [];
      timed(process.execPath, [BIN, flag]); // warm the page cache
      for (let i = 0; i < runs; i++) {
        ours.push(timed(process.execPath, [BIN, flag]));
        peer.push(timed('ip', ['-V']));
        bare.push(timed(process.execPath, ['-e', '0']));
      }
      const ms = median(ours);
      const ipMs = median(peer);
      const nodeMs = median(bare);
      out.push({
        name: `wirescope ${flag}, whole process`,
        figures: {
          'wirescope ms': ms,
          'node -e 0 ms': nodeMs,
          'wirescope above node ms': ms - nodeMs,
          'ip -V ms': ipMs,
          'ratio wirescope/ip': ms / ipMs,
        },
        goal: { text: `≤ ${GOAL_MS} ms`, met: ms <= GOAL_MS },
      });
    }
    return out;
  },
};
