/**
 * One-shot commands, whole process (issue 14; ARCHITECTURE.md "Start-up cost"):
 *
 * - `wirescope discover --json --no-engines` against `lsns -J` (the namespaces
 *   alone) and `ip -all netns exec ip -j addr` style peers (`ip -j -d addr`, one
 *   namespace's links and addresses);
 * - `wirescope discover --json` with the engines as the host runs them, and again
 *   with a few containers of our own on each engine found (docker, podman:
 *   two sleeping busybox containers each, removed afterwards), against
 *   `docker ps -a` (one engine, one list) where Docker runs (goal: ≤ 250 ms);
 * - `wirescope serve`: the first 200 from /healthz after the start (goal: ≤ 300 ms);
 * - `wirescope --help` and `--version` (goal: ≤ 120 ms; only the parser loads).
 *
 * `node -e 0` runs in the same rounds: what is above it is wirescope's own.
 * Runs interleave, so load from elsewhere hits all alike; medians of 9 (7 with --quick).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PODMAN_ENV, PODMAN_TEST_IMAGE, TEST_IMAGE } from '../engines/testing/image.js';
import { raw } from '../service/testing/http.js';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));
const DISCOVER_GOAL_MS = 250;
const HEALTHZ_GOAL_MS = 300;
const HELP_GOAL_MS = 120;

export interface Cmd {
  label: string;
  cmd: string;
  args: string[];
}

export function timed(c: Cmd): number {
  const t0 = performance.now();
  const r = spawnSync(c.cmd, c.args, { stdio: 'ignore', maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  if (r.error) throw new Error(`${c.cmd} ${c.args.join(' ')}: ${r.error.message}`);
  return ms;
}

const has = (cmd: string, args: string[]): boolean => {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000, env: PODMAN_ENV });
  return !r.error && r.status === 0;
};

/** Medians of interleaved rounds over `cmds` (each warmed once first). */
export function rounds(cmds: Cmd[], runs: number): Map<string, number> {
  const times = new Map<string, number[]>(cmds.map((c) => [c.label, []]));
  for (const c of cmds) timed(c);
  for (let i = 0; i < runs; i++) for (const c of cmds) times.get(c.label)?.push(timed(c));
  return new Map([...times].map(([k, v]) => [k, median(v)]));
}

/** What one discovery found: engines by type, and containers. */
function census(): { engines: string; containers: number } {
  const r = spawnSync(process.execPath, [BIN, 'discover', '--format', 'native'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const d = JSON.parse(r.stdout) as {
    engines: Record<string, { type: string }>;
    containers: Record<string, unknown>;
  };
  const types = Object.values(d.engines)
    .map((e) => e.type)
    .sort();
  return { engines: types.join('+') || 'none', containers: Object.keys(d.containers).length };
}

/** Two sleeping containers on each of docker and podman that runs with the test image; removed by the returned function. */
function startContainers(): { started: number; remove: () => void } {
  const p = `wsbo${randomBytes(3).toString('hex')}`;
  const made: [string, string][] = [];
  const remove = () => {
    for (const [cli, name] of made) {
      // podman: no grace period (sleep as PID 1 ignores SIGTERM).
      const args = cli === 'podman' ? ['rm', '-f', '-t', '0', name] : ['rm', '-f', name];
      spawnSync(cli, args, { stdio: 'ignore', timeout: 60_000, env: PODMAN_ENV });
    }
  };
  try {
    for (const [cli, image] of [
      ['docker', TEST_IMAGE],
      ['podman', PODMAN_TEST_IMAGE],
    ] as const) {
      if (!has(cli, ['image', 'inspect', image])) continue;
      for (let i = 0; i < 2; i++) {
        const name = `${p}-${cli}-${i}`;
        made.push([cli, name]);
        const r = spawnSync(cli, ['run', '-d', '--name', name, image, 'sleep', '3600'], {
          stdio: 'ignore',
          timeout: 60_000,
          env: PODMAN_ENV,
        });
        if (r.status !== 0) made.pop();
      }
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { started: made.length, remove };
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Spawn of `wirescope serve` until its first 200 from /healthz, polled every 5 ms. */
async function healthzAfterStart(): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const proc: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`], {
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`wirescope serve exited with ${proc.exitCode}`);
      if (performance.now() - t0 > 20_000) throw new Error('wirescope serve did not answer within 20 s');
      try {
        if ((await raw(`http://127.0.0.1:${port}`, '/healthz')).status === 200) return performance.now() - t0;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    proc.kill('SIGKILL');
  }
}

export const suite: BenchSuite = {
  name: 'oneshot',
  async run({ quick }) {
    const runs = quick ? 7 : 9;
    const out: BenchResult[] = [];
    const node: Cmd = { label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] };
    const noEngines: Cmd = {
      label: 'wirescope',
      cmd: process.execPath,
      args: [BIN, 'discover', '--json', '--no-engines'],
    };
    const withEngines: Cmd = { label: 'wirescope', cmd: process.execPath, args: [BIN, 'discover', '--json'] };
    const lsns: Cmd = { label: 'lsns -J', cmd: 'lsns', args: ['-J'] };
    const ipAddr: Cmd = { label: 'ip -j -d addr', cmd: 'ip', args: ['-j', '-d', 'addr'] };
    const docker: Cmd = { label: 'docker ps -a', cmd: 'docker', args: ['ps', '-a'] };
    const dockerRuns = has('docker', ['version']);

    const figures = (m: Map<string, number>, peers: string[]): Record<string, number | string> => {
      const ms = m.get('wirescope') as number;
      const bare = m.get(node.label) as number;
      const f: Record<string, number | string> = {
        'wirescope ms': ms,
        'node -e 0 ms': bare,
        'wirescope above node ms': ms - bare,
      };
      for (const p of peers) {
        const v = m.get(p);
        if (v === undefined) continue;
        f[`${p} ms`] = v;
        f[`ratio wirescope/${p}`] = ms / v;
      }
      return f;
    };

    for (const flag of ['--help', '--version']) {
      const m = rounds([{ label: 'wirescope', cmd: process.execPath, args: [BIN, flag] }, node], runs);
      out.push({
        name: `wirescope ${flag}, whole process`,
        figures: figures(m, [node.label]),
        goal: { text: `≤ ${HELP_GOAL_MS} ms`, met: (m.get('wirescope') as number) <= HELP_GOAL_MS },
      });
    }

    const m0 = rounds([noEngines, lsns, ipAddr, node], runs);
    out.push({
      name: 'discover --json --no-engines, whole process',
      figures: figures(m0, [lsns.label, ipAddr.label]),
      goal: { text: `≤ ${DISCOVER_GOAL_MS} ms`, met: (m0.get('wirescope') as number) <= DISCOVER_GOAL_MS },
    });

    const engineRound = (what: string): void => {
      const c = census();
      const cmds = [withEngines, lsns, node, ...(dockerRuns ? [docker] : [])];
      const m = rounds(cmds, runs);
      out.push({
        name: `discover --json, engines ${what}, whole process`,
        figures: { ...figures(m, [lsns.label, docker.label]), engines: c.engines, containers: c.containers },
        goal: { text: `≤ ${DISCOVER_GOAL_MS} ms`, met: (m.get('wirescope') as number) <= DISCOVER_GOAL_MS },
      });
    };
    engineRound('as the host runs them');
    const own = startContainers();
    try {
      if (own.started > 0) engineRound(`with ${own.started} more containers`);
    } finally {
      own.remove();
    }

    const healthz: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      healthz.push(await healthzAfterStart());
      bare.push(timed(node));
    }
    const h = median(healthz);
    out.push({
      name: 'serve: first /healthz after the start',
      figures: { 'wirescope ms': h, 'node -e 0 ms': median(bare), 'ratio wirescope/node': h / median(bare) },
      goal: { text: `≤ ${HEALTHZ_GOAL_MS} ms`, met: h <= HEALTHZ_GOAL_MS },
    });
    return out;
  },
};
