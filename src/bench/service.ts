/**
 * Service benchmark on a host with N real network namespaces (default 500;
 * --quick: 100), each wired to one bridge by a veth pair, as a container
 * engine would do it:
 *
 * - `/json` latency with 20 concurrent clients once the result is warm
 *   (goal: p50 < 100 ms), against a cold discovery, which is what a
 *   per-request discovery service (Ghostwire) pays every time;
 * - time until the web UI shows the complete wiring view in headless
 *   Chromium (goal: < 1.5 s; Ghostwire's UI needs ~11 s for 500 here).
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { launchBrowser } from '../service/testing/browser.js';
import { raw } from '../service/testing/http.js';
import { startServe } from '../service/testing/serve.js';
import type { BenchResult, BenchSuite } from './types.js';

const ipBatch = (lines: string[]): void => {
  execFileSync('ip', ['-force', '-batch', '-'], {
    input: `${lines.join('\n')}\n`,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
};

interface Fleet {
  names: string[];
  destroy(): void;
}

/** N network namespaces on one bridge (exported for the hub suite, whose agents see them). */
export function buildFleet(n: number): Fleet {
  const p = `wsb${Math.random().toString(36).slice(2, 6)}`;
  const br = `${p}br`;
  const names = Array.from({ length: n }, (_, i) => `${p}n${i}`);
  const destroy = () => {
    try {
      ipBatch([
        ...names.map((ns) => `netns del ${ns}`),
        ...names.map((_, i) => `link del ${p}v${i}`),
        `link del ${br}`,
      ]);
    } catch {
      // -force went on past what was already gone
    }
  };
  try {
    ipBatch([`link add ${br} type bridge`, `addr add 10.250.0.1/16 dev ${br}`, `link set ${br} up`]);
    ipBatch(names.map((ns) => `netns add ${ns}`));
    ipBatch(names.map((ns, i) => `link add ${p}v${i} type veth peer name eth0 netns ${ns}`));
    ipBatch(names.map((_, i) => `link set ${p}v${i} master ${br} up`));
    names.forEach((ns, i) => {
      execFileSync('ip', ['-n', ns, '-batch', '-'], {
        input: `addr add 10.250.${(i + 2) >> 8}.${(i + 2) & 0xff}/16 dev eth0\nlink set eth0 up\nlink set lo up\n`,
        stdio: ['pipe', 'ignore', 'pipe'],
      });
    });
  } catch (err) {
    destroy();
    throw err;
  }
  return { names, destroy };
}

export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

export interface Service {
  url: string;
  proc: ChildProcess;
}

/** The real `wirescope serve`, in its own process (clients here must not share its event loop). */
async function startCli(): Promise<Service> {
  const served = await startServe(['serve', '--listen', '127.0.0.1:0']);
  if (!served.url) throw new Error(`wirescope serve exited: ${served.stderr.trim()}`);
  return { url: served.url, proc: served.proc };
}

/**
 * One GET that only counts the body (the 20 clients share this process: they must stay cheap).
 * A kept-alive socket the server closed just as it was reused fails the request before any
 * answer (the keep-alive race, RFC 9112 §9.3.1): an idempotent GET is then sent once more,
 * on a new socket, as node's documentation advises (`req.reusedSocket`).
 */
const timedGet = (url: URL, agent: Agent, gzip: boolean, retried = false): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers = gzip ? { 'accept-encoding': 'gzip' } : {};
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, agent, headers },
      (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () =>
          res.statusCode === 200 && n > 0
            ? resolve(performance.now() - t0)
            : reject(new Error(`${url.pathname} answered ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up'))
        timedGet(url, agent, gzip, true).then(resolve, reject);
      else reject(err);
    });
    req.end();
  });

/** Waits until two reads of `path` 1.5 s apart see the same generation (at most `rounds` × 1.5 s). */
export async function settled(url: string, path: string, rounds: number): Promise<void> {
  const generation = async () => (await raw(url, path)).headers['x-wirescope-generation'];
  let g = await generation();
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    const next = await generation();
    if (next === g) return;
    g = next;
  }
}

/** `clients` concurrent clients, `perClient` GETs each of `path` (default /json); the times in ms. */
export async function jsonLatency(
  svc: Pick<Service, 'url'>,
  clients: number,
  perClient: number,
  gzip = false,
  path = '/json',
): Promise<number[]> {
  const times: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const url = new URL(path, svc.url);
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < perClient; i++) times.push(await timedGet(url, agent, gzip));
      }),
    );
  } finally {
    agent.destroy();
  }
  return times;
}

export const suite: BenchSuite = {
  name: 'service',
  async run({ quick }): Promise<BenchResult[]> {
    const n = quick ? 100 : 500;
    const fleet = buildFleet(n);
    let svc: Service | undefined;
    try {
      svc = await startCli();
      const t0 = performance.now();
      const cold = await raw(svc.url, '/json?fresh=1');
      const coldMs = performance.now() - t0;
      if (cold.status !== 200) throw new Error(`/json answered ${cold.status}: ${cold.body.slice(0, 200)}`);
      const netns = (JSON.parse(cold.body) as { 'network-namespaces': unknown[] })['network-namespaces']
        .length;
      // Warm means settled: new veths keep the kernel busy for a moment (IPv6 addrconf/DAD notifications).
      await settled(svc.url, '/json', 13);
      await jsonLatency(svc, 20, 2); // warm up sockets and the memoised rendering
      const gen0 = Number((await raw(svc.url, '/healthz')).body.match(/"generation":(\d+)/)?.[1]);
      const times = await jsonLatency(svc, 20, quick ? 10 : 25);
      const gen1 = Number((await raw(svc.url, '/healthz')).body.match(/"generation":(\d+)/)?.[1]);
      const p50 = pct(times, 50);
      // Browsers (Ghostwire's own UI among the v1 clients) ask for gzip; scripts often do not.
      const gz = await jsonLatency(svc, 20, quick ? 10 : 25, true);
      const results: BenchResult[] = [
        {
          name: `/json, ${netns} netns (${n} created), 20 concurrent clients, warm`,
          figures: {
            'p50 ms': p50,
            'p99 ms': pct(times, 99),
            requests: times.length,
            'cold discovery+render ms': coldMs,
            'per-request-discovery/warm p50 ratio': coldMs / p50,
            'KiB per response': cold.body.length / 1024,
            // Other processes creating/deleting namespaces during the run force rediscoveries: shown, not hidden.
            'rediscoveries during run': gen1 - gen0,
            'gzip p50 ms': pct(gz, 50),
            'gzip p99 ms': pct(gz, 99),
          },
          goal: { text: 'p50 < 100 ms', met: p50 < 100 },
        },
      ];

      const browser = await launchBrowser();
      try {
        const runs: number[] = [];
        let cards = 0;
        let wires = 0;
        for (let i = 0; i < 3; i++) {
          const page = await browser.context.newPage();
          await page.goto(`${svc.url}/`);
          await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
          const ds = (await page.evaluate('({ ...document.body.dataset })')) as Record<string, string>;
          runs.push(Number(ds.readyMs));
          cards = Number(ds.cards);
          wires = Number(ds.wires);
          await page.close();
        }
        const median = pct(runs, 50);
        results.push({
          name: `web UI complete wiring view, ${cards} cards, ${wires} wires (Chromium, warm service)`,
          figures: {
            'median ms': median,
            'runs ms': runs.map((r) => Math.round(r)).join('/'),
            'Ghostwire ref ms': 11000,
            ratio: 11000 / median,
          },
          goal: { text: '< 1500 ms', met: median < 1500 },
        });
      } finally {
        await browser.close();
      }
      return results;
    } finally {
      if (svc) {
        const exited = new Promise((r) => svc?.proc.once('exit', r));
        svc.proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
      fleet.destroy();
    }
  },
};
