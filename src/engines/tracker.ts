/**
 * The event-tracked engine cache: engines are found in each discovery's
 * process scan, synced once (list + event stream) and then answered from
 * their clients' caches, so a warm discovery costs no engine round trips.
 * New engines are synced in parallel and delay a discovery by at most the
 * sync budget (~2 s); engines that hang, die or lose their socket become
 * warnings, never a blocked discovery.
 */
import { readFileSync, statSync } from 'node:fs';
import { processKey } from '../model/ids.js';
import type { Draft } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';
import { type ActivatedSocket, findActivatedService, findActivatedSockets } from './activated.js';
import { detectEngine, type EngineCandidate, engineTypeOf, isCandidate } from './detect.js';
import { LazyClient } from './lazy.js';
import {
  containerOfProcesses,
  PidTranslator,
  parseBootTime,
  processStartMs,
  START_TOLERANCE_MS,
} from './relate.js';
import type { ContainerSource, EngineNetworks, Workloads } from './source.js';
import { checkEngineTrust, trustedUidsFromEnv } from './trust.js';
import { type CachedContainer, type EngineClient, errorMessage, withTimeout } from './types.js';

export interface EngineTrackerOptions {
  /** procfs root (default /proc). */
  procRoot?: string;
  /** How long a discovery waits for newly found engines (default 2000 ms). */
  syncBudgetMs?: number;
  /**
   * Per-request deadline against an engine API (default 10000 ms). It bounds the background sync
   * only: a discovery waits at most syncBudgetMs for it. podman's /version alone took 2.5 s on a
   * loaded 2-core host, so a tighter deadline made a slow but healthy engine look unreachable.
   */
  requestTimeoutMs?: number;
  /** Give up an engine's initial sync after this long (default 20000 ms). */
  syncTimeoutMs?: number;
  /** Wait before retrying an engine whose sync failed (default 5000 ms). */
  retryMs?: number;
  /**
   * Uids besides root whose engine sockets are trusted (default: the list in
   * WIRESCOPE_TRUST_ENGINE_UIDS, comma-separated). See trust.ts.
   */
  trustUids?: readonly number[];
}

interface Tracked {
  id: string;
  cand: EngineCandidate;
  /** Parent process is a dockerd: its containerd's "moby" namespace duplicates dockerd's containers. */
  dockerOwned: boolean;
  client: EngineClient | undefined;
  /** untrusted: its socket's owner is not trusted; skipped from the engines (see trust.ts). */
  status: 'syncing' | 'ready' | 'failed' | 'untrusted';
  sync: Promise<void> | undefined;
  syncStarted: number;
  error: string | undefined;
  failedAt: number;
  /** A background retry after a failure is under way; `error` is the last failure. */
  retrying: boolean;
  /**
   * The previous client while a re-sync after a lost event stream runs: its
   * cache is the last known state, shown (with a warning) until the re-sync ends.
   */
  stale: EngineClient | undefined;
  /**
   * Set for an engine found by its socket-activated listening socket
   * (activated.ts): tracked by that socket, its pid is the activator's until
   * the service it started is found.
   */
  activated?: { inode: number; activator: number };
}

/** A newly found engine, its first sync about to start. */
const syncing = (id: string, cand: EngineCandidate, now: number, dockerOwned: boolean): Tracked => ({
  id,
  cand,
  dockerOwned,
  client: undefined,
  status: 'syncing',
  sync: undefined,
  syncStarted: now,
  error: undefined,
  failedAt: 0,
  retrying: false,
  stale: undefined,
});

export interface EngineTracker extends ContainerSource {
  /** Stops every event stream and client; the tracker can still be used (it re-syncs). */
  close(): void;
  /**
   * Calls `listener` whenever an engine's cache changed between discoveries
   * (an event or poll was applied, or a slow engine finished its sync), so a
   * service can discover again. Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void;
}

export function createEngineTracker(options: EngineTrackerOptions = {}): EngineTracker {
  return new Tracker(options);
}

class Tracker implements EngineTracker {
  private readonly procRoot: string;
  private readonly budget: number;
  private readonly reqTimeout: number;
  private readonly syncTimeout: number;
  private readonly retryMs: number;
  private readonly trustUids: ReadonlySet<number>;
  private readonly tracked = new Map<string, Tracked>();
  private lastNetworks: EngineNetworks[] = [];
  private readonly listeners = new Set<() => void>();
  private bootTime: number | undefined;
  private selfMntns: number | undefined;

  constructor(o: EngineTrackerOptions) {
    this.procRoot = o.procRoot ?? '/proc';
    this.budget = o.syncBudgetMs ?? 2000;
    this.reqTimeout = o.requestTimeoutMs ?? 10_000;
    this.syncTimeout = o.syncTimeoutMs ?? 20_000;
    this.retryMs = o.retryMs ?? 5000;
    this.trustUids = new Set(o.trustUids ?? trustedUidsFromEnv(process.env));
    try {
      this.bootTime = parseBootTime(readFileSync(`${this.procRoot}/stat`, 'utf8'));
    } catch {
      this.bootTime = undefined;
    }
    try {
      this.selfMntns = statSync(`${this.procRoot}/self/ns/mnt`).ino;
    } catch {
      this.selfMntns = undefined;
    }
  }

  close(): void {
    for (const t of this.tracked.values()) t.client?.close();
    this.tracked.clear();
  }

  networks(): EngineNetworks[] {
    return this.lastNetworks;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // A listener's failure is its own; the tracker goes on.
      }
    }
  }

  async snapshot(scan: NamespaceScan): Promise<Workloads> {
    const warnings: Draft.Warning[] = [];
    const now = Date.now();
    const seen = new Set<string>();

    // 0. Listening podman sockets an activator holds (activated.ts), tracked by socket.
    const act = findActivatedSockets(scan, this.procRoot, this.selfMntns);
    warnings.push(...act.warnings);
    /** Podman services started through a socket this tracker follows as activated. */
    const activatedServices = new Set<number>();
    for (const t of this.tracked.values()) if (t.activated) activatedServices.add(t.cand.pid);
    for (const a of act.sockets) {
      if (a.service && this.tracked.has(activatedKey(a))) activatedServices.add(a.service.pid);
    }

    // 1. Engines in this scan; each engine process is probed for its socket once.
    for (const p of Object.values(scan.processes)) {
      const type = engineTypeOf(p);
      if (!type) continue;
      if (type === 'podman' && activatedServices.has(p.pid)) continue;
      const key = processKey(p.pid, p.starttime);
      seen.add(key);
      if (this.tracked.has(key)) continue;
      const r = detectEngine(p, type, this.procRoot, this.selfMntns);
      if (!isCandidate(r)) {
        warnings.push(r);
        seen.delete(key); // probe again next time: the socket may not be bound yet
        continue;
      }
      const parent = scan.processes[p.ppid];
      const t = syncing(`${type}-${p.pid}`, r, now, type === 'containerd' && parent?.comm === 'dockerd');
      this.tracked.set(key, t);
      this.startSync(t);
    }

    // 1b. Socket-activated podman: connecting starts the service (and the trust check connects first).
    for (const a of act.sockets) {
      const key = activatedKey(a);
      const known = this.tracked.get(key);
      if (known) {
        seen.add(key);
        if (a.service && known.cand.pid !== a.service.pid) {
          // The activator started a new service (the previous one exited).
          known.cand = { ...known.cand, pid: a.service.pid, starttime: a.service.starttime };
        }
        continue;
      }
      if (a.service) continue; // running already: step 1 found it by its process
      seen.add(key);
      const t: Tracked = {
        ...syncing(
          `podman-${a.activator.pid}`,
          {
            type: 'podman',
            pid: a.activator.pid,
            starttime: a.activator.starttime,
            socket: a.socket,
            api: a.api,
          },
          now,
          false,
        ),
        activated: { inode: a.inode, activator: a.activator.pid },
      };
      this.tracked.set(key, t);
      this.startSync(t);
    }

    // 2. Engines gone from the process table (died or restarted under a new PID).
    for (const [key, t] of this.tracked) {
      if (!seen.has(key)) {
        t.client?.close();
        this.tracked.delete(key);
      }
    }

    // 3. Re-sync engines whose event stream broke; retry failed ones in the background.
    for (const t of this.tracked.values()) {
      if (t.status === 'ready' && t.client?.broken) {
        warnings.push({
          code: 'engine-resync',
          message: `${t.id}: event stream lost (${errorMessage(t.client.broken)}); re-syncing`,
          engine: t.id,
          pid: t.cand.pid,
        });
        const previous = t.client;
        this.startSync(t);
        t.stale = previous;
      } else if ((t.status === 'failed' || t.status === 'untrusted') && now - t.failedAt >= this.retryMs) {
        const last = t.error;
        this.startSync(t);
        if ((t.status as Tracked['status']) === 'syncing') {
          t.syncStarted = 0; // a retry runs in the background; it does not hold up discoveries
          t.retrying = true;
          t.error = last;
        }
      }
    }

    // 4. Wait for syncs under way, each at most until its budget (from its start) ends.
    //    A client's module loads within its engine's budget (see LazyClient).
    const waits: Promise<unknown>[] = [];
    for (const t of this.tracked.values()) {
      if (t.status !== 'syncing' || !t.sync) continue;
      const left = t.syncStarted + this.budget - Date.now();
      if (left > 0) waits.push(Promise.race([t.sync, delay(left)]));
    }
    await Promise.all(waits);

    return this.build(scan, warnings);
  }

  private startSync(t: Tracked): void {
    t.client?.close();
    t.status = 'syncing';
    t.syncStarted = Date.now();
    t.error = undefined;
    t.retrying = false;
    t.stale = undefined;
    // Whom the socket belongs to, checked before the first byte is sent (and on every retry).
    const verdict = checkEngineTrust(t.cand, this.trustUids);
    if (verdict !== undefined) {
      t.client = undefined;
      t.status = verdict.untrusted ? 'untrusted' : 'failed';
      t.error = verdict.message;
      t.failedAt = Date.now();
      t.sync = undefined;
      return;
    }
    const opts = { api: t.cand.api, timeoutMs: this.reqTimeout };
    // The client's module loads with its first sync: gRPC (containerd, CRI) only where such an engine runs.
    const type = t.cand.type;
    const skipNamespaces = t.dockerOwned ? ['moby'] : [];
    const client = new LazyClient(async () => {
      switch (type) {
        case 'docker':
          return new (await import('./docker.js')).DockerClient(opts);
        case 'podman':
          return new (await import('./podman.js')).PodmanClient(opts);
        case 'containerd':
          return new (await import('./containerd.js')).ContainerdClient({ ...opts, skipNamespaces });
        case 'crio':
          return new (await import('./cri.js')).CriClient(opts);
      }
    });
    t.client = client;
    client.onChange = () => {
      if (t.client === client) this.notify();
    };
    const sync = withTimeout(client.start(), this.syncTimeout, `${t.id} at ${t.cand.api}`).then(
      () => {
        if (t.client !== client) return;
        if (t.activated) {
          // The connection started the service: it is the engine from now on.
          const svc = findActivatedService(this.procRoot, t.activated.activator, t.activated.inode);
          if (svc) {
            t.cand = { ...t.cand, pid: svc.pid, starttime: svc.starttime };
            t.id = `podman-${svc.pid}`;
          }
        }
        t.status = 'ready';
        t.retrying = false;
        t.error = undefined;
        t.stale = undefined;
        // Discoveries went out without this engine: tell the service they are stale.
        if (Date.now() > t.syncStarted + this.budget) this.notify();
      },
      (e: unknown) => {
        if (t.client !== client) return;
        client.close();
        t.status = 'failed';
        t.retrying = false;
        t.stale = undefined;
        t.error = errorMessage(e);
        t.failedAt = Date.now();
      },
    );
    t.sync = sync;
  }

  private build(scan: NamespaceScan, warnings: Draft.Warning[]): Workloads {
    const engines: Record<string, Draft.Engine> = {};
    const containers: Record<string, Draft.Container> = {};
    const groups: Record<string, Draft.Group> = {};
    const translator = new PidTranslator(scan.processes);
    const initPids = new Map<number, string>();
    const engineOfKey = new Map<string, string>();
    const networks: EngineNetworks[] = [];
    /** PID namespace → the one container whose initial process heads it (null: shared, ambiguous). */
    const pidnsOwners = new Map<number, string | null>();

    const ready = [...this.tracked.values()].sort((a, b) => a.cand.pid - b.cand.pid);
    // Docker container ids, to drop their duplicates from any containerd's "moby" namespace.
    const dockerIds = new Set<string>();
    for (const t of ready) {
      const c = t.status === 'ready' ? t.client : t.status === 'syncing' ? t.stale : undefined;
      if (t.cand.type === 'docker' && c) for (const id of c.containers.keys()) dockerIds.add(id);
    }

    for (const t of ready) {
      if (t.status === 'untrusted') {
        warnings.push({
          code: 'engine-untrusted',
          message: t.error ?? `${t.id}: untrusted`,
          engine: t.id,
          pid: t.cand.pid,
        });
        continue;
      }
      const e: Draft.Engine = {
        id: t.id,
        type: t.cand.type,
        api: t.cand.api,
        pid: t.cand.pid,
        starttime: t.cand.starttime,
      };
      engines[t.id] = e;
      if (t.status === 'syncing' && t.retrying) {
        warnings.push({
          code: 'engine-unreachable',
          message: `${t.id} at ${t.cand.api}: ${t.error ?? 'not connected'} (retrying)`,
          engine: t.id,
          pid: t.cand.pid,
        });
        continue;
      }
      if (t.status === 'syncing' && t.stale) {
        warnings.push({
          code: 'engine-stale',
          message: `${t.id} at ${t.cand.api}: re-sync still running; its containers are as last known`,
          engine: t.id,
          pid: t.cand.pid,
        });
      } else if (t.status === 'syncing') {
        warnings.push({
          code: 'engine-sync-pending',
          message: `${t.id} at ${t.cand.api}: no answer within ${this.budget} ms; its containers are missing from this discovery`,
          engine: t.id,
          pid: t.cand.pid,
        });
        continue;
      }
      const client = t.status === 'syncing' ? t.stale : t.client;
      if (t.status === 'failed' || !client) {
        warnings.push({
          code: 'engine-unreachable',
          message: `${t.id} at ${t.cand.api}: ${t.error ?? 'not connected'}`,
          engine: t.id,
          pid: t.cand.pid,
        });
        continue;
      }
      if (client.version) e.version = client.version;
      networks.push({ engine: t.id, type: t.cand.type, pid: t.cand.pid, networks: client.networks });
      // A service activated after this scan is not in it yet: its activator shares its PID namespace.
      const engineProc =
        scan.processes[t.cand.pid] ?? (t.activated ? scan.processes[t.activated.activator] : undefined);
      const podOf = new Map<string, string>();
      for (const pod of client.pods) for (const cid of pod.containers) podOf.set(cid, pod.id);

      for (const c of client.containers.values()) {
        if (c.namespace === 'moby' && dockerIds.has(c.id)) continue;
        const key = containerKey(t.id, c);
        const out: Draft.Container = {
          id: c.id,
          name: c.name,
          type: c.type,
          engine: t.id,
          state: c.state,
          labels: { ...c.labels },
          privileged: c.privileged,
          groups: [],
        };
        if (c.image) out.image = c.image;
        if (c.namespace !== undefined) out.namespace = c.namespace;
        if (c.aliases)
          out.networkAliases = Object.fromEntries(Object.entries(c.aliases).map(([k, v]) => [k, [...v]]));
        const pod = c.pod ?? podOf.get(c.id);
        this.relateProcess(c, out, engineProc, translator, scan, warnings, t.id);
        if (out.pid !== undefined) {
          initPids.set(out.pid, key);
          const pidns = scan.processes[String(out.pid)]?.namespaces.pid;
          // A container with a PID namespace of its own owns every process in it,
          // also those not descending from its initial process (`docker exec`).
          if (pidns !== undefined && pidns !== engineProc?.namespaces.pid) {
            pidnsOwners.set(pidns, pidnsOwners.has(pidns) ? null : key);
          }
        }
        containers[key] = out;
        engineOfKey.set(key, t.id);
        addGroups(groups, key, out, t.id, pod, client.pods);
      }
    }

    // Engines inside containers, and their containers' prefixes (outer/inner).
    const owner = containerOfProcesses(scan.processes, initPids);
    for (const [pid, c] of owner) {
      if (c !== null) continue;
      const pidns = scan.processes[String(pid)]?.namespaces.pid;
      const byNs = pidns !== undefined ? pidnsOwners.get(pidns) : undefined;
      if (byNs) owner.set(pid, byNs);
    }
    for (const t of ready) {
      const c = owner.get(t.cand.pid);
      if (c) {
        const e = engines[t.id];
        if (e) e.container = c;
      }
    }
    const prefixMemo = new Map<string, string | undefined>();
    const prefixOfEngine = (engineId: string, depth: number): string | undefined => {
      if (prefixMemo.has(engineId)) return prefixMemo.get(engineId);
      const enclosing = engines[engineId]?.container;
      let prefix: string | undefined;
      if (enclosing && depth < 32) {
        const outer = containers[enclosing];
        const outerEngine = engineOfKey.get(enclosing);
        const outerPrefix = outerEngine ? prefixOfEngine(outerEngine, depth + 1) : undefined;
        const name = outer?.name ?? enclosing;
        prefix = outerPrefix ? `${outerPrefix}/${name}` : name;
      }
      prefixMemo.set(engineId, prefix);
      return prefix;
    };
    for (const c of Object.values(containers)) {
      const p = prefixOfEngine(c.engine, 0);
      if (p) c.prefix = p;
    }
    for (const [pid, c] of owner) {
      const proc = scan.processes[pid];
      if (proc && c) proc.container = c;
    }

    this.lastNetworks = networks;
    return { containers, engines, groups, warnings };
  }

  /** Sets pid, starttime and netns when the engine's PID maps to the same, still-living process. */
  private relateProcess(
    c: CachedContainer,
    out: Draft.Container,
    engineProc: Draft.Process | undefined,
    translator: PidTranslator,
    scan: NamespaceScan,
    warnings: Draft.Warning[],
    engineId: string,
  ): void {
    if (c.pid === undefined || !engineProc) return;
    const hostPid = translator.toHost(engineProc, c.pid);
    const proc = hostPid !== undefined ? scan.processes[hostPid] : undefined;
    if (!proc) {
      warnings.push({
        code: 'container-process-missing',
        message: `${engineId}: container ${c.name} reports PID ${c.pid}, which the process scan does not have`,
        engine: engineId,
      });
      return;
    }
    if (c.startedAt !== undefined && this.bootTime !== undefined) {
      const started = processStartMs(this.bootTime, proc.starttime);
      if (started > c.startedAt + START_TOLERANCE_MS) {
        warnings.push({
          code: 'container-pid-reused',
          message: `${engineId}: PID ${proc.pid} of container ${c.name} belongs to a younger process; not attached`,
          engine: engineId,
          pid: proc.pid,
        });
        return;
      }
    }
    out.pid = proc.pid;
    out.starttime = proc.starttime;
    if (proc.namespaces.net !== undefined) out.netns = proc.namespaces.net;
  }
}

/**
 * The key of a container in Discovery.containers (and Process.container,
 * Group.containers, Engine.container): Docker and podman ids are random 256-bit
 * hex, unique across engines and stable across engine restarts, so they are
 * the key as they are; containerd ids are chosen by clients and unique only
 * per containerd namespace, so they are scoped "<engine>/<namespace>/<id>".
 */
export function containerKey(engineId: string, c: Pick<CachedContainer, 'id' | 'namespace'>): string {
  return c.namespace !== undefined ? `${engineId}/${c.namespace}/${c.id}` : c.id;
}

export function addGroups(
  groups: Record<string, Draft.Group>,
  key: string,
  c: Draft.Container,
  engineId: string,
  podId: string | undefined,
  pods: readonly { id: string; name: string; labels: Record<string, string> }[],
): void {
  const add = (id: string, name: string, type: string, labels: Record<string, string>) => {
    let g = groups[id];
    if (!g) {
      g = { id, name, type, containers: [], labels };
      groups[id] = g;
    }
    g.containers.push(key);
    c.groups.push(id);
  };
  const project = c.labels['com.docker.compose.project'];
  if (project) {
    const labels: Record<string, string> = { 'com.docker.compose.project': project };
    for (const k of ['com.docker.compose.project.working_dir', 'com.docker.compose.project.config_files']) {
      const v = c.labels[k];
      if (v) labels[k] = v;
    }
    add(`compose/${engineId}/${project}`, project, 'com.docker.compose.project', labels);
  }
  const podName = c.labels['io.kubernetes.pod.name'];
  if (podName) {
    const ns = c.labels['io.kubernetes.pod.namespace'] ?? 'default';
    const uid = c.labels['io.kubernetes.pod.uid'] ?? `${ns}/${podName}`;
    const labels: Record<string, string> = {
      'io.kubernetes.pod.name': podName,
      'io.kubernetes.pod.namespace': ns,
    };
    if (c.labels['io.kubernetes.pod.uid']) labels['io.kubernetes.pod.uid'] = uid;
    add(`pod/${engineId}/${uid}`, `${ns}/${podName}`, 'io.kubernetes.pod', labels);
  }
  if (podId) {
    const pod = pods.find((p) => p.id === podId);
    add(`podman-pod/${engineId}/${podId}`, pod?.name ?? podId, 'io.podman.pod', { ...(pod?.labels ?? {}) });
  }
}

function activatedKey(a: ActivatedSocket): string {
  return `activated:${a.netns}:${a.inode}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
