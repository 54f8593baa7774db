/**
 * containerd gRPC client (@grpc/grpc-js with the minimal protos in
 * containerd-proto.ts). Lists every containerd namespace (default, moby,
 * k8s.io, ...), their containers and tasks (PIDs), and keeps them current
 * from the /events stream, re-listing only the namespace an event names.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CONTAINERD_PROTO, CONTAINERD_SERVICES } from './containerd-proto.js';
import { sanitizeLabels } from './docker.js';
import type { CachedContainer, CachedNetwork, CachedPod, EngineClient } from './types.js';
import { withTimeout } from './types.js';

interface MethodDef {
  requestSerialize: (v: unknown) => Buffer;
  responseDeserialize: (b: Buffer) => unknown;
}

type Methods = Record<keyof typeof CONTAINERD_SERVICES, MethodDef>;

let methods: Methods | undefined;

/** Loads the protos once; proto-loader reads files, so the text goes through a temp file. */
function loadMethods(): Methods {
  if (methods) return methods;
  const dir = mkdtempSync(join(tmpdir(), 'wirescope-proto-'));
  try {
    const file = join(dir, 'containerd.proto');
    writeFileSync(file, CONTAINERD_PROTO);
    const def = protoLoader.loadSync(file, { keepCase: true, longs: Number, enums: String, defaults: true });
    const svc = (name: string, method: string): MethodDef => {
      const s = def[`wirescope.containerd.${name}`] as unknown as Record<string, MethodDef> | undefined;
      const m = s?.[method];
      if (!m) throw new Error(`containerd proto: ${name}.${method} missing`);
      return m;
    };
    methods = {
      namespaces: svc('Namespaces', 'List'),
      containers: svc('Containers', 'List'),
      tasks: svc('Tasks', 'List'),
      events: svc('Events', 'Subscribe'),
      version: svc('Version', 'Version'),
    };
    return methods;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface PbAny {
  type_url: string;
  value: Buffer;
}
export interface PbContainer {
  id: string;
  labels: Record<string, string>;
  image: string;
  spec?: PbAny | null;
}
export interface PbProcess {
  /** Empty in Tasks.List answers: containerd fills `id` with the container id there. */
  container_id: string;
  id: string;
  pid: number;
  status: string;
}

const TASK_STATES: Record<string, string> = {
  CREATED: 'created',
  RUNNING: 'running',
  STOPPED: 'exited',
  PAUSED: 'paused',
  PAUSING: 'pausing',
  UNKNOWN: 'unknown',
};

/**
 * Privileged as `ctr run --privileged` / CRI privileged / nerdctl --privileged
 * make it: CAP_SYS_ADMIN in the bounding set and no masked paths (the OCI
 * spec's linux.maskedPaths hide /proc/kcore etc. from unprivileged containers).
 */
export function specIsPrivileged(spec: unknown): boolean {
  if (!spec || typeof spec !== 'object') return false;
  const s = spec as {
    process?: { capabilities?: { bounding?: unknown } };
    linux?: { maskedPaths?: unknown };
  };
  const bounding = s.process?.capabilities?.bounding;
  const caps = Array.isArray(bounding) ? bounding : [];
  const masked = s.linux?.maskedPaths;
  return caps.includes('CAP_SYS_ADMIN') && (!Array.isArray(masked) || masked.length === 0);
}

/** Maps a containerd container and its task (if any) to the cache form. */
export function containerdContainer(
  ns: string,
  c: PbContainer,
  task: PbProcess | undefined,
): CachedContainer {
  const labels = sanitizeLabels(c.labels);
  let spec: unknown;
  if (c.spec?.value && c.spec.value.length > 0) {
    try {
      spec = JSON.parse(c.spec.value.toString('utf8'));
    } catch {
      spec = undefined; // malformed spec: not privileged as far as we can tell
    }
  }
  const cri = labels['io.cri-containerd.kind'] !== undefined;
  const name =
    labels['nerdctl/name'] ??
    (cri && labels['io.kubernetes.pod.name']
      ? `${labels['io.kubernetes.pod.name']}/${labels['io.kubernetes.container.name'] ?? labels['io.cri-containerd.kind']}`
      : c.id);
  const out: CachedContainer = {
    id: c.id,
    name,
    type: cri ? 'cri' : 'containerd',
    state: task ? (TASK_STATES[task.status] ?? task.status.toLowerCase()) : 'stopped',
    labels,
    privileged: specIsPrivileged(spec),
    namespace: ns,
  };
  if (c.image) out.image = c.image;
  if (task && task.pid > 0 && task.status !== 'STOPPED') out.pid = task.pid;
  return out;
}

export interface ContainerdClientOptions {
  api: string;
  timeoutMs: number;
  /** containerd namespaces to leave out (e.g. "moby" of dockerd's own containerd). */
  skipNamespaces?: readonly string[];
}

export class ContainerdClient implements EngineClient {
  version: string | undefined;
  readonly containers = new Map<string, CachedContainer>();
  readonly networks: CachedNetwork[] = [];
  readonly pods: CachedPod[] = [];
  broken: Error | undefined;

  private readonly client: grpc.Client;
  private readonly m: Methods;
  private stream: grpc.ClientReadableStream<unknown> | undefined;
  private closed = false;
  private buffered: Set<string> | undefined;
  private readonly nsSeq = new Map<string, number>();
  private readonly nsTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: ContainerdClientOptions) {
    this.m = loadMethods();
    this.client = new grpc.Client(`unix:${opts.api}`, grpc.credentials.createInsecure(), {
      // No reconnect storm against a dead engine: the tracker re-syncs instead.
      'grpc.initial_reconnect_backoff_ms': 1000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // grpc-js shares connections between clients of one target by default; a
      // fresh client must see the socket as it is now (gone, replaced), not an old connection.
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  private unary<T>(
    key: 'namespaces' | 'containers' | 'tasks' | 'version',
    req: unknown,
    ns?: string,
  ): Promise<T> {
    const md = new grpc.Metadata();
    if (ns) md.set('containerd-namespace', ns);
    const def = this.m[key];
    return new Promise<T>((resolve, reject) => {
      this.client.makeUnaryRequest(
        CONTAINERD_SERVICES[key],
        def.requestSerialize,
        def.responseDeserialize,
        req,
        md,
        { deadline: Date.now() + this.opts.timeoutMs },
        (err, res) => (err ? reject(new Error(grpcMessage(err))) : resolve(res as T)),
      );
    });
  }

  async start(): Promise<void> {
    const v = await this.unary<{ version: string }>('version', {});
    this.version = v.version;
    this.buffered = new Set();
    await this.subscribe();
    await this.syncAll();
    const again = this.buffered;
    this.buffered = undefined;
    await Promise.all([...again].map((ns) => this.syncNamespace(ns)));
  }

  close(): void {
    this.closed = true;
    for (const t of this.nsTimers.values()) clearTimeout(t);
    this.stream?.cancel();
    this.client.close();
  }

  private async subscribe(): Promise<void> {
    const def = this.m.events;
    const stream = this.client.makeServerStreamRequest(
      CONTAINERD_SERVICES.events,
      def.requestSerialize,
      def.responseDeserialize,
      { filters: ['topic~="/containers/"', 'topic~="/tasks/"', 'topic~="/namespaces/"'] },
      new grpc.Metadata(),
      {},
    );
    this.stream = stream;
    stream.on('data', (env: { namespace?: string; topic?: string }) => {
      const ns = env.namespace;
      if (!ns) return;
      if (this.buffered) this.buffered.add(ns);
      else this.scheduleNamespace(ns);
    });
    stream.on('error', (e: grpc.ServiceError) => {
      if (!this.closed && !this.broken) this.broken = new Error(grpcMessage(e));
    });
    stream.on('end', () => {
      if (!this.closed && !this.broken) this.broken = new Error('event stream ended');
    });
    // A server stream reports its connection only with its first message; wait
    // for the channel to be ready instead, so a dead socket fails start().
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        this.client.waitForReady(Date.now() + this.opts.timeoutMs, (e) => (e ? reject(e) : resolve())),
      ),
      this.opts.timeoutMs + 100,
      'containerd events',
    );
  }

  /** Coalesces bursts of events (a `ctr run` raises several) into one namespace re-list. */
  private scheduleNamespace(ns: string): void {
    if (this.nsTimers.has(ns)) return;
    this.nsTimers.set(
      ns,
      setTimeout(() => {
        this.nsTimers.delete(ns);
        this.syncNamespace(ns).catch(() => {});
      }, 20),
    );
  }

  private async syncAll(): Promise<void> {
    const res = await this.unary<{ namespaces: { name: string }[] }>('namespaces', {});
    const names = res.namespaces.map((n) => n.name);
    const results = await Promise.all(names.map((ns) => this.listNamespace(ns)));
    this.containers.clear();
    for (const list of results) for (const c of list) this.containers.set(key(c), c);
  }

  private async syncNamespace(ns: string): Promise<void> {
    const n = (this.nsSeq.get(ns) ?? 0) + 1;
    this.nsSeq.set(ns, n);
    const list = await this.listNamespace(ns);
    if (this.nsSeq.get(ns) !== n) return; // a newer re-list of this namespace is under way
    for (const [k, c] of this.containers) if (c.namespace === ns) this.containers.delete(k);
    for (const c of list) this.containers.set(key(c), c);
  }

  private async listNamespace(ns: string): Promise<CachedContainer[]> {
    if (this.opts.skipNamespaces?.includes(ns)) return [];
    const [cs, ts] = await Promise.all([
      this.unary<{ containers: PbContainer[] }>('containers', {}, ns),
      this.unary<{ tasks: PbProcess[] }>('tasks', {}, ns),
    ]);
    const tasks = new Map(ts.tasks.map((t) => [t.container_id || t.id, t]));
    return cs.containers.map((c) => containerdContainer(ns, c, tasks.get(c.id)));
  }
}

/** grpc-js details carry a trailing resolver note; keep the cause. */
export function grpcMessage(e: grpc.ServiceError): string {
  const text = e.details || e.message;
  const cause = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/.exec(text);
  return cause?.[1] ? `not connected: ${cause[1]}` : text;
}

/** Cache key: containerd ids are unique per namespace only. */
function key(c: CachedContainer): string {
  return `${c.namespace}/${c.id}`;
}
