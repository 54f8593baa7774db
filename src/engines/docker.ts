/**
 * Docker Engine API client (dockerode over the engine's unix socket), also
 * used for podman's Docker-compatible API (see podman.ts). Keeps a cache of
 * containers and networks current from the /events stream.
 */
import { setMaxListeners } from 'node:events';
import Docker from 'dockerode';
import type { CachedContainer, CachedNetwork, CachedPod, ContainerType, EngineClient } from './types.js';
import { mapLimit, withTimeout } from './types.js';

export interface DockerClientOptions {
  /** Path of the API socket, reachable from wirescope's mount namespace. */
  api: string;
  /** Per-request timeout. */
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

/** Splits a chunked newline-delimited JSON stream into objects. */
export class JsonLines {
  private rest = '';
  push(chunk: string): unknown[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    const out: unknown[] = [];
    for (const l of lines) {
      const s = l.trim();
      if (!s) continue;
      try {
        out.push(JSON.parse(s));
      } catch {
        // A malformed event line is skipped; the next resync corrects the cache.
      }
    }
    return out;
  }
}

export class DockerClient implements EngineClient {
  version: string | undefined;
  readonly containers = new Map<string, CachedContainer>();
  networks: CachedNetwork[] = [];
  pods: CachedPod[] = [];
  broken: Error | undefined;
  onChange: (() => void) | undefined;

  protected readonly docker: Docker;
  /** No timeout: the events stream is idle for long stretches. */
  private readonly eventsDocker: Docker;
  private events: NodeJS.ReadableStream | undefined;
  /** Aborts every request in flight on close(), so a hanging engine holds no socket open. */
  protected readonly abort = new AbortController();
  private closed = false;
  /** Events that arrived while the initial list ran; applied after it. */
  private buffered: EngineEvent[] | undefined;
  /** Per-container event sequence, so a slow inspect never overwrites a newer state. */
  private readonly seq = new Map<string, number>();

  constructor(
    protected readonly opts: DockerClientOptions,
    protected readonly containerType: ContainerType = 'docker',
  ) {
    // dockerode aborts a request a little after our own timeout fires, so the
    // error says what happened ("no answer within") rather than "socket hang up".
    this.docker = new Docker({ socketPath: opts.api, timeout: opts.timeoutMs + 250 });
    this.eventsDocker = new Docker({ socketPath: opts.api });
    // One listener per request in flight (each is removed when its request ends);
    // a sync runs 8 inspects in parallel next to the events stream and list calls.
    setMaxListeners(64, this.abort.signal);
  }

  protected eventOptions(): Docker.GetEventsOptions {
    return { filters: { type: ['container', 'network'] } };
  }

  async start(): Promise<void> {
    // dockerode's version() takes options (abortSignal) at runtime; its typings omit them.
    const version = this.docker.version as unknown as (o: {
      abortSignal: AbortSignal;
    }) => Promise<Docker.DockerVersion>;
    const v = await withTimeout(
      version.call(this.docker, { abortSignal: this.abort.signal }),
      this.opts.timeoutMs,
      'version',
    );
    this.version = v.Version;
    this.buffered = [];
    await this.subscribe();
    await Promise.all([this.syncContainers(), this.syncNetworks(), this.syncPods()]);
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    for (const ev of buffered) this.apply(ev);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    const s = this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    s?.destroy?.();
    this.events = undefined;
  }

  private async subscribe(): Promise<void> {
    const stream = await withTimeout(
      this.eventsDocker.getEvents({ ...this.eventOptions(), abortSignal: this.abort.signal }),
      this.opts.timeoutMs,
      'events',
    );
    if (this.closed) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.events = stream;
    const lines = new JsonLines();
    stream.on('data', (chunk: Buffer) => {
      for (const ev of lines.push(chunk.toString('utf8'))) {
        if (!ev || typeof ev !== 'object') continue;
        if (this.buffered) this.buffered.push(ev as EngineEvent);
        else this.apply(ev as EngineEvent);
      }
    });
    const fail = (e?: Error) => {
      if (!this.closed && !this.broken) this.broken = e ?? new Error('event stream ended');
    };
    stream.on('error', fail);
    stream.on('end', () => fail());
    stream.on('close', () => fail());
  }

  protected apply(ev: EngineEvent): void {
    const type = ev.Type;
    const action = ev.Action ?? ev.status ?? '';
    const id = ev.Actor?.ID ?? ev.id;
    if (type === 'container' && id) {
      if (action.startsWith('exec_') || action.startsWith('health_status')) return;
      const n = (this.seq.get(id) ?? 0) + 1;
      this.seq.set(id, n);
      if (action === 'destroy' || action === 'remove') {
        if (this.containers.delete(id)) this.changed();
        return;
      }
      void this.refreshContainer(id, n);
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

  private async refreshContainer(id: string, n: number): Promise<void> {
    try {
      const c = await this.inspect(id);
      if (this.seq.get(id) !== n) return; // a newer event owns this container now
      if (c) this.containers.set(c.id, c);
      else this.containers.delete(id);
      this.changed();
    } catch {
      // Transient failure: keep the previous state; the event stream or a resync corrects it.
    }
  }

  /** Inspects one container; undefined when it vanished (removed between list and inspect). */
  protected async inspect(id: string): Promise<CachedContainer | undefined> {
    try {
      const info = await withTimeout(
        this.docker.getContainer(id).inspect({ abortSignal: this.abort.signal }),
        this.opts.timeoutMs,
        `inspect ${id}`,
      );
      return containerFromInspect(info, this.containerType);
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
    const list = await withTimeout(
      this.docker.listContainers({ all: true, abortSignal: this.abort.signal }),
      this.opts.timeoutMs,
      'containers',
    );
    const found = await mapLimit(list, 8, (c) => this.inspect(c.Id));
    this.containers.clear();
    for (const c of found) if (c) this.containers.set(c.id, c);
  }

  async syncNetworks(): Promise<void> {
    const nets = await withTimeout(
      this.docker.listNetworks({ abortSignal: this.abort.signal }),
      this.opts.timeoutMs,
      'networks',
    );
    this.networks = nets.map(dockerNetwork);
  }

  async syncPods(): Promise<void> {}
}
