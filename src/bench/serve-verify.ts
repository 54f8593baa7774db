/**
 * `serve --verify` benchmark: a star lab of N nodes (200; --quick: 50) is
 * up, and the service rediscovers it with and without verifying the lab in
 * the same worker. Figures: a full worker cycle (`?fresh=1`: discovery,
 * renderings and, with --verify, the drift) both ways, the overhead of the
 * drift, and the `/api/verify` latency from the cache — what the serving
 * thread pays. Next to it, the `wirescope verify` CLI doing the same
 * comparison from scratch in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { labUp } from '../lab/build/apply.js';
import { labDown } from '../lab/build/down.js';
import { loadLab } from '../lab/file/load.js';
import type { VerifyReport } from '../service/drift.js';
import { type RunningService, startService } from '../service/server.js';
import { raw } from '../service/testing/http.js';
import { starLab } from './star-lab.js';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

async function timed(url: string, path: string, runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await raw(url, path);
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function cliMs(args: string[]): Promise<{ code: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    c.on('close', (code) => resolve({ code: code ?? -1, ms: performance.now() - t0 }));
  });
}

export const suite: BenchSuite = {
  name: 'serve-verify',
  async run({ quick }): Promise<BenchResult[]> {
    const n = quick ? 50 : 200;
    const runs = quick ? 3 : 7;
    const name = `wsbv${Math.random().toString(36).slice(2, 6)}`;
    const dir = mkdtempSync(join(tmpdir(), 'wst-bench-'));
    const file = join(dir, 'star.yaml');
    writeFileSync(file, stringify(starLab(name, n, 202)));
    let plain: RunningService | undefined;
    let verifying: RunningService | undefined;
    try {
      await labUp(loadLab(file));
      const opts = { listen: { host: '127.0.0.1', port: 0 }, engines: false, watch: false } as const;
      plain = await startService(opts);
      verifying = await startService({ ...opts, verify: [file] });
      // Warm both workers (first discovery opens sockets, loads modules).
      await timed(plain.url, '/api/discovery?fresh=1', 1);
      await timed(verifying.url, '/api/verify?fresh=1', 1);
      const report = JSON.parse((await raw(verifying.url, '/api/verify')).body) as VerifyReport;
      if (!report.clean) throw new Error(`the lab is not clean: ${JSON.stringify(report.labs[0]?.drift[0])}`);
      const without = await timed(plain.url, '/api/discovery?fresh=1', runs);
      const withDrift = await timed(verifying.url, '/api/discovery?fresh=1', runs);
      const cached = await timed(verifying.url, '/api/verify', runs * 3);
      const cli = await cliMs(['verify', file]);
      if (cli.code !== 0) throw new Error(`wirescope verify exited ${cli.code}`);
      return [
        {
          name: `serve --verify, star lab of ${n} nodes`,
          figures: {
            'worker cycle without --verify ms': without,
            'worker cycle with --verify ms': withDrift,
            'drift overhead ms': withDrift - without,
            'ratio with/without': withDrift / without,
            '/api/verify from cache ms': cached,
            'wirescope verify CLI ms': cli.ms,
          },
        },
      ];
    } finally {
      await verifying?.close();
      await plain?.close();
      await labDown(name).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
