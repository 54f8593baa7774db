/**
 * Network discovery benchmark: 100 and 1000 network namespaces, each with a
 * veth into a host bridge, an address, a route and a listening TCP socket
 * (one python3 process creates them all through setns). Measures wirescope's
 * network stage cold (fresh workers, every namespace entered) and warm
 * (cached sockets; median of 15 runs, once the fixture's start-up traffic has
 * settled) in a process of its own
 * (network-probe.ts) with that process's RSS, and iproute2 doing the same work
 * per namespace (`ip -j link/addr/route` and `ss -tuna`) in the same run.
 * "first" includes entering every namespace and the nsid queries; "warm"
 * runs reuse the cached sockets. Socket owners come, as in the pipeline, from
 * the namespace scan's pass over /proc/PID/fd (`fdOwners`), so the network
 * figures leave that scan out; "warm + ns scan" is one warm run of both
 * stages (the namespace scan limited to network namespaces), what a
 * discovery of the network pays in all.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetFixtures } from '../network/testing/fixtures.js';
import { ipBatch } from '../testing/ip.js';
import type { ProbeResult } from './network-probe.js';
import { median } from './stats.js';
import type { BenchResult, BenchSuite } from './types.js';

const PROBE = fileURLToPath(new URL('./network-probe.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for the fixture to come to rest: for a minute after links come up, IPv6 duplicate address
 * detection, router solicitations and MLD reports from every namespace are flooded by the bridge
 * to all its ports (a thousand copies each), and the softirq work competes with whatever is
 * measured. "Warm" is about a host at rest, so the runs start once the bridge forwards fewer than
 * `quiet` packets a second (at most `maxMs` later); the wait is reported.
 */
async function settle(bridge: string, quiet = 20, maxMs = 60_000): Promise<number> {
  const packets = () => Number(readFileSync(`/sys/class/net/${bridge}/statistics/rx_packets`, 'utf8'));
  const t0 = performance.now();
  let last = packets();
  while (performance.now() - t0 < maxMs) {
    await sleep(1000);
    const now = packets();
    if (now - last < quiet) break;
    last = now;
  }
  return performance.now() - t0;
}

/**
 * `count` named network namespaces `${fx.prefix}-i` (pushed to `names`), each with a veth
 * into one host bridge (returned), an address and a route; all removed by `fx.cleanup()`.
 */
export function starFleet(fx: NetFixtures, count: number, names: string[]): string {
  const bridge = `${fx.prefix}br`;
  const root: string[] = [`link add ${bridge} type bridge`, `link set ${bridge} up`];
  const inner: string[] = [];
  for (let i = 0; i < count; i++) {
    const ns = `${fx.prefix}-${i}`;
    names.push(ns);
    root.push(`netns add ${ns}`);
    root.push(`link add ${fx.prefix}h${i} type veth peer name eth0 netns ${ns}`);
    root.push(`link set ${fx.prefix}h${i} master ${bridge} up`);
    const a = `10.${200 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
    inner.push(`-n ${ns} link set lo up`, `-n ${ns} link set eth0 up`, `-n ${ns} addr add ${a}/8 dev eth0`);
    inner.push(`-n ${ns} route add 192.168.0.0/16 via 10.255.255.254 dev eth0`);
  }
  fx.hostLink(bridge);
  for (const n of names) fx.registerNetns(n);
  ipBatch(root);
  ipBatch(inner);
  return bridge;
}

async function runSize(count: number, quick: boolean): Promise<BenchResult> {
  const fx = new NetFixtures();
  const names: string[] = [];
  try {
    const bridge = starFleet(fx, count, names);
    const specs = names.map((n) => `/run/netns/${n}`);
    await fx.socketsInEach(specs, 'tcp,4,0.0.0.0,8080');
    const settledMs = await settle(bridge);

    // Measured in a process of its own (see network-probe.ts): its RSS is the discovery's.
    const out = execFileSync(process.execPath, [PROBE, fx.prefix, String(count), String(quick ? 5 : 15)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1024 * 1024,
    });
    const p = JSON.parse(out) as ProbeResult;
    if (p.wired !== count || p.listening !== count) {
      throw new Error(
        `incomplete result: ${p.wired}/${count} veths wired, ${p.listening}/${count} sockets with owners`,
      );
    }

    // iproute2 doing the same work, per namespace.
    const sample = quick ? Math.min(count, 50) : count;
    const t = performance.now();
    for (const ns of names.slice(0, sample)) {
      for (const what of ['link', 'addr', 'route']) {
        execFileSync('ip', ['-n', ns, '-j', what, 'show', ...(what === 'route' ? ['table', 'all'] : [])], {
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      }
      execFileSync('ip', ['netns', 'exec', ns, 'ss', '-tuna'], { stdio: ['ignore', 'pipe', 'ignore'] });
    }
    const ipMs = ((performance.now() - t) * count) / sample;
    const warmMs = median(p.warmMs);
    const rssMb = p.rssMb;
    const figures: BenchResult['figures'] = {
      'first ms': p.firstMs,
      'warm ms': warmMs,
      'warm min ms': Math.min(...p.warmMs),
      'warm max ms': Math.max(...p.warmMs),
      'warm CPU ms': median(p.warmCpuMs),
      'warm + ns scan ms': median(p.bothMs),
      'RSS MB': rssMb,
      'peak RSS MB': p.peakRssMb,
      'settled after s': settledMs / 1000,
      'iproute2 ms': ipMs,
      'ratio warm': ipMs / warmMs,
      'ratio first': ipMs / p.firstMs,
    };
    if (sample < count) figures['iproute2 sampled'] = `${sample}/${count} namespaces, scaled`;
    const res: BenchResult = { name: `network discovery, ${count} netns`, figures };
    if (count === 1000) {
      res.goal = {
        text: '< 150 ms warm, ≥ 50× iproute2, RSS < 200 MB',
        met: warmMs < 150 && ipMs / warmMs >= 50 && rssMb < 200,
      };
    }
    return res;
  } finally {
    fx.cleanup();
  }
}

export const suite: BenchSuite = {
  name: 'network',
  async run({ quick }) {
    const out: BenchResult[] = [];
    for (const n of [100, 1000]) out.push(await runSize(n, quick));
    return out;
  },
};
