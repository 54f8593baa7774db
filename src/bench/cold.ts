/**
 * The first moment at 1000 network namespaces (issue 14), on a fleet of named
 * namespaces each with a veth into one host bridge, an address and a route
 * (network.ts `starFleet`):
 *
 * - `wirescope discover --json`, whole process, against a small C program
 *   doing the same netlink link+addr+route dumps per namespace
 *   (netlink-peer.c, built with gcc in this run) and against iproute2
 *   (`ip -n NS link/addr/route`, a sample, scaled). Interleaved rounds, so load
 *   from elsewhere hits all alike. Goals: ≤ 1.0 s, within 4× of C, ≥ 50× iproute2.
 * - `wirescope serve`: first /healthz and first /json after the start,
 *   `/json?fresh=1` (a full discovery per request), warm `/json`, RSS after
 *   100 discoveries, and the service's CPU while nothing changes.
 *   Goals: healthz ≤ 300 ms, first /json ≤ 1.5 s, fresh ≤ 300 ms, RSS ≤ 200 MB, idle CPU < 1%.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetFixtures } from '../network/testing/fixtures.js';
import { raw } from '../service/testing/http.js';
import { busiestThreads, threadCpu } from './events-load.js';
import { starFleet } from './network.js';
import { type Cmd, freePort, rounds } from './oneshot.js';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));
/** The C source stays in src/ (tsc copies no .c file into dist/). */
const PEER_SOURCE = fileURLToPath(new URL('../../src/bench/netlink-peer.c', import.meta.url));
const COUNT = 1000;

function buildPeer(dir: string): string {
  const out = join(dir, 'netlink-peer');
  execFileSync('gcc', ['-O2', '-o', out, PEER_SOURCE], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

const ms = (t0: number) => performance.now() - t0;

async function until(
  what: string,
  t0: number,
  ok: () => Promise<boolean>,
  proc: ChildProcess,
): Promise<number> {
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`wirescope serve exited with ${proc.exitCode} before ${what}`);
    if (ms(t0) > 60_000) throw new Error(`wirescope serve: no ${what} within 60 s`);
    try {
      if (await ok()) return ms(t0);
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** User+system CPU of a process so far, in ms (/proc/PID/stat fields 14, 15; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function serveFigures(quick: boolean): Promise<BenchResult> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  try {
    const healthz = await until(
      'healthz',
      t0,
      async () => (await raw(base, '/healthz')).status === 200,
      proc,
    );
    const first = await until('first /json', t0, async () => (await raw(base, '/json')).status === 200, proc);
    const timedGet = async (path: string): Promise<number> => {
      const t = performance.now();
      const r = await raw(base, path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      return ms(t);
    };
    const fresh: number[] = [];
    const discoveries = quick ? 20 : 100;
    for (let i = 0; i < discoveries; i++) fresh.push(await timedGet('/json?fresh=1'));
    const warm: number[] = [];
    for (let i = 0; i < 15; i++) warm.push(await timedGet('/json'));
    const rss = rssMb(proc.pid as number);
    // Idle: nothing changes; what the service spends on its own (watchers, periodic checks).
    const idleS = quick ? 5 : 15;
    const c0 = cpuMs(proc.pid as number);
    const threads0 = threadCpu(proc.pid);
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const idlePct = ((cpuMs(proc.pid as number) - c0) / (idleS * 1000)) * 100;
    const busiest = busiestThreads(proc.pid, threads0, idleS * 1000);
    const freshMs = median(fresh);
    return {
      name: `serve, ${COUNT} netns`,
      figures: {
        'healthz ms': healthz,
        'first /json ms': first,
        'fresh=1 ms': freshMs,
        'warm /json ms': median(warm),
        [`RSS MB after ${discoveries} discoveries`]: rss,
        'idle CPU %': idlePct,
        'idle busiest threads': busiest,
        load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      },
      goal: {
        text: 'healthz ≤ 300 ms, first /json ≤ 1.5 s, ?fresh=1 ≤ 300 ms, RSS ≤ 200 MB, idle CPU < 1%',
        met: healthz <= 300 && first <= 1500 && freshMs <= 300 && rss <= 200 && idlePct < 1,
      },
    };
  } finally {
    proc.kill('SIGKILL');
  }
}

export const suite: BenchSuite = {
  name: 'cold',
  async run({ quick }) {
    const fx = new NetFixtures();
    const dir = mkdtempSync(join(tmpdir(), 'wirescope-cold-'));
    const names: string[] = [];
    try {
      const peer = buildPeer(dir);
      starFleet(fx, COUNT, names);
      const paths = ['/proc/self/ns/net', ...names.map((n) => `/run/netns/${n}`)];
      const check = execFileSync(peer, paths, { encoding: 'utf8' }).trim().split(' ');
      if (Number(check[0]) !== paths.length)
        throw new Error(`C peer dumped ${check[0]}/${paths.length} namespaces`);
      const ws: Cmd = { label: 'wirescope', cmd: process.execPath, args: [BIN, 'discover', '--json'] };
      const c: Cmd = { label: 'C', cmd: peer, args: paths };
      const node: Cmd = { label: 'node', cmd: process.execPath, args: ['-e', '0'] };
      const m = rounds([ws, c, node], quick ? 3 : 5);
      const wsMs = m.get('wirescope') as number;
      const cMs = m.get('C') as number;

      const sample = names.slice(0, quick ? 10 : 30);
      const t = performance.now();
      for (const ns of sample)
        for (const what of [['link'], ['addr'], ['route', 'show', 'table', 'all']])
          execFileSync('ip', ['-n', ns, ...what], { stdio: ['ignore', 'pipe', 'ignore'] });
      const ipMs = (ms(t) * paths.length) / sample.length;
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      const oneShot: BenchResult = {
        name: `discover --json, ${COUNT} netns, whole process`,
        figures: {
          'wirescope ms': wsMs,
          'C netlink peer ms': cMs,
          'node -e 0 ms': m.get('node') as number,
          'ratio to C': wsMs / cMs,
          'iproute2 ms (scaled)': ipMs,
          'iproute2 / wirescope': ipMs / wsMs,
          'C peer messages': Number(check[1]),
          load,
        },
        goal: {
          text: '≤ 1.0 s, within 4× of C, ≥ 50× iproute2',
          met: wsMs <= 1000 && wsMs / cMs <= 4 && ipMs / wsMs >= 50,
        },
      };
      return [oneShot, await serveFigures(quick)];
    } finally {
      fx.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
