/**
 * Network discovery benchmark: 100 and 1000 network namespaces, each with a
 * veth into a host bridge, an address, a route and a listening TCP socket
 * (one python3 process creates them all through setns). Measures wirescope's
 * network stage cold (fresh workers, every namespace entered) and warm
 * (cached sockets), the process RSS, and iproute2 doing the same work per
 * namespace (`ip -j link/addr/route` and `ss -tuna`) in the same run.
 * "first" includes entering every namespace and the nsid queries; "warm"
 * runs reuse the cached sockets. Socket owners come, as in the pipeline, from
 * the namespace scan's pass over /proc/PID/fd (`fdOwners`), so the network
 * figures leave that scan out; "warm + ns scan" is one warm run of both
 * stages (the namespace scan limited to network namespaces), what a
 * discovery of the network pays in all.
 */
import { execFileSync } from 'node:child_process';
import { scanNamespaces } from '../namespaces/scan.js';
import { closeNetworkDiscovery, discoverNetworks } from '../network/discover.js';
import { hostNetns, ipBatch, NetFixtures, scanOf } from '../network/testing/fixtures.js';
import type { BenchResult, BenchSuite } from './types.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function runSize(count: number, quick: boolean): Promise<BenchResult> {
  const fx = new NetFixtures();
  const names: string[] = [];
  try {
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
    const specs = names.map((n) => `/run/netns/${n}`);
    await fx.socketsInEach(specs, 'tcp,4,0.0.0.0,8080');

    // Our namespaces and the host's, with every process the namespace stage sees and the socket
    // and tun fds its fd pass found (owners need both).
    const scan = scanOf(names, [hostNetns()]);
    const nsScan = () => scanNamespaces({ namespaceTypes: ['net'] });
    const full = nsScan();
    scan.processes = full.processes;
    if (full.fdOwners) scan.fdOwners = full.fdOwners;
    await closeNetworkDiscovery();
    let t = performance.now();
    const first = await discoverNetworks(scan);
    const firstMs = performance.now() - t;
    const warm: number[] = [];
    const cpu: number[] = [];
    let last = first;
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      t = performance.now();
      const c0 = process.cpuUsage();
      last = await discoverNetworks(scan);
      warm.push(performance.now() - t);
      // CPU of all threads (workers included): what the run costs, independent of other load.
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const both: number[] = [];
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      t = performance.now();
      const s = nsScan();
      scan.processes = s.processes;
      if (s.fdOwners) scan.fdOwners = s.fdOwners;
      last = await discoverNetworks(scan);
      both.push(performance.now() - t);
    }
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    // Sanity: every namespace has its veth wired to the host side, and its socket with an owner.
    const nets = Object.values(last.networks);
    const wired = nets.filter((n) =>
      n.interfaces.some((f) => f.name === 'eth0' && f.veth?.peer !== undefined),
    ).length;
    const listening = nets.filter((n) =>
      n.sockets.some((s) => s.localPort === 8080 && s.owners.length > 0),
    ).length;
    if (wired !== count || listening !== count) {
      throw new Error(
        `incomplete result: ${wired}/${count} veths wired, ${listening}/${count} sockets with owners`,
      );
    }
    await closeNetworkDiscovery();

    // iproute2 doing the same work, per namespace.
    const sample = quick ? Math.min(count, 50) : count;
    t = performance.now();
    for (const ns of names.slice(0, sample)) {
      for (const what of ['link', 'addr', 'route']) {
        execFileSync('ip', ['-n', ns, '-j', what, 'show', ...(what === 'route' ? ['table', 'all'] : [])], {
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      }
      execFileSync('ip', ['netns', 'exec', ns, 'ss', '-tuna'], { stdio: ['ignore', 'pipe', 'ignore'] });
    }
    const ipMs = ((performance.now() - t) * count) / sample;
    const warmMs = median(warm);
    const figures: BenchResult['figures'] = {
      'first ms': firstMs,
      'warm ms': warmMs,
      'warm min ms': Math.min(...warm),
      'warm CPU ms': median(cpu),
      'warm + ns scan ms': median(both),
      'RSS MB': rssMb,
      'iproute2 ms': ipMs,
      'ratio warm': ipMs / warmMs,
      'ratio first': ipMs / firstMs,
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
    await closeNetworkDiscovery();
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
