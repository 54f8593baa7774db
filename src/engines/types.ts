/** What each engine client keeps in its cache: the engine's own view, before relating it to the scan. */

export type ContainerType = 'docker' | 'containerd' | 'podman' | 'cri';

export interface CachedContainer {
  id: string;
  name: string;
  type: ContainerType;
  state: string;
  labels: Record<string, string>;
  /** Initial process's PID as the engine sees it (in the engine's PID namespace). */
  pid?: number;
  /** When the engine says the container started (ms since the epoch), to catch reused PIDs. */
  startedAt?: number;
  privileged: boolean;
  image?: string;
  /** containerd namespace. */
  namespace?: string;
  /** Podman pod id. */
  pod?: string;
}

export interface CachedNetwork {
  /** docker, podman, nerdctl, cni */
  engine: string;
  name: string;
  id?: string;
  driver?: string;
  internal?: boolean;
  default?: boolean;
  /** Bridge interface implementing the network, in the engine's network namespace. */
  bridge?: string;
  /** Parent interface of macvlan/ipvlan networks. */
  parent?: string;
}

export interface CachedPod {
  id: string;
  name: string;
  labels: Record<string, string>;
  containers: string[];
}

/** An engine API client that keeps a current copy of the engine's containers. */
export interface EngineClient {
  readonly version: string | undefined;
  readonly containers: ReadonlyMap<string, CachedContainer>;
  readonly networks: readonly CachedNetwork[];
  readonly pods: readonly CachedPod[];
  /** Set once the event stream broke: the cache may be stale and must be re-synced. */
  readonly broken: Error | undefined;
  /** Called after an engine event (or poll) changed the cache, once start() has finished. */
  onChange: (() => void) | undefined;
  /** Subscribes to events, lists everything, then applies the events seen meanwhile. */
  start(): Promise<void>;
  close(): void;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e.message.split('\n')[0] ?? '';
    return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(e);
}

/** Rejects after `ms` with a clear message, so a hanging engine never blocks beyond its budget. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Requests per engine in flight at once (inspects, namespace lists), at most. */
export const MAX_INSPECTS = 8;
/** Containers or namespaces waiting for a refresh, at most; beyond it the client re-syncs. */
export const MAX_PENDING_INSPECTS = 1024;

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
