/**
 * Runs discoveries in the discovery worker (worker.ts) on behalf of the cache;
 * restarts the worker when it dies, so one crash costs one request, not the service.
 */
import { Worker } from 'node:worker_threads';
import type { DiscoverOptions } from '../discover.js';
import type { Product, RunHint } from './cache.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

/** How long close() waits for the worker to release its sockets before terminating it. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * Views the worker renders only when requested, of its latest model: most discoveries on a busy
 * host are never read as Ghostwire v1 before the next one replaces them, and each costs a
 * serialisation of the whole host.
 */
export const LAZY_VIEWS = ['v1', 'mobyshark'] as const;
export type LazyView = (typeof LAZY_VIEWS)[number];
const isLazyView = (view: string): view is LazyView => (LAZY_VIEWS as readonly string[]).includes(view);

export class WorkerRunner {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending = new Map<number, { resolve: (p: Product) => void; reject: (e: Error) => void }>();
  /** Lazy renderings asked for: undefined when the worker no longer holds that model (or died). */
  private renders = new Map<number, (b: Buffer | undefined) => void>();
  private closed = false;
  private engineListeners = new Set<() => void>();
  private released: (() => void) | undefined;

  /** Engine events seen by the worker's engine tracker. */
  onEngineEvent(l: () => void): () => void {
    this.engineListeners.add(l);
    return () => this.engineListeners.delete(l);
  }

  constructor(private readonly init: WorkerInit) {}

  static create(engines: boolean, options: DiscoverOptions, verify?: string[]): WorkerRunner {
    const { containers: _ignored, ...rest } = options;
    return new WorkerRunner({ engines, options: rest, ...(verify?.length ? { verify } : {}) });
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: this.init });
    w.on('message', (m: WorkerReply) => {
      if ('event' in m) {
        for (const l of this.engineListeners) l();
        return;
      }
      if ('closed' in m) {
        this.released?.();
        return;
      }
      if ('view' in m) {
        const done = this.renders.get(m.id);
        this.renders.delete(m.id);
        done?.(m.view ? Buffer.from(m.view.buffer, m.view.byteOffset, m.view.byteLength) : undefined);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (!m.ok) {
        p.reject(new Error(m.message));
        return;
      }
      const rendered = new Map<string, Buffer>();
      for (const [k, v] of Object.entries(m.views))
        rendered.set(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      const startedAt = m.startedAt;
      p.resolve({
        rendered,
        changes: m.changes,
        holders: m.holders,
        startedAt,
        render: (view) => this.render(view, startedAt),
        lazyViews: LAZY_VIEWS,
        missingPrivileges: m.missingPrivileges,
      });
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      for (const done of this.renders.values()) done(undefined);
      this.renders.clear();
    };
    w.on('error', (err) => fail(new Error(`discovery worker failed: ${err.message}`)));
    w.on('exit', (code) => {
      if (!this.closed) fail(new Error(`discovery worker exited (${code})`));
    });
    return w;
  }

  run(hint: RunHint = { incremental: false }): Promise<Product> {
    if (this.closed) return Promise.reject(new Error('the service is shutting down'));
    this.worker ??= this.spawn();
    const id = this.nextId++;
    const w = this.worker;
    return new Promise<Product>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, incremental: hint.incremental } satisfies WorkerRequest);
    });
  }

  /** A lazy view (LAZY_VIEWS) of the discovery started at `startedAt`, if the worker still holds it. */
  render(view: string, startedAt: string): Promise<Buffer | undefined> {
    const w = this.worker;
    if (this.closed || !w || !isLazyView(view)) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.renders.set(id, resolve);
      w.postMessage({ id, op: 'render', view, startedAt } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the service is shutting down'));
    this.pending.clear();
    for (const done of this.renders.values()) done(undefined);
    this.renders.clear();
    if (!w) return;
    // The worker closes its network sockets first (a terminated thread leaves its fds open);
    // one that does not answer in time is terminated all the same.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      this.released = () => {
        clearTimeout(timer);
        resolve();
      };
      w.once('exit', () => this.released?.());
      w.postMessage({ id: this.nextId++, op: 'close' } satisfies WorkerRequest);
    });
    this.released = undefined;
    await w.terminate();
  }
}
