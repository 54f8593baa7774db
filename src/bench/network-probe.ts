/**
 * The measured half of the network benchmark, run as its own process
 * (`node dist/bench/network-probe.js PREFIX COUNT RUNS`): it discovers the
 * network namespaces PREFIX-0 … PREFIX-(COUNT-1) and the host, first and warm,
 * and prints one JSON line with the timings and this process's memory. A
 * process of its own so that RSS is wirescope's — the stage's two workers,
 * its caches and the model — and not the benchmark harness's fixtures and
 * earlier suites, and so that the warm runs meet a heap as a real service's
 * discovery worker would.
 */
import { readFileSync } from 'node:fs';
import { favourSmallHeap } from '../cli/heap.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { closeNetworkDiscovery, discoverNetworks } from '../network/discover.js';
import { hostNetns, scanOf } from '../network/testing/fixtures.js';

export interface ProbeResult {
  firstMs: number;
  warmMs: number[];
  /** CPU of all threads (workers and GC helpers included) per warm run. */
  warmCpuMs: number[];
  /** Namespace scan (network namespaces) plus network discovery, warm. */
  bothMs: number[];
  rssMb: number;
  peakRssMb: number;
  wired: number;
  listening: number;
}

function peakRssMb(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function probe(prefix: string, count: number, runs: number): Promise<ProbeResult> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  // Our namespaces and the host's, with every process the namespace stage sees and the socket
  // and tun fds its fd pass found (owners need both).
  const scan = scanOf(names, [hostNetns()]);
  const nsScan = () => scanNamespaces({ namespaceTypes: ['net'] });
  const full = nsScan();
  scan.processes = full.processes;
  if (full.fdOwners) scan.fdOwners = full.fdOwners;
  let t = performance.now();
  let last = await discoverNetworks(scan);
  const firstMs = performance.now() - t;
  const warmMs: number[] = [];
  const warmCpuMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    const c0 = process.cpuUsage();
    last = await discoverNetworks(scan);
    warmMs.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    warmCpuMs.push((c.user + c.system) / 1000);
  }
  const bothMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    const s = nsScan();
    scan.processes = s.processes;
    if (s.fdOwners) scan.fdOwners = s.fdOwners;
    last = await discoverNetworks(scan);
    bothMs.push(performance.now() - t);
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
  await closeNetworkDiscovery();
  return { firstMs, warmMs, warmCpuMs, bothMs, rssMb, peakRssMb: peakRssMb(), wired, listening };
}

const [prefix, count, runs] = process.argv.slice(2);
if (prefix && count && runs) {
  // As every wirescope process does (src/cli/main.ts).
  favourSmallHeap();
  try {
    const r = await probe(prefix, Number(count), Number(runs));
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } catch (e) {
    process.stderr.write(`network probe: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
