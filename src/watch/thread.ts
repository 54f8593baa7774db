/** Main-thread handle of the watcher thread (worker.ts); same surface as ChangeWatcher. */
import { Worker } from 'node:worker_threads';
import type { ChangeReason, NamespaceDelta, WatcherOptions, WatchStatus } from './watcher.js';
import type { WatchWorkerIn, WatchWorkerOut } from './worker.js';

export class ThreadedWatcher {
  private worker: Worker | undefined;
  private sources: (() => void)[] = [];
  private holdersSent: readonly string[] | undefined;
  private poll: NodeJS.Timeout | undefined;
  watchedNamespaces = 0;
  private workerStatus: WatchStatus | undefined;

  constructor(
    private readonly onChange: (reason: ChangeReason, delta?: NamespaceDelta) => void,
    private readonly opts: WatcherOptions = {},
  ) {}

  start(): void {
    const { extraPaths, ...data } = this.opts;
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
    w.on('message', (m: WatchWorkerOut) => {
      if ('change' in m) this.onChange(m.change as ChangeReason, m.delta);
      else {
        this.watchedNamespaces = m.watched;
        this.workerStatus = m.status;
      }
    });
    // A watcher that died means changes go unnoticed: say so in every result's freshness (max-age still applies).
    w.on('error', () => undefined);
    w.unref();
    this.worker = w;
    // Hand the holder paths of the latest discovery over when they change.
    this.poll = setInterval(() => {
      const h = extraPaths?.();
      if (!h || h === this.holdersSent) return;
      this.holdersSent = h;
      w.postMessage({ holders: [...h] } satisfies WatchWorkerIn);
    }, this.opts.intervalMs ?? 500);
    this.poll.unref();
  }

  /** Which sources are live (for /healthz): the thread's, with the engine sources registered here. */
  get status(): WatchStatus | undefined {
    const s = this.workerStatus;
    if (!s) return undefined;
    const engines = { live: this.sources.length > 0, sources: this.sources.length };
    return { ...s, sources: { ...s.sources, engines } };
  }

  addSource(subscribe: (notify: () => void) => () => void): void {
    this.sources.push(subscribe(() => this.onChange('engine')));
  }

  /** Stops the thread; resolves once it is gone (its netlink sockets hold their namespaces alive). */
  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    for (const unsubscribe of this.sources) unsubscribe();
    this.sources = [];
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ stop: true } satisfies WatchWorkerIn);
    const timer = setTimeout(() => void w.terminate(), 500);
    await exited;
    clearTimeout(timer);
  }
}
