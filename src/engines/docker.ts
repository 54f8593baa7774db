/**
 * Docker Engine API client (bounded HTTP over the engine's unix socket, http.ts), also
 * used for podman's Docker-compatible API (see podman.ts). Keeps a cache of
 * containers and networks current from the /events stream.
 */
import { setMaxListeners } from 'node:events';
import type Docker from 'dockerode';
import { type EventStream, getJson, openEventStream } from './http.js';
import type { CachedContainer, CachedNetwork, CachedPod, ContainerType, EngineClient } from './types.js';
import { MAX_INSPECTS, MAX_PENDING_INSPECTS, mapLimit } from './types.js';

export interface DockerClientOptions {
  /** Path of the API socket, reachable from wirescope's mount namespace. */
  api: string;
  /** Overall deadline of each request (the event stream: until its headers arrive). */
  timeoutMs: number;
}

/** The subset of an /events message the cache needs (Docker and podman spell keys differently). */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string };
}

/** Maps a container inspect document to the cache form; exported for unit tests over recorded JSON. */
export function containerFromInspect(
  info: Docker.ContainerInspectInfo,
  type: ContainerType,
): CachedContainer {
  const running = info.State?.Running === true || info.State?.Status === 'running';
  const pid = info.State?.Pid;
  const startedAt = info.State?.StartedAt ? Date.parse(info.State.StartedAt) : Number.NaN;
  const c: CachedContainer = {
    id: info.Id,
    name: (info.Name ?? '').replace(/^\//, ''),
    type,
    state: info.State?.Status ?? 'unknown',
    labels: sanitizeLabels(info.Config?.Labels),
    privileged: info.HostConfig?.Privileged === true,
  };
  if (running && typeof pid === 'number' && pid > 0) c.pid = pid;
  if (running && Number.isFinite(startedAt)) c.startedAt = startedAt;
  if (info.Config?.Image) c.image = info.Config.Image;
  const aliases = networkAliases(info.NetworkSettings?.Networks, info.Id);
  if (aliases) c.aliases = aliases;
  return c;
}

/** Aliases kept per network and in all: an engine's answer is bounded like any other input. */
const MAX_ALIASES = 32;

/**
 * The DNS aliases of each network endpoint. Docker (API < 1.45) lists the
 * container's short id among them; that is no name anybody chose, so it is left out.
 */
export function networkAliases(networks: unknown, id: string): Record<string, string[]> | undefined {
  if (typeof networks !== 'object' || networks === null) return undefined;
  const out: Record<string, string[]> = {};
  let total = 0;
  for (const [net, ep] of Object.entries(networks as Record<string, unknown>).slice(0, MAX_ALIASES)) {
    const raw = (ep as { Aliases?: unknown } | null)?.Aliases;
    if (!Array.isArray(raw)) continue;
    const names = raw
      .filter(
        (a): a is string => typeof a === 'string' && a.length > 0 && a.length <= 253 && !id.startsWith(a),
      )
      .slice(0, MAX_ALIASES - total);
    total += names.length;
    if (names.length > 0) out[net] = [...new Set(names)];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Labels must be string→string; anything else an engine sends is dropped, not coerced. */
export function sanitizeLabels(labels: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!labels || typeof labels !== 'object') return out;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>))
    if (typeof v === 'string') out[k] = v;
  return out;
}

export function dockerNetwork(n: Docker.NetworkInspectInfo): CachedNetwork {
  const opts = n.Options ?? {};
  const net: CachedNetwork = {
    engine: 'docker',
    name: n.Name,
    id: n.Id,
    driver: n.Driver,
    internal: n.Internal,
  };
  net.default = n.Name === 'bridge' || opts['com.docker.network.bridge.default_bridge'] === 'true';
  if (n.Driver === 'bridge') net.bridge = opts['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`;
  if ((n.Driver === 'macvlan' || n.Driver === 'ipvlan') && opts.parent) net.parent = opts.parent;
  return net;
}

/** "Docker/20.10.24+dfsg1 (linux)", "Libpod/4.3.1 (linux)" → the version; undefined for anything else. */
export function versionOfServer(server: string | undefined): string | undefined {
  const m = /^(?:Docker|Libpod)\/([0-9A-Za-z][0-9A-Za-z.+~_-]{0,63}) \(/.exec(server ?? '');
  return m?.[1];
}

export { JsonLines } from './http.js';

export { MAX_INSPECTS, MAX_PENDING_INSPECTS } from './types.js';

export class DockerClient implements EngineClient {
  version: string | undefined;
  readonly containers = new Map<string, CachedContainer>();
  networks: CachedNetwork[] = [];
  pods: CachedPod[] = [];
  broken: Error | undefined;
  onChange: (() => void) | undefined;

  private events: EventStream | undefined;
  /** Aborts every request in flight on close(), so a hanging engine holds no socket open. */
  protected readonly abort = new AbortController();
  private closed = false;
  /** Events that arrived while the initial list ran; applied after it. */
  private buffered: EngineEvent[] | undefined;
  /** Per-container event sequence, so a slow inspect never overwrites a newer state. */
  private readonly seq = new Map<string, number>();
  /** Bounds the inspects in flight (sync and events together). */
  private readonly inspects = new Limiter(MAX_INSPECTS);
  /** Containers with an event-driven inspect queued or running. */
  private readonly pending = new Set<string>();

  constructor(
    protected readonly opts: DockerClientOptions,
    protected readonly containerType: ContainerType = 'docker',
  ) {
    // One listener per request in flight (each is removed when its request ends):
    // MAX_INSPECTS inspects next to the events stream and list calls.
    setMaxListeners(64, this.abort.signal);
  }

  /** GET with the overall deadline and size cap of http.ts. */
  protected get(path: string): Promise<unknown> {
    return getJson(this.opts.api, path, { deadlineMs: this.opts.timeoutMs, signal: this.abort.signal });
  }

  protected eventOptions(): Record<string, string[]> | undefined {
    return { type: ['container', 'network'] };
  }

  async start(): Promise<void> {
    this.buffered = [];
    await this.subscribe();
    // Docker and podman name their version in every answer's Server header, from the same
    // constant as /version's "Version"; /version itself asks runc, containerd or conmon for
    // theirs (podman: seconds on a busy host), so it is asked only of an engine that sends none.
    this.version = versionOfServer(this.events?.server);
    if (this.version === undefined) {
      const v = await this.get('/version');
      this.version = isObject(v) && typeof v.Version === 'string' ? v.Version : undefined;
    }
    await Promise.all([this.syncContainers(), this.syncNetworks(), this.syncPods()]);
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    for (const ev of buffered) this.apply(ev);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    this.events?.close();
    this.events = undefined;
  }

  private async subscribe(): Promise<void> {
    const filters = this.eventOptions();
    const path = filters ? `/events?filters=${encodeURIComponent(JSON.stringify(filters))}` : '/events';
    const fail = (e: Error) => {
      if (!this.closed && !this.broken) this.broken = e;
    };
    const stream = await openEventStream(
      this.opts.api,
      path,
      { deadlineMs: this.opts.timeoutMs, signal: this.abort.signal },
      (ev) => {
        if (!isObject(ev)) return;
        if (this.buffered) {
          if (this.buffered.length >= MAX_PENDING_INSPECTS) {
            fail(new Error(`more than ${MAX_PENDING_INSPECTS} events during the initial list`));
            return;
          }
          this.buffered.push(ev as EngineEvent);
        } else this.apply(ev as EngineEvent);
      },
      fail,
    );
    if (this.closed) {
      stream.close();
      return;
    }
    this.events = stream;
  }

  protected apply(ev: EngineEvent): void {
    const type = ev.Type;
    const action = typeof (ev.Action ?? ev.status) === 'string' ? ((ev.Action ?? ev.status) as string) : '';
    const id = ev.Actor?.ID ?? ev.id;
    if (type === 'container' && typeof id === 'string' && id) {
      if (action.startsWith('exec_') || action.startsWith('health_status')) return;
      const n = (this.seq.get(id) ?? 0) + 1;
      if (action === 'destroy' || action === 'remove') {
        // A queued inspect must still see that it is stale; otherwise forget the id
        // (an inspect in flight captured an older number and is dropped).
        if (this.pending.has(id)) this.seq.set(id, n);
        else this.seq.delete(id);
        if (this.containers.delete(id)) this.changed();
        return;
      }
      if (!this.pending.has(id) && this.pending.size >= MAX_PENDING_INSPECTS) {
        // An engine that names more containers than we can inspect: re-sync from a list instead.
        if (!this.closed && !this.broken)
          this.broken = new Error(`more than ${MAX_PENDING_INSPECTS} containers waiting for an inspect`);
        return;
      }
      this.seq.set(id, n);
      if (this.pending.has(id)) return; // the queued inspect reads the newest state
      this.pending.add(id);
      void this.refreshContainer(id);
    } else if (type === 'network' && (action === 'create' || action === 'destroy' || action === 'remove')) {
      this.syncNetworks().then(
        () => this.changed(),
        () => {},
      );
    } else if (type === 'pod') {
      this.syncPods().then(
        () => this.changed(),
        () => {},
      );
    }
  }

  private async refreshContainer(id: string): Promise<void> {
    try {
      const c = await this.inspects.run(() => {
        this.pending.delete(id);
        return this.inspectNow(id, this.seq.get(id));
      });
      if (!c) return; // a newer event owns this container now
      if (c.c) this.containers.set(c.c.id, c.c);
      else this.containers.delete(id);
      this.changed();
    } catch {
      // Transient failure: keep the previous state; the event stream or a resync corrects it.
    } finally {
      this.pending.delete(id);
    }
  }

  /** Inspects `id` for the event numbered `n`; undefined when a newer event arrived meanwhile. */
  private async inspectNow(
    id: string,
    n: number | undefined,
  ): Promise<{ c: CachedContainer | undefined } | undefined> {
    const c = await this.inspectOne(id);
    return this.seq.get(id) === n ? { c } : undefined;
  }

  /** Inspects one container, within the concurrency bound; undefined when it vanished. */
  protected inspect(id: string): Promise<CachedContainer | undefined> {
    return this.inspects.run(() => this.inspectOne(id));
  }

  private async inspectOne(id: string): Promise<CachedContainer | undefined> {
    try {
      const info = await this.get(`/containers/${encodeURIComponent(id)}/json`);
      if (!isObject(info) || typeof info.Id !== 'string') throw new Error(`inspect ${id}: not a container`);
      return containerFromInspect(info as unknown as Docker.ContainerInspectInfo, this.containerType);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  /** Tells the tracker about a change, unless the initial list is still running. */
  protected changed(): void {
    if (!this.buffered) this.onChange?.();
  }

  async syncContainers(): Promise<void> {
    const list = await this.get('/containers/json?all=true');
    if (!Array.isArray(list)) throw new Error('containers: not a list');
    const ids = list
      .map((c) => (isObject(c) ? c.Id : undefined))
      .filter((x): x is string => typeof x === 'string');
    const found = await mapLimit(ids, MAX_INSPECTS, (id) => this.inspect(id));
    this.containers.clear();
    for (const c of found) if (c) this.containers.set(c.id, c);
  }

  async syncNetworks(): Promise<void> {
    const nets = await this.get('/networks');
    if (!Array.isArray(nets)) throw new Error('networks: not a list');
    this.networks = nets
      .filter(
        (n): n is Docker.NetworkInspectInfo =>
          isObject(n) && typeof n.Name === 'string' && typeof n.Id === 'string',
      )
      .map(dockerNetwork);
  }

  async syncPods(): Promise<void> {}
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** At most `limit` tasks run at once; the rest wait in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
