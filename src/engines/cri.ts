/**
 * CRI client (Kubernetes runtime.v1 over gRPC: grpc.ts, schemas in cri-proto.ts), the native API of CRI-O.
 * CRI has no event stream every runtime serves (GetContainerEvents is
 * optional), so the cache is refreshed by a background poll: two list calls,
 * plus a verbose status call only for sandboxes and containers that are new
 * or changed state (the verbose info carries the PID and the OCI spec).
 */
import { specIsPrivileged } from './containerd.js';
import * as pb from './cri-proto.js';
import { sanitizeLabels } from './docker.js';
import { GrpcClient } from './grpc.js';
import type { PbObject, Schema } from './protobuf.js';
import type { CachedContainer, CachedNetwork, CachedPod, EngineClient } from './types.js';
import { errorMessage } from './types.js';

export interface CriSandbox {
  id: string;
  metadata?: { name: string; uid: string; namespace: string } | null;
  state: string;
  labels: Record<string, string>;
}
export interface CriContainer {
  id: string;
  pod_sandbox_id: string;
  metadata?: { name: string } | null;
  image?: { image: string } | null;
  state: string;
  labels: Record<string, string>;
}

const CONTAINER_STATES: Record<string, string> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

export interface VerboseInfo {
  pid?: number;
  privileged: boolean;
  /** ms since the epoch. */
  startedAt?: number;
}

/** PID and privileged flag from a verbose status "info" map (JSON under the "info" key). */
export function parseVerboseInfo(info: Record<string, string> | undefined): VerboseInfo {
  const raw = info?.info;
  if (!raw) return { privileged: false };
  try {
    const doc = JSON.parse(raw) as { pid?: unknown; runtimeSpec?: unknown };
    const out: VerboseInfo = { privileged: specIsPrivileged(doc.runtimeSpec) };
    if (typeof doc.pid === 'number' && doc.pid > 0) out.pid = doc.pid;
    return out;
  } catch {
    return { privileged: false };
  }
}

export function criSandboxContainer(s: CriSandbox, verbose: VerboseInfo): CachedContainer {
  const running = s.state === 'SANDBOX_READY';
  const c: CachedContainer = {
    id: s.id,
    name: s.metadata?.name || s.id,
    type: 'cri',
    state: running ? 'running' : 'exited',
    labels: sanitizeLabels(s.labels),
    privileged: verbose.privileged,
  };
  if (running && verbose.pid) c.pid = verbose.pid;
  if (running && verbose.startedAt) c.startedAt = verbose.startedAt;
  return c;
}

export function criContainer(
  c: CriContainer,
  sandbox: CriSandbox | undefined,
  verbose: VerboseInfo,
): CachedContainer {
  const running = c.state === 'CONTAINER_RUNNING';
  const pod = sandbox?.metadata?.name;
  const name = c.metadata?.name || c.id;
  const out: CachedContainer = {
    id: c.id,
    name: pod ? `${pod}/${name}` : name,
    type: 'cri',
    state: CONTAINER_STATES[c.state] ?? 'unknown',
    labels: sanitizeLabels(c.labels),
    privileged: verbose.privileged,
  };
  if (c.image?.image) out.image = c.image.image;
  if (running && verbose.pid) out.pid = verbose.pid;
  if (running && verbose.startedAt) out.startedAt = verbose.startedAt;
  return out;
}

/** Request and answer schemas of each call. */
const CALLS = {
  Version: [pb.VersionRequest, pb.VersionResponse],
  ListPodSandbox: [pb.ListPodSandboxRequest, pb.ListPodSandboxResponse],
  PodSandboxStatus: [pb.PodSandboxStatusRequest, pb.PodSandboxStatusResponse],
  ListContainers: [pb.ListContainersRequest, pb.ListContainersResponse],
  ContainerStatus: [pb.ContainerStatusRequest, pb.ContainerStatusResponse],
} satisfies Record<string, [Schema, Schema]>;

export interface CriClientOptions {
  api: string;
  timeoutMs: number;
  /** Background refresh interval (default 2000 ms). */
  pollMs?: number;
}

export class CriClient implements EngineClient {
  version: string | undefined;
  readonly containers = new Map<string, CachedContainer>();
  readonly networks: CachedNetwork[] = [];
  readonly pods: CachedPod[] = [];
  broken: Error | undefined;
  onChange: (() => void) | undefined;

  private readonly client: GrpcClient;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private polling = false;
  /** Verbose status per id and state: asked again only when the state changes. */
  private readonly verbose = new Map<string, { state: string; info: VerboseInfo }>();

  constructor(private readonly opts: CriClientOptions) {
    this.client = new GrpcClient(opts.api);
  }

  private call<T>(name: keyof typeof CALLS, req: PbObject): Promise<T> {
    const [reqSchema, resSchema] = CALLS[name];
    return this.client.unary<T>(`${pb.CRI_SERVICE}${name}`, reqSchema, req, resSchema, this.opts.timeoutMs);
  }

  async start(): Promise<void> {
    const v = await this.call<{ runtime_name: string; runtime_version: string }>('Version', {});
    this.version = v.runtime_version;
    await this.refresh();
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 2000);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.client.close();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      await this.refresh();
    } catch (e) {
      if (!this.closed && !this.broken) this.broken = new Error(`poll failed: ${errorMessage(e)}`);
    } finally {
      this.polling = false;
    }
  }

  private async status(kind: 'sandbox' | 'container', id: string, state: string) {
    const known = this.verbose.get(id);
    if (known && known.state === state) return known.info;
    type Res = { status?: { created_at?: number; started_at?: number } | null; info: Record<string, string> };
    const res =
      kind === 'sandbox'
        ? await this.call<Res>('PodSandboxStatus', { pod_sandbox_id: id, verbose: true })
        : await this.call<Res>('ContainerStatus', { container_id: id, verbose: true });
    const info = parseVerboseInfo(res.info);
    // Nanoseconds since the epoch: when the container started, or (sandboxes) was
    // created — its pause process starts right after. Catches reused PIDs.
    const ns = kind === 'sandbox' ? res.status?.created_at : res.status?.started_at;
    if (ns && ns > 0) info.startedAt = Math.floor(ns / 1e6);
    this.verbose.set(id, { state, info });
    return info;
  }

  async refresh(): Promise<void> {
    const [sb, cs] = await Promise.all([
      this.call<{ items: CriSandbox[] }>('ListPodSandbox', {}),
      this.call<{ containers: CriContainer[] }>('ListContainers', {}),
    ]);
    const sandboxes = new Map(sb.items.map((s) => [s.id, s]));
    const next = new Map<string, CachedContainer>();
    const tolerate = async <T>(p: Promise<T>, fallback: T): Promise<T> => {
      try {
        return await p;
      } catch {
        return fallback; // removed between list and status: listed without a PID
      }
    };
    const none = { privileged: false };
    await Promise.all([
      ...sb.items.map(async (s) => {
        const v = await tolerate(this.status('sandbox', s.id, s.state), none);
        next.set(s.id, criSandboxContainer(s, v));
      }),
      ...cs.containers.map(async (c) => {
        const v = await tolerate(this.status('container', c.id, c.state), none);
        next.set(c.id, criContainer(c, sandboxes.get(c.pod_sandbox_id), v));
      }),
    ]);
    for (const id of this.verbose.keys()) if (!next.has(id)) this.verbose.delete(id);
    const before = signature(this.containers);
    this.containers.clear();
    for (const [id, c] of next) this.containers.set(id, c);
    if (this.timer && signature(this.containers) !== before) this.onChange?.();
  }
}

/** What a poll can change: the set of containers, their states and PIDs. */
function signature(cs: ReadonlyMap<string, CachedContainer>): string {
  return [...cs.values()]
    .map((c) => `${c.id}:${c.state}:${c.pid ?? ''}`)
    .sort()
    .join(',');
}
