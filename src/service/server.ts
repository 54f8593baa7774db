/**
 * Starts the discovery service: the shared discovery cache, the change
 * watcher that invalidates it, and the HTTP server.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { type DiscoverOptions, discover } from '../discover.js';
import { createEngineTracker, type EngineTracker } from '../engines/index.js';
import type { Discovery } from '../model/types.js';
import { createApp } from './app.js';
import { DiscoveryCache, type Product } from './cache.js';
import { withDrift } from './drift.js';
import { DEFAULT_LISTEN, type ListenAddress } from './listen.js';
import { WorkerRunner } from './runner.js';
import { ChangeWatcher, SETTLE_MS, type WatcherOptions } from './watch.js';
import { ThreadedWatcher } from './watch-thread.js';

export interface ServiceOptions {
  listen?: ListenAddress;
  token?: string;
  /** Web UI folder (default: web/dist of this package). */
  webRoot?: string;
  discoverOptions?: DiscoverOptions;
  /** Track container engines (default true; ignored when discoverOptions.containers is given). */
  engines?: boolean;
  /** Discover in a worker thread (default true). */
  worker?: boolean;
  /** Replaces discover() (benchmarks feed a prepared model through the same cache). */
  run?: () => Promise<Discovery | Product>;
  maxAgeMs?: number;
  /** false: no change watcher (results expire by maxAgeMs only). */
  watch?: boolean | WatcherOptions;
  /** Engine event subscriptions (e.g. the engine tracker's change events). */
  eventSources?: ((notify: () => void) => () => void)[];
  version?: string;
  /** Lab files whose drift is computed after every discovery and served at /api/verify (serve --verify). */
  verify?: string[];
}

export interface RunningService {
  url: string;
  address: ListenAddress;
  cache: DiscoveryCache;
  watcher: ChangeWatcher | ThreadedWatcher | undefined;
  close(): Promise<void>;
}

export function defaultWebRoot(): string {
  // dist/service/server.js → <package>/web/dist
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');
}

export async function startService(opts: ServiceOptions = {}): Promise<RunningService> {
  const listen = opts.listen ?? DEFAULT_LISTEN;
  // Discoveries run in a worker thread (default): the serving thread only hands out ready bytes.
  // In-process when the caller brings its own run function or container source.
  const inProcess =
    opts.run !== undefined || opts.discoverOptions?.containers !== undefined || opts.worker === false;
  const runner = inProcess
    ? undefined
    : WorkerRunner.create(opts.engines !== false, opts.discoverOptions ?? {}, opts.verify);
  // In-process: one engine tracker for the service's lifetime (it keeps its event streams and caches).
  const tracker: EngineTracker | undefined =
    !inProcess || opts.run || opts.discoverOptions?.containers || opts.engines === false
      ? undefined
      : createEngineTracker();
  const discoverOptions: DiscoverOptions = { ...(opts.discoverOptions ?? {}) };
  if (tracker) discoverOptions.containers = tracker;
  const baseRun = opts.run ?? (runner ? () => runner.run() : () => discover(discoverOptions));
  const verify = opts.verify?.length ? opts.verify : undefined;
  const run = verify && !runner ? withDrift(baseRun, verify) : baseRun;
  const cache = new DiscoveryCache(run, { maxAgeMs: opts.maxAgeMs });
  const webRoot = opts.webRoot ?? defaultWebRoot();

  let watcher: ChangeWatcher | ThreadedWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  const service = createApp({
    cache,
    webRoot: existsSync(webRoot) ? webRoot : undefined,
    token: opts.token,
    version: opts.version,
    verify: verify !== undefined,
    health: () => ({
      watchedNamespaces: watcher?.watchedNamespaces ?? 0,
      subscribers: service.subscribers(),
    }),
  });

  if (opts.watch !== false) {
    // The watcher gets its own thread unless everything runs in-process (tests with a custom run).
    const Watcher = inProcess ? ChangeWatcher : ThreadedWatcher;
    watcher = new Watcher(
      () => {
        cache.markDirty();
        // Someone is watching the event stream: rediscover now (coalescing bursts) so they see it.
        if (service.subscribers() > 0 && !debounce) {
          debounce = setTimeout(() => {
            debounce = undefined;
            cache.refresh().catch(() => undefined);
          }, SETTLE_MS);
        }
      },
      {
        ...(typeof opts.watch === 'object' ? opts.watch : {}),
        // Holders other than processes that the last discovery saw (bind mounts elsewhere, fds).
        extraPaths: () => cache.peek()?.holders ?? [],
      },
    );
    for (const s of opts.eventSources ?? []) watcher.addSource(s);
    // Engine events (containers started, renamed, relabelled; late syncs) mark results stale.
    if (tracker) watcher.addSource((notify) => tracker.onChange(notify));
    if (runner) watcher.addSource((notify) => runner.onEngineEvent(notify));
    watcher.start();
  }

  // Sockets, DNS files and engine metadata have no change notifications: while someone watches the
  // event stream, refresh results that outlived --max-age so those changes still reach them.
  const ageCheck = setInterval(() => {
    if (service.subscribers() > 0 && cache.stale) cache.refresh().catch(() => undefined);
  }, 5000);
  ageCheck.unref();

  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const s = serve({ fetch: service.app.fetch, hostname: listen.host, port: listen.port }, () =>
      resolveServer(s),
    );
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const address = { host: listen.host, port: addr.port };
  const hostText = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${hostText}:${address.port}`,
    address,
    cache,
    watcher,
    close: async () => {
      if (debounce) clearTimeout(debounce);
      clearInterval(ageCheck);
      await watcher?.stop();
      tracker?.close();
      await runner?.close();
      // Event streams never end by themselves: cut every connection.
      const closeAll = (server as unknown as { closeAllConnections?: () => void }).closeAllConnections;
      await new Promise<void>((r) => {
        server.close(() => r());
        closeAll?.call(server);
      });
    },
  };
}
