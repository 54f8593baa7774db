/**
 * containerd gRPC client (grpc.ts over node:http2, the message schemas in
 * containerd-proto.ts). Lists every containerd namespace (default, moby,
 * k8s.io, ...), their containers and tasks (PIDs), and keeps them current
 * from the /events stream, re-listing only the namespace an event names.
 */
import * as pb from './containerd-proto.js';
import { CONTAINERD_SERVICES } from './containerd-proto.js';
import { sanitizeLabels } from './docker.js';
import { GrpcClient, type ServerStream } from './grpc.js';
import type { PbObject, Schema } from './protobuf.js';
import type { CachedContainer, CachedNetwork, CachedPod, EngineClient } from './types.js';
import { MAX_INSPECTS, MAX_PENDING_INSPECTS, mapLimit } from './types.js';

/** Request and answer schemas of each call. */
const CALLS: Record<'namespaces' | 'containers' | 'tasks' | 'version', [Schema, Schema]> = {
  namespaces: [pb.ListNamespacesRequest, pb.ListNamespacesResponse],
  containers: [pb.ListContainersRequest, pb.ListContainersResponse],
  tasks: [pb.ListTasksRequest, pb.ListTasksResponse],
  version: [pb.Empty, pb.VersionResponse],
};

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
  onChange: (() => void) | undefined;

  private readonly client: GrpcClient;
  private stream: ServerStream | undefined;
  private closed = false;
  private buffered: Set<string> | undefined;
  private readonly nsSeq = new Map<string, number>();
  private readonly nsTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: ContainerdClientOptions) {
    this.client = new GrpcClient(opts.api);
  }

  private unary<T>(
    key: 'namespaces' | 'containers' | 'tasks' | 'version',
    req: PbObject,
    ns?: string,
  ): Promise<T> {
    const [reqSchema, resSchema] = CALLS[key];
    const md: Record<string, string> = ns ? { 'containerd-namespace': ns } : {};
    return this.client.unary<T>(CONTAINERD_SERVICES[key], reqSchema, req, resSchema, this.opts.timeoutMs, md);
  }

  async start(): Promise<void> {
    const v = await this.unary<{ version: string }>('version', {});
    this.version = v.version;
    this.buffered = new Set();
    await this.subscribe();
    await this.syncAll();
    const again = this.buffered;
    this.buffered = undefined;
    await mapLimit([...again], MAX_INSPECTS, (ns) => this.syncNamespace(ns));
  }

  close(): void {
    this.closed = true;
    for (const t of this.nsTimers.values()) clearTimeout(t);
    this.stream?.cancel();
    this.client.close();
  }

  private async subscribe(): Promise<void> {
    this.stream = this.client.serverStream(
      CONTAINERD_SERVICES.events,
      pb.SubscribeRequest,
      { filters: ['topic~="/containers/"', 'topic~="/tasks/"', 'topic~="/namespaces/"'] },
      pb.Envelope,
      {
        onMessage: (env) => {
          const ns = env.namespace;
          if (typeof ns !== 'string' || !ns) return;
          if (!this.buffered) this.scheduleNamespace(ns);
          else if (this.buffered.size < MAX_PENDING_INSPECTS) this.buffered.add(ns);
          else if (!this.closed && !this.broken)
            this.broken = new Error(
              `more than ${MAX_PENDING_INSPECTS} namespaces named during the initial list`,
            );
        },
        onEnd: (e) => {
          if (!this.closed && !this.broken) this.broken = e;
        },
      },
    );
    // A server stream reports its connection only with its first message; wait
    // for the engine's HTTP/2 server to answer instead, so a dead socket fails start().
    await this.client.waitForReady(this.opts.timeoutMs);
  }

  /** Coalesces bursts of events (a `ctr run` raises several) into one namespace re-list. */
  private scheduleNamespace(ns: string): void {
    if (this.nsTimers.has(ns)) return;
    if (this.nsTimers.size >= MAX_PENDING_INSPECTS) {
      // An engine naming more namespaces than we re-list at once: re-sync from scratch instead.
      if (!this.closed && !this.broken)
        this.broken = new Error(`more than ${MAX_PENDING_INSPECTS} namespaces waiting for a re-list`);
      return;
    }
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
    // Bounded like Docker inspects: a hostile engine may name any number of namespaces.
    const results = await mapLimit(names, MAX_INSPECTS, (ns) => this.listNamespace(ns));
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
    if (!this.buffered) this.onChange?.();
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

/** Cache key: containerd ids are unique per namespace only. */
function key(c: CachedContainer): string {
  return `${c.namespace}/${c.id}`;
}
