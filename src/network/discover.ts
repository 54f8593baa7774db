/**
 * The network stage: for every network namespace the namespace stage found,
 * read its complete network configuration in-process (rtnetlink + sock_diag
 * on worker threads, see worker.ts) and resolve every wire between
 * namespaces (wires.ts). Namespaces that cannot be read get a warning; all
 * others are complete. Tenants and forwarded ports are filled by later stages.
 */
import { opendirSync, statSync } from 'node:fs';
import { FD_SHARE, fdShare, raiseNofile } from '../kernel/rlimit.js';
import type { Draft } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';
import { type FdScan, ProcLookup, resolveOwners, scanFdOwners } from './owners.js';
import { WorkerPool } from './pool.js';
import type { DumpOptions, NsDump, NsJob } from './types.js';
import { getOrInit } from './util.js';
import { applyWires, candidateQueries, deriveReverse, type NsidMap, unresolvedNsids } from './wires.js';

export interface NetworkOptions {
  /** Read sockets via sock_diag and their owners via /proc (default true). */
  sockets?: boolean;
  /** Read neighbour tables (default true). */
  neighbours?: boolean;
  /** Read policy routing rules (default true). */
  rules?: boolean;
  /**
   * Keep netlink sockets per namespace open between discoveries, so warm runs
   * skip setns (default true). The cache holds namespaces the scan no longer
   * sees for at most one discovery; `closeNetworkDiscovery()` releases all.
   */
  cache?: boolean;
  /** Upper bound of cached namespaces (default: what RLIMIT_NOFILE allows, 5 fds each, 11 with `netfilter`). */
  cacheLimit?: number;
  /** Worker threads (default: 2, or 1 on a single CPU); applies when the pool starts. */
  workers?: number;
  /**
   * A one-shot discovery: when the scan found fewer network namespaces than this, and no
   * pool runs yet, they are dumped on the calling thread and no worker starts (its start
   * costs more than a small host's whole dump; the result is the same). Default 0: workers.
   */
  inlineBelow?: number;
  /** procfs root for fdinfo, owners' stat and the fallback fd scan (tests). */
  procRoot?: string;
  /**
   * Incremental discovery (ARCHITECTURE.md "Incremental discovery"): 'record' keeps each
   * namespace's result; 'reuse' also reuses the kept result of every namespace whose rtnetlink
   * monitor saw no change since, without dumping it. Absent: neither (one-shot commands).
   */
  incremental?: 'record' | 'reuse';
  /** Discoveries follow (default true): cached namespaces get change monitors (DumpOptions.track). */
  track?: boolean;
  /** Tell which namespaces hold no netfilter NAT state (DumpOptions.netfilter, NetworkResult.natFree; default false). */
  netfilter?: boolean;
}

export interface NetworkResult {
  networks: Record<string, Draft.NetworkNamespace>;
  warnings: Draft.Warning[];
  /** Namespaces whose previous result was reused (incremental 'reuse'); all others were dumped. */
  reused: Set<number>;
  /** NetworkOptions.netfilter: namespaces dumped this run that held no nf_tables table and no legacy nat table. */
  natFree: Set<number>;
}

let pool: WorkerPool | undefined;
/** (X, nsid) → Y, valid while both X and Y are held by cached sockets (see wires.ts). */
const nsidCache: NsidMap = new Map();
/**
 * (X, nsid) pairs no scanned namespace answered to: valid while X stays held
 * and no namespace joins the set of namespaces read (only a new one could be
 * the answer — or one whose dump failed last time).
 */
const nsidMisses = new Map<number, Set<number>>();
let lastScanned = new Set<number>();

let nofile: number | undefined;

/** Releases every cached namespace socket and stops the workers. */
export async function closeNetworkDiscovery(): Promise<void> {
  const p = pool;
  pool = undefined;
  nsidCache.clear();
  nsidMisses.clear();
  lastScanned = new Set();
  if (p) await p.close();
}

/**
 * Starts the namespace workers ahead of the dump: a worker's start (its own
 * V8 isolate and modules) then overlaps the namespace scan. Idempotent.
 */
export function prepareNetworkDiscovery(options: NetworkOptions = {}): void {
  // A one-shot discovery decides after the scan whether a worker is worth its start, unless the
  // named namespaces alone already call for the workers: then they start now, during the scan.
  const below = options.inlineBelow ?? 0;
  if (pool === undefined && below > 0) {
    if (!namedNetnsAtLeast(below)) return;
    pool = new WorkerPool(options.workers, undefined, youngMb(options));
    pool.warm(true);
    return;
  }
  pool ??= new WorkerPool(options.workers, undefined, youngMb(options));
  pool.warm();
}

/** Workers' young generation (WorkerPool): a one-shot discovery (no tracking) trades RSS for less GC. */
const youngMb = (options: NetworkOptions): number => (options.track === false ? 32 : 4);

/** Whether /run/netns (iproute2's named namespaces) holds at least `n` entries; reads no more. */
function namedNetnsAtLeast(n: number): boolean {
  try {
    const dir = opendirSync('/run/netns');
    try {
      let seen = 0;
      while (seen < n && dir.readSync() !== null) seen++;
      return seen >= n;
    } finally {
      dir.closeSync();
    }
  } catch {
    return false; // no named namespaces
  }
}

function ownNetns(): number | undefined {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return undefined;
  }
}

/** Paths that open a namespace: its ref first, then its processes, bind mounts and fd holders. */
export function namespaceRefs(ns: Draft.Namespace): string[] {
  const refs: string[] = [];
  const add = (r: string | undefined) => {
    if (r && !refs.includes(r)) refs.push(r);
  };
  add(ns.ref);
  for (const pid of ns.processes.slice(0, 3)) add(`/proc/${pid}/ns/net`);
  for (const b of ns.bindMounts) add(b.reachablePath);
  for (const f of ns.fds.slice(0, 2)) add(`/proc/${f.pid}/fd/${f.fd}`);
  return refs;
}

export async function discoverNetworks(
  scan: NamespaceScan,
  options: NetworkOptions = {},
  /**
   * The engine stage, when it runs alongside: socket owners are attached once it has set
   * `Process.container` on the scan's processes (the dump does not wait for it).
   */
  engineStage?: Promise<unknown>,
): Promise<NetworkResult> {
  const warnings: Draft.Warning[] = [];
  const dumpOptions: DumpOptions = {
    sockets: options.sockets !== false,
    neighbours: options.neighbours !== false,
    rules: options.rules !== false,
    track: options.track !== false,
    ...(options.netfilter ? { netfilter: true } : {}),
  };
  const self = ownNetns();
  const initial = scan.initial.net ?? self;
  const jobs: NsJob[] = [];
  const refs = new Map<number, string>();
  for (const ns of Object.values(scan.namespaces)) {
    if (ns.type !== 'net') continue;
    const r = namespaceRefs(ns);
    if (r.length === 0) {
      warnings.push({
        code: 'netns-unreachable',
        message: `network namespace ${ns.ino} has no path to open it`,
        ns: ns.ino,
      });
      continue;
    }
    refs.set(ns.ino, r[0] as string);
    jobs.push({ ino: ns.ino, ref: r[0] as string, altRefs: r.slice(1), host: ns.ino === self });
  }

  if (nofile === undefined) nofile = raiseNofile();
  const cacheLimit =
    options.cache === false
      ? 0
      : // 5 fds per namespace, 3 more with netfilter (the forwarded-port reads), within the
        // network stage's share of the limit (the decorator's own caches have theirs: FD_SHARE).
        (options.cacheLimit ??
        Math.min(16384, Math.floor(fdShare(FD_SHARE.network, nofile) / (dumpOptions.netfilter ? 8 : 5))));
  if (pool === undefined)
    pool =
      jobs.length < (options.inlineBelow ?? 0)
        ? new WorkerPool(1, (await import('./handler.js')).handleRequest)
        : new WorkerPool(options.workers, undefined, youngMb(options));
  const reused = new Set<number>();
  const dumping = pool.dump(
    jobs,
    dumpOptions,
    cacheLimit,
    options.incremental ? { mode: options.incremental, reused } : undefined,
  );
  // Owners come from the namespace stage's readlink pass over /proc/*/fd (only the tun fds' fdinfo
  // is read here); a scan made without it gets one full fd scan of its own. Either runs on this
  // thread while the workers dump.
  const procRoot = options.procRoot ?? '/proc';
  const lookup = new ProcLookup(scan.processes, procRoot);
  const fds: FdScan | undefined = dumpOptions.sockets
    ? resolveOwners(scan.fdOwners ?? scanFdOwners(procRoot), lookup, procRoot)
    : undefined;
  const { dumps, warnings: dumpWarnings } = await dumping;
  warnings.push(...dumpWarnings);

  // Misses stay valid only while no namespace joins the set of those read completely.
  const scanned = new Set(dumps.filter((d) => !d.failed).map((d) => d.ino));
  for (const ino of scanned) {
    if (!lastScanned.has(ino)) {
      nsidMisses.clear();
      break;
    }
  }
  lastScanned = scanned;
  await resolveNsids(pool, dumps, refs, warnings);
  applyWires(dumps, nsidCache);

  if (fds) attachTapHolders(dumps, fds, lookup);
  // Its failure is the caller's to report; owners then go without containers.
  await engineStage?.catch(() => undefined);

  const networks: Record<string, Draft.NetworkNamespace> = {};
  const natFree = new Set<number>();
  for (const d of dumps) {
    warnings.push(...d.warnings);
    if (d.failed) continue;
    // A reused result's flag is as old as its kept text: only this run's reads count.
    if (d.natFree && !reused.has(d.ino)) natFree.add(d.ino);
    if (fds) attachOwners(d, fds, lookup);
    const nsids: Record<string, number> = {};
    const map = nsidCache.get(d.ino);
    for (const c of d.cross) {
      const y = map?.get(c.nsid);
      if (y !== undefined) nsids[String(c.nsid)] = y;
    }
    const net: Draft.NetworkNamespace = {
      ino: d.ino,
      isInitial: d.ino === initial,
      interfaces: d.interfaces,
      routes: d.routes,
      rules: d.rules,
      neighbours: d.neighbours,
      sockets: d.sockets,
      forwardedPorts: [],
      tenants: [],
      nsids,
    };
    if (d.forwarding) net.forwarding = d.forwarding;
    networks[String(d.ino)] = net;
  }
  pruneNsidCache(dumps);
  return { networks, warnings, reused, natFree };
}

/** Maps every reported (namespace, nsid) to a namespace inode, asking the kernel only as needed. */
async function resolveNsids(
  p: WorkerPool,
  dumps: NsDump[],
  refs: Map<number, string>,
  warnings: Draft.Warning[],
): Promise<void> {
  // Never ask X about a namespace whose nsid in X is already known: an nsid, once assigned,
  // stays while both live, so that namespace cannot be the answer for another nsid. ("No nsid
  // yet" is not remembered: the kernel may assign one later.)
  const asked = new Map<number, Set<number>>();
  for (const [x, m] of nsidCache) asked.set(x, new Set(m.values()));
  // Round 1 asks only from the higher inode of a symmetric pair (the other direction follows
  // from the veth pairing), round 2 asks what is left, round 3 tries non-veth lower devices.
  const rounds: [1 | 2, boolean][] = [
    [1, true],
    [1, false],
    [2, false],
  ];
  for (const [pass, halve] of rounds) {
    deriveReverse(dumps, nsidCache);
    const unresolved = unresolvedNsids(dumps, nsidCache);
    for (const [x, ns] of unresolved) {
      const miss = nsidMisses.get(x);
      if (miss) for (const n of miss) ns.delete(n);
      if (ns.size === 0) unresolved.delete(x);
    }
    if (unresolved.size === 0) break;
    const queries = candidateQueries(dumps, unresolved, refs, asked, pass, halve);
    if (queries.length === 0) continue;
    const r = await p.nsids(queries);
    warnings.push(...r.warnings);
    for (const a of r.answers) {
      const m = getOrInit(nsidCache, a.ino, () => new Map());
      for (const [nsid, y] of a.found) m.set(nsid, y);
    }
  }
  deriveReverse(dumps, nsidCache);
  for (const [x, ns] of unresolvedNsids(dumps, nsidCache)) {
    const miss = getOrInit(nsidMisses, x, () => new Set<number>());
    for (const n of ns) miss.add(n);
  }
}

/**
 * Keeps only mappings between namespaces whose sockets stay cached: only those
 * are guaranteed to be the same namespaces (with the same nsids) next time.
 */
function pruneNsidCache(dumps: NsDump[]): void {
  const held = new Set<number>();
  for (const d of dumps) if (d.cached) held.add(d.ino);
  for (const [x, m] of nsidCache) {
    if (!held.has(x)) {
      nsidCache.delete(x);
      continue;
    }
    for (const [n, y] of m) if (!held.has(y)) m.delete(n);
  }
  for (const x of nsidMisses.keys()) if (!held.has(x)) nsidMisses.delete(x);
}

function attachOwners(d: NsDump, fds: FdScan, lookup: ProcLookup): void {
  for (const s of d.sockets) {
    const holders = fds.sockets.get(s.inode);
    if (!holders) continue;
    const seen = new Set<number>();
    for (let i = 0; i < holders.length; i += 2) {
      const pid = holders[i] as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      const p = lookup.get(pid);
      if (!p) continue;
      const owner: Draft.Socket['owners'][number] = {
        pid,
        starttime: p.starttime,
        comm: p.comm,
        cmdline: p.cmdline,
      };
      if (p.cmdlineTruncated) owner.cmdlineTruncated = true;
      if (p.container) owner.container = p.container;
      s.owners.push(owner);
    }
  }
}

/**
 * A tun/tap device lives in the namespace where /dev/net/tun was opened; fdinfo
 * only names it. So a holder is matched to the tun device of that name in the
 * holder's current namespace, else to the only tun device of that name anywhere.
 */
function attachTapHolders(dumps: NsDump[], fds: FdScan, lookup: ProcLookup): void {
  if (fds.tuns.length === 0) return;
  const byName = new Map<string, Draft.Interface[]>();
  for (const d of dumps) {
    for (const f of d.interfaces) {
      if (!f.tuntap) continue;
      const l = getOrInit(byName, f.name, () => []);
      l.push(f);
    }
  }
  for (const t of fds.tuns) {
    const cands = byName.get(t.iff);
    if (!cands) continue;
    const p = lookup.get(t.pid);
    if (!p) continue;
    const iface = cands.find((f) => f.netns === p.netns) ?? (cands.length === 1 ? cands[0] : undefined);
    if (!iface?.tuntap) continue;
    iface.tuntap.holders.push({ pid: t.pid, starttime: p.starttime, comm: p.comm, fd: t.fd });
  }
}
