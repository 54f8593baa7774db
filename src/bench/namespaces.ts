/**
 * Namespace and process scan vs lsns(8): creates 100 and 1000 network
 * namespaces, each held by one `unshare --net sleep` process, and measures
 * in the same run
 *  - wirescope's scan in-process (what `discover()` and the service pay),
 *    median of several runs, and its peak RSS (a fresh Node process);
 *  - the `wirescope namespaces --json` command, cold, wall time and peak RSS
 *    (Node start-up included);
 *  - `lsns -J`, wall time and peak RSS;
 * and prints how many namespaces each found. Everything created is killed
 * in `finally`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { killGroup, sleepers, token } from '../namespaces/testing/fixtures.js';
import type { BenchResult, BenchSuite } from './types.js';

const scanModule = new URL('../namespaces/scan.js', import.meta.url).href;
const bin = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Wall time (ms) and peak RSS (MB, from /usr/bin/time %M) of one command. */
function timedWithRss(argv: string[]): { ms: number; rssMb: number; stdout: string } {
  // /usr/bin/time writes %M to stderr; spawnSync keeps both streams apart.
  const t0 = performance.now();
  const r = execFileSyncBoth('/usr/bin/time', ['-f', '%M', ...argv]);
  const ms = performance.now() - t0;
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { ms, rssMb: kb / 1024, stdout: r.stdout };
}

function execFileSyncBoth(cmd: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.split('\n')[0]}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The scan in a fresh Node process: median ms of `runs` after one warm-up, counts, peak RSS. */
function inProcess(runs: number): { ms: number; rssMb: number; namespaces: number; processes: number } {
  const script = `
    const { scanNamespaces } = await import(${JSON.stringify(scanModule)});
    scanNamespaces();
    const times = [];
    let scan;
    for (let i = 0; i < ${runs}; i++) {
      const t0 = performance.now();
      scan = scanNamespaces();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({
      ms: times[Math.floor(times.length / 2)],
      rssMb: process.resourceUsage().maxRSS / 1024,
      namespaces: Object.keys(scan.namespaces).length,
      processes: Object.keys(scan.processes).length,
    }));`;
  const r = execFileSyncBoth(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(r.stdout) as { ms: number; rssMb: number; namespaces: number; processes: number };
}

async function withNamespaces<T>(n: number, fn: () => T): Promise<T> {
  const t = token();
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = spawn('unshare', ['--net', 'sleep', t], { stdio: 'ignore', detached: true });
      c.on('error', () => {});
      children.push(c);
    }
    const end = Date.now() + 120_000;
    while (sleepers(t).length < n) {
      if (Date.now() > end) throw new Error(`only ${sleepers(t).length} of ${n} namespace holders started`);
      await sleep(50);
    }
    return fn();
  } finally {
    for (const c of children) killGroup(c);
    await Promise.all(
      children.map((c) =>
        c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined,
      ),
    );
  }
}

function measure(n: number, runs: number): BenchResult {
  const ws = inProcess(runs);
  const lsnsTimes: number[] = [];
  let lsnsRss = 0;
  let lsnsFound = 0;
  for (let i = 0; i < runs; i++) {
    const r = timedWithRss(['lsns', '-J']);
    lsnsTimes.push(r.ms);
    lsnsRss = Math.max(lsnsRss, r.rssMb);
    lsnsFound = (JSON.parse(r.stdout) as { namespaces: unknown[] }).namespaces.length;
  }
  const cliTimes: number[] = [];
  let cliRss = 0;
  for (let i = 0; i < 3; i++) {
    const r = timedWithRss([process.execPath, bin, 'namespaces', '--json']);
    cliTimes.push(r.ms);
    cliRss = Math.max(cliRss, r.rssMb);
  }
  const lsnsMs = median(lsnsTimes);
  const cliMs = median(cliTimes);
  return {
    name: `namespace scan, ${n} process-held netns`,
    figures: {
      'wirescope scan ms': ws.ms,
      'lsns -J ms': lsnsMs,
      'ratio lsns/scan': lsnsMs / ws.ms,
      'wirescope CLI ms': cliMs,
      'ratio lsns/CLI': lsnsMs / cliMs,
      'scan RSS MB': ws.rssMb,
      'CLI RSS MB': cliRss,
      'lsns RSS MB': lsnsRss,
      'namespaces wirescope': ws.namespaces,
      'namespaces lsns': lsnsFound,
      processes: ws.processes,
    },
    goal: {
      text: 'scan no slower than lsns -J, finding at least as many namespaces',
      met: ws.ms <= lsnsMs && ws.namespaces >= lsnsFound,
    },
  };
}

export const suite: BenchSuite = {
  name: 'namespaces',
  async run({ quick }) {
    const out: BenchResult[] = [];
    for (const n of quick ? [100] : [100, 1000]) {
      out.push(await withNamespaces(n, () => measure(n, quick ? 3 : 7)));
    }
    return out;
  },
};
