/**
 * Incremental discovery equals a full one (issue 16): random sequences of changes on the real
 * kernel (namespaces, veth pairs within and between them, bridges and their ports, addresses,
 * routes, links up and down, and a Docker container when Docker is here), and after each step
 * the incremental discovery of this thread is compared with a full discovery made by another
 * thread (its own network workers, sockets and memos, so it shares nothing with the incremental
 * side). Only the namespaces this test made are compared (the host is shared: other tests change
 * it all the time). Seeded: the seed is printed, WIRESCOPE_TEST_SEED replays it.
 *
 * Excluded from the comparison, because the incremental side legitimately keeps them from the
 * previous read of an unnotified namespace (ARCHITECTURE.md "Incremental discovery"): interface
 * counters (`stats`: no notification when they count), neighbour tables (ARP/ND churn is not
 * watched) and `durationMs`/`startedAt`. Transients (IPv6 DAD, carrier coming up) settle on
 * both sides: each comparison is retried until the models agree or a generous timeout ends it.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { closeDiscovery, discover } from './discover.js';
import { createEngineTracker, type EngineTracker } from './engines/index.js';
import { ensureDockerImage, TEST_IMAGE, trySh } from './engines/testing/image.js';
import type { Discovery } from './model/types.js';
import { eventually } from './testing/eventually.js';
import { ip, netnsAdd, netnsDelete, tryIp } from './testing/ip.js';
import { uniquePrefix } from './testing/names.js';

const STEPS = Number(process.env.WIRESCOPE_INCR_STEPS ?? 30);
const seed = Number(process.env.WIRESCOPE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(seed);
const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
const prefix = uniquePrefix('wsi', 5);
/** A random 10.x.y.0/16 for this run's addresses: no fixed subnet that could meet another test's. */
const net = `10.${1 + Math.floor(rand() * 250)}`;

interface Iface {
  ns: string;
  name: string;
  /** A veth end's peer: deleting one end deletes both. */
  peer?: { ns: string; name: string };
}
const namespaces: string[] = [];
let ifaces: Iface[] = [];
const addresses: (Iface & { cidr: string })[] = [];
const routes: (Iface & { dst: string })[] = [];
let serial = 0;
let container: string | undefined;
const docker = process.env.WIRESCOPE_INCR_DOCKER !== '0' && trySh('docker', ['version']) !== undefined;

/** The full discovery, on a thread of its own (its own module instances: pool, memos, sockets). */
class FullSide {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, (text: string) => void>();
  constructor() {
    const url = new URL('./testing/full-discovery.js', import.meta.url);
    this.worker = new Worker(url);
    this.worker.on('message', (m: { id: number; text: string }) => {
      this.waiting.get(m.id)?.(m.text);
      this.waiting.delete(m.id);
    });
  }
  discover(): Promise<Discovery> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, (text) => resolve(JSON.parse(text) as Discovery));
      this.worker.postMessage({ id });
    });
  }
  async close(): Promise<void> {
    const id = this.next++;
    await new Promise<void>((resolve) => {
      this.waiting.set(id, () => resolve());
      this.worker.postMessage({ id, op: 'close' });
    });
    await this.worker.terminate();
  }
}

/** Inodes of the namespaces this test made (and its container's). */
function mine(d: Discovery): number[] {
  const out = new Set<number>();
  for (const n of namespaces) {
    try {
      out.add(statSync(`/run/netns/${n}`).ino);
    } catch {
      // deleted meanwhile
    }
  }
  for (const c of Object.values(d.containers)) if (c.name === container && c.netns) out.add(c.netns);
  return [...out].sort((a, b) => a - b);
}

const byJson = (a: unknown, b: unknown): number => {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The compared part of a model: this test's namespaces, without what is excluded (see above). */
function normalise(d: Discovery, inos: number[]): unknown {
  const out: Record<string, unknown> = {};
  for (const ino of inos) {
    const n = d.networks[String(ino)];
    if (!n) {
      out[ino] = 'absent';
      continue;
    }
    const { neighbours: _n, ...rest } = n;
    out[ino] = {
      ...rest,
      interfaces: [...n.interfaces]
        .map(({ stats: _s, ...f }) => ({ ...f, addresses: [...f.addresses].sort(byJson) }))
        .sort((a, b) => a.index - b.index),
      routes: [...n.routes].sort(byJson),
      rules: [...n.rules].sort(byJson),
      sockets: [...n.sockets].sort(byJson),
      forwardedPorts: [...n.forwardedPorts].sort(byJson),
    };
    // Container metadata follows engine events, on both sides alike; compared is what sits in the namespace.
    out[`${ino} tenants`] = n.tenants.map((t) => t.pid);
  }
  return out;
}

/** The first difference between two JSON values, as a path and both sides ('' when equal). */
function firstDiff(a: unknown, b: unknown, path = ''): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '';
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDiff(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}/${k}`,
      );
      if (d) return d;
    }
  }
  return `${path || '/'}: incremental ${JSON.stringify(a)?.slice(0, 600)} ≠ full ${JSON.stringify(b)?.slice(0, 600)}`;
}

let full: FullSide;
let tracker: EngineTracker | undefined;

async function incremental(mode: 'record' | 'reuse'): Promise<Discovery> {
  return discover({ incremental: mode, ...(tracker ? { containers: tracker } : {}) });
}

/** Compares until both sides agree (transients settle) or the timeout names the difference. */
async function agree(step: string): Promise<void> {
  await eventually(
    `incremental = full after ${step} (seed ${seed}; replay with WIRESCOPE_TEST_SEED=${seed})`,
    async () => {
      const inc = await incremental('reuse');
      const f = await full.discover();
      const inos = mine(f);
      return firstDiff(normalise(inc, inos), normalise(f, inos));
    },
    (d) => d === '',
    { timeoutMs: 30_000, intervalMs: 300 },
  );
}

function freshName(kind: string): string {
  serial++;
  return `${kind}${serial}`;
}

function addNamespace(): string {
  const n = `${prefix}n${serial++}`;
  netnsAdd(n);
  namespaces.push(n);
  tryIp('-n', n, 'link', 'set', 'lo', 'up');
  return n;
}

function deleteNamespace(n: string): void {
  netnsDelete(n);
  namespaces.splice(namespaces.indexOf(n), 1);
  // A veth's end in a deleted namespace takes its peer along.
  ifaces = ifaces.filter((f) => f.ns !== n && f.peer?.ns !== n);
}

/** One random change; returns what it did (for the failure message). */
function step(): string {
  const r = rand();
  const ns = pick(namespaces);
  if (r < 0.08 || ns === undefined || (namespaces.length < 2 && r < 0.3)) {
    if (namespaces.length >= 6) return 'nothing (6 namespaces)';
    return `netns add ${addNamespace()}`;
  }
  if (r < 0.13 && namespaces.length > 2) {
    deleteNamespace(ns);
    return `netns del ${ns}`;
  }
  if (r < 0.33) {
    // A veth pair, within one namespace or between two.
    const other = rand() < 0.7 ? (pick(namespaces) as string) : ns;
    const a = freshName('va');
    const b = freshName('vb');
    if (!tryIp('-n', ns, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', other))
      return 'veth add failed';
    ifaces.push({ ns, name: a, peer: { ns: other, name: b } }, { ns: other, name: b, peer: { ns, name: a } });
    tryIp('-n', ns, 'link', 'set', a, 'up');
    if (rand() < 0.7) tryIp('-n', other, 'link', 'set', b, 'up');
    return `veth ${ns}/${a} — ${other}/${b}`;
  }
  if (r < 0.4) {
    const f = pick(ifaces.filter((i) => i.name.startsWith('v')));
    if (!f) return 'nothing (no veth)';
    tryIp('-n', f.ns, 'link', 'del', f.name);
    // Its peer goes with it.
    const gone = (i: Iface) =>
      (i.ns === f.ns && i.name === f.name) || (i.ns === f.peer?.ns && i.name === f.peer.name);
    ifaces = ifaces.filter((i) => !gone(i));
    return `veth del ${f.ns}/${f.name}`;
  }
  if (r < 0.48) {
    const br = freshName('br');
    if (!tryIp('-n', ns, 'link', 'add', br, 'type', 'bridge')) return 'bridge add failed';
    tryIp('-n', ns, 'link', 'set', br, 'up');
    ifaces.push({ ns, name: br });
    return `bridge ${ns}/${br}`;
  }
  if (r < 0.56) {
    // Enslave a veth end to a bridge of its namespace (or free it again).
    const bridges = ifaces.filter((i) => i.ns === ns && i.name.startsWith('br'));
    const port = pick(ifaces.filter((i) => i.ns === ns && i.name.startsWith('v')));
    const br = pick(bridges);
    if (!port || !br) return 'nothing (no bridge and port)';
    if (rand() < 0.75) {
      tryIp('-n', ns, 'link', 'set', port.name, 'master', br.name);
      return `${ns}/${port.name} master ${br.name}`;
    }
    tryIp('-n', ns, 'link', 'set', port.name, 'nomaster');
    return `${ns}/${port.name} nomaster`;
  }
  if (r < 0.7) {
    const f = pick(ifaces);
    if (!f) return 'nothing (no interface)';
    const cidr = `${net}.${Math.floor(rand() * 250)}.${1 + Math.floor(rand() * 250)}/24`;
    if (!tryIp('-n', f.ns, 'addr', 'add', cidr, 'dev', f.name)) return `addr add ${cidr} failed`;
    addresses.push({ ...f, cidr });
    return `addr add ${cidr} dev ${f.ns}/${f.name}`;
  }
  if (r < 0.76) {
    const a = pick(addresses);
    if (!a) return 'nothing (no address)';
    addresses.splice(addresses.indexOf(a), 1);
    tryIp('-n', a.ns, 'addr', 'del', a.cidr, 'dev', a.name);
    return `addr del ${a.cidr} dev ${a.ns}/${a.name}`;
  }
  if (r < 0.86) {
    const f = pick(ifaces);
    if (!f) return 'nothing (no interface)';
    if (rand() < 0.3) {
      const old = pick(routes);
      if (!old) return 'nothing (no route)';
      routes.splice(routes.indexOf(old), 1);
      tryIp('-n', old.ns, 'route', 'del', old.dst, 'dev', old.name);
      return `route del ${old.dst} dev ${old.ns}/${old.name}`;
    }
    const dst = `10.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}.0/24`;
    if (!tryIp('-n', f.ns, 'route', 'add', dst, 'dev', f.name)) return `route add ${dst} failed (link down?)`;
    routes.push({ ...f, dst });
    return `route add ${dst} dev ${f.ns}/${f.name}`;
  }
  if (r < 0.94 || !docker) {
    const f = pick(ifaces);
    if (!f) return 'nothing (no interface)';
    const state = rand() < 0.5 ? 'down' : 'up';
    tryIp('-n', f.ns, 'link', 'set', f.name, state);
    return `link set ${f.ns}/${f.name} ${state}`;
  }
  if (container === undefined) {
    container = `${prefix}c`;
    trySh('docker', ['run', '-d', '--name', container, TEST_IMAGE, 'sleep', '100000']);
    return `docker run ${container}`;
  }
  trySh('docker', ['rm', '-f', container]);
  const gone = container;
  container = undefined;
  return `docker rm ${gone}`;
}

before(() => {
  if (docker) {
    ensureDockerImage();
    tracker = createEngineTracker();
  }
  full = new FullSide();
});

after(async () => {
  if (container) trySh('docker', ['rm', '-f', container]);
  for (const n of [...namespaces]) netnsDelete(n);
  tracker?.close();
  await closeDiscovery();
  await full.close();
});

test(`incremental discovery equals a full discovery after each of ${STEPS} random changes`, async (t) => {
  t.diagnostic(`seed ${seed} (replay: WIRESCOPE_TEST_SEED=${seed}), prefix ${prefix}, docker ${docker}`);
  addNamespace();
  addNamespace();
  await incremental('record');
  await agree('the start');
  const done: string[] = [];
  for (let i = 0; i < STEPS; i++) {
    const what = step();
    done.push(what);
    try {
      await agree(`step ${i + 1}: ${what}`);
    } catch (e) {
      assert.fail(`${(e as Error).message}\nsteps so far:\n  ${done.join('\n  ')}`);
    }
  }
  // The model of the last step still names the right interfaces: a sanity check of the test itself.
  const last = await incremental('reuse');
  const names = new Set<string>();
  for (const ino of mine(last))
    for (const f of last.networks[String(ino)]?.interfaces ?? []) names.add(f.name);
  for (const f of ifaces) if (namespaces.includes(f.ns)) assert.ok(names.has(f.name), `${f.name} is listed`);
  ip('netns', 'list');
});
