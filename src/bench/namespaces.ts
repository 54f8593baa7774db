/**
 * Namespace and process scan vs lsns(8): creates 100 and 1000 network
 * namespaces, each held by one `unshare --net sleep` process, and measures
 * in the same run
 *  - wirescope's scan in-process in a fresh Node process: the first (cold)
 *    scan, and the median of repeat scans (what the service pays) with and
 *    without the helper thread, and its peak RSS;
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
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

const scanModule = new URL('../namespaces/scan.js', import.meta.url).href;
const parallelModule = new URL('../namespaces/parallel.js', import.meta.url).href;
const libcModule = new URL('../kernel/libc.js', import.meta.url).href;
const bin = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

/**
 * Runs argv from a small Node wrapper that times it and reads its peak RSS
 * with getrusage(RUSAGE_CHILDREN) (`childrenMaxRssKb` in kernel/libc.ts): the
 * wrapper has no other child, so the figure is the command's own. No dependency on time(1).
 */
const wrapper = `
  import { spawnSync } from 'node:child_process';
  import { childrenMaxRssKb } from ${JSON.stringify(libcModule)};
  const argv = JSON.parse(process.argv[1]);
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({
    ms, rssKb: childrenMaxRssKb(), status: r.status, stdout: r.stdout,
    stderr: (r.stderr ?? String(r.error)).split('\\n')[0],
  }));`;

/** Wall time (ms) and peak RSS (MB) of one command. */
function timedWithRss(argv: string[]): { ms: number; rssMb: number; stdout: string } {
  const out = execFileSyncBoth(process.execPath, [
    '--input-type=module',
    '-e',
    wrapper,
    JSON.stringify(argv),
  ]);
  const r = JSON.parse(out.stdout) as {
    ms: number;
    rssKb: number;
    status: number | null;
    stdout: string;
    stderr: string;
  };
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return { ms: r.ms, rssMb: r.rssKb / 1024, stdout: r.stdout };
}

function execFileSyncBoth(cmd: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.split('\n')[0]}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

interface InProcess {
  coldMs: number;
  ms: number;
  singleMs: number;
  noFdsMs: number;
  fds: number;
  helperShare: number;
  rssMb: number;
  namespaces: number;
  processes: number;
}

/**
 * The scan in a fresh Node process: the first scan (cold: JIT and no helper
 * thread, what a one-shot command pays), then the median of `runs` repeat
 * scans (what the service pays; the helper thread shares the work), and of
 * `runs` repeat scans on one thread; counts and peak RSS.
 */
function inProcess(runs: number): InProcess {
  const script = `
    const { scanNamespaces } = await import(${JSON.stringify(scanModule)});
    const { lastHelperShare } = await import(${JSON.stringify(parallelModule)});
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const { readdirSync } = await import('node:fs');
    const countFds = () => {
      let n = 0;
      for (const p of readdirSync('/proc')) {
        if (!/^[0-9]+$/.test(p)) continue;
        try { n += readdirSync('/proc/' + p + '/fd').length; } catch {}
      }
      return n;
    };
    let t0 = performance.now();
    let scan = scanNamespaces();
    const coldMs = performance.now() - t0;
    scanNamespaces();
    await new Promise((r) => setTimeout(r, 200));
    scanNamespaces();
    const times = [];
    const single = [];
    const noFds = [];
    let share = 0;
    for (let i = 0; i < ${runs}; i++) {
      t0 = performance.now();
      scan = scanNamespaces();
      times.push(performance.now() - t0);
      share += lastHelperShare() / Object.keys(scan.processes).length / ${runs};
      t0 = performance.now();
      scanNamespaces({ threads: false });
      single.push(performance.now() - t0);
      t0 = performance.now();
      scanNamespaces({ threads: false, sources: { fds: false } });
      noFds.push(performance.now() - t0);
    }
    process.stdout.write(JSON.stringify({
      coldMs,
      ms: median(times),
      singleMs: median(single),
      noFdsMs: median(noFds),
      fds: countFds(),
      helperShare: share,
      rssMb: process.resourceUsage().maxRSS / 1024,
      namespaces: Object.keys(scan.namespaces).length,
      processes: Object.keys(scan.processes).length,
    }));`;
  const r = execFileSyncBoth(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(r.stdout) as InProcess;
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
  // The CLI loads every command's modules; a failure there (another part
  // of the tree mid-build) must not hide the scan figures.
  const cliTimes: number[] = [];
  let cliRss = 0;
  let cliError: string | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      const r = timedWithRss([process.execPath, bin, 'namespaces', '--json']);
      cliTimes.push(r.ms);
      cliRss = Math.max(cliRss, r.rssMb);
    }
  } catch (err) {
    cliError = `failed (${err instanceof Error ? err.message.slice(0, 80) : String(err)})`;
  }
  const lsnsMs = median(lsnsTimes);
  const cliMs = median(cliTimes);
  return {
    name: `namespace scan, ${n} process-held netns`,
    figures: {
      'scan ms (repeat)': ws.ms,
      'lsns -J ms': lsnsMs,
      'ratio lsns/scan': lsnsMs / ws.ms,
      'scan ms (repeat, one thread)': ws.singleMs,
      'ratio lsns/one-thread scan': lsnsMs / ws.singleMs,
      // lsns reads no fds; every fd of every process costs one readlink.
      'scan ms (one thread, no fd source)': ws.noFdsMs,
      'ratio lsns/no-fd scan': lsnsMs / ws.noFdsMs,
      'open fds on host': ws.fds,
      'helper share': ws.helperShare,
      'scan ms (first, cold)': ws.coldMs,
      'ratio lsns/cold scan': lsnsMs / ws.coldMs,
      'CLI ms': cliError ?? cliMs,
      'ratio lsns/CLI': cliError === undefined ? lsnsMs / cliMs : 'n/a',
      'scan RSS MB': ws.rssMb,
      'CLI RSS MB': cliError === undefined ? cliRss : 'n/a',
      'lsns RSS MB': lsnsRss,
      'namespaces wirescope': ws.namespaces,
      'namespaces lsns': lsnsFound,
      // The scan also opens and describes every namespace lsns cannot see
      // (bind-mounted, fd-held, hidden parents): time per namespace found.
      'µs per namespace wirescope': (1000 * ws.ms) / ws.namespaces,
      'µs per namespace lsns': (1000 * lsnsMs) / lsnsFound,
      processes: ws.processes,
    },
    goal: {
      text: 'repeat scan no slower than lsns -J, finding at least as many namespaces',
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
