/**
 * Starts the discovery service: the shared discovery cache, the change
 * watcher that invalidates it, and the HTTP server.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { DiscoverOptions } from '../discover.js';
import type { EngineTracker } from '../engines/index.js';
import { IdleCollector } from '../kernel/heap.js';
import type { Discovery } from '../model/types.js';
import { QUIET_MS, Settler } from '../watch/settle.js';
import { ThreadedWatcher } from '../watch/thread.js';
import { ChangeWatcher, censusModeOf, SETTLE_MS, type WatcherOptions } from '../watch/watcher.js';
import { createApp, type ServiceApp } from './app.js';
import { DiscoveryCache, type Product, type RunHint } from './cache.js';
import type { CaptureLimits } from './capture.js';
import { captureUpgradeHandler } from './capture-ws.js';
import { withDrift } from './drift.js';
import type { StreamLimits } from './events.js';
import { HostPolicy } from './host.js';
import { DEFAULT_LISTEN, type ListenAddress } from './listen.js';
import { createMobydig } from './mobydig.js';
import { WorkerRunner } from './runner.js';

export interface ServiceOptions {
  listen?: ListenAddress;
  token?: string;
  /** Names clients use for this service beyond loopback and the listen address (serve --allow-host). */
  allowHosts?: string[];
  /** Event stream limits (defaults in events.ts). */
  streams?: Partial<StreamLimits>;
  /** Limits of the captures (capture.ts). */
  captures?: Partial<CaptureLimits>;
  /** Web UI folder (default: web/dist of this package). */
  webRoot?: string;
  discoverOptions?: DiscoverOptions;
  /** Track container engines (default true; ignored when discoverOptions.containers is given). */
  engines?: boolean;
  /** Discover in a worker thread (default true). */
  worker?: boolean;
  /** Replaces discover() (benchmarks feed a prepared model through the same cache). */
  run?: (hint: RunHint) => Promise<Discovery | Product>;
  maxAgeMs?: number;
  /** false: no change watcher (results expire by maxAgeMs only). */
  watch?: boolean | WatcherOptions;
  /** Engine event subscriptions (e.g. the engine tracker's change events). */
  eventSources?: ((notify: () => void) => () => void)[];
  version?: string;
  /** Lab files whose drift is computed after every discovery and served at /api/verify (serve --verify). */
  verify?: string[];
  /** The node this service describes, reported at /healthz (serve --node-name; a hub names the agent by it). */
  nodeName?: string;
}

export interface RunningService {
  url: string;
  address: ListenAddress;
  cache: DiscoveryCache;
  watcher: ChangeWatcher | ThreadedWatcher | undefined;
  close(): Promise<void>;
}

/**
 * Node's HTTP server limits (node:http createServer options): headers are
 * bounded in size (16 KiB, node's default, said explicitly: a browser's
 * cookies for "localhost" come from every local web app, so less would refuse
 * honest browsers; more is answered 431) and count, and a client must send
 * them within 10 s (slowloris: a client that trickles its headers holds a
 * connection no longer). The service takes no bodies, so a whole request
 * never needs longer than its headers.
 */
export const SERVER_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 15_000,
  keepAliveTimeout: 5_000,
  // How often node looks for connections past those timeouts (default every 30 s).
  connectionsCheckingInterval: 1_000,
} as const;
const MAX_HEADERS_COUNT = 100;

export function defaultWebRoot(): string {
  // dist/service/server.js → <package>/web/dist
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');
}

export async function startService(opts: ServiceOptions = {}): Promise<RunningService> {
  const listen = opts.listen ?? DEFAULT_LISTEN;
  // Before anything starts: a bad --allow-host is an error, not a service that refuses everyone.
  const hosts = new HostPolicy({ listenHost: listen.host, allowHosts: opts.allowHosts });
  // Discoveries run in a worker thread (default): the serving thread only hands out ready bytes.
  // In-process when the caller brings its own run function or container source.
  const inProcess =
    opts.run !== undefined || opts.discoverOptions?.containers !== undefined || opts.worker === false;
  const runner = inProcess
    ? undefined
    : WorkerRunner.create(opts.engines !== false, opts.discoverOptions ?? {}, opts.verify);
  // In-process: one engine tracker for the service's lifetime (it keeps its event streams and caches).
  // The pipeline and the engines' code load only then: with the worker, the serving thread never
  // runs them, and the service listens ~100 ms sooner without them.
  const tracker: EngineTracker | undefined =
    !inProcess || opts.run || opts.discoverOptions?.containers || opts.engines === false
      ? undefined
      : (await import('../engines/index.js')).createEngineTracker();
  const discoverOptions: DiscoverOptions = { ...(opts.discoverOptions ?? {}) };
  if (tracker) discoverOptions.containers = tracker;
  let baseRun: (hint: RunHint) => Promise<Discovery | Product>;
  if (opts.run) baseRun = opts.run;
  else if (runner) baseRun = (hint) => runner.run(hint);
  else {
    const { discover } = await import('../discover.js');
    baseRun = (hint) => discover({ ...discoverOptions, incremental: hint.incremental ? 'reuse' : 'record' });
  }
  const verify = opts.verify?.length ? opts.verify : undefined;
  const drifted = verify && !runner ? withDrift(baseRun, verify) : baseRun;
  // The previous snapshot's documents (buffers outside the heap, freed only with their wrappers)
  // are garbage once a discovery replaced it: given back when the serving thread idles (heap.ts).
  const collector = new IdleCollector();
  const run = (hint: RunHint) => {
    collector.busy();
    return drifted(hint).finally(() => collector.done());
  };
  const cache = new DiscoveryCache(run, { maxAgeMs: opts.maxAgeMs });
  const webRoot = opts.webRoot ?? defaultWebRoot();

  let watcher: ChangeWatcher | ThreadedWatcher | undefined;
  const watchOptions: WatcherOptions = typeof opts.watch === 'object' ? opts.watch : {};
  // Someone is watching the event stream: rediscover soon (coalescing bursts) so they see it.
  // The old polling census (WIRESCOPE_CENSUS=poll, for comparisons) keeps its fixed settle time.
  const settle = new Settler(() => cache.refresh().catch(() => undefined), {
    maxMs: SETTLE_MS,
    quietMs: censusModeOf(watchOptions) === 'poll' ? SETTLE_MS : QUIET_MS,
  });
  const service = createApp({
    cache,
    webRoot: existsSync(webRoot) ? webRoot : undefined,
    token: opts.token,
    hosts,
    streams: opts.streams,
    captures: opts.captures,
    version: opts.version,
    verify: verify !== undefined,
    health: () => ({
      ...(opts.nodeName !== undefined ? { node: opts.nodeName } : {}),
      watchedNamespaces: watcher?.watchedNamespaces ?? 0,
      // Which change sources are live (process connector, mountinfo, rtnetlink, engines) and the full walk's period.
      ...(watcher?.status ? { watch: watcher.status } : {}),
      subscribers: service.subscribers(),
    }),
  });

  if (opts.watch !== false) {
    // The watcher gets its own thread unless everything runs in-process (tests with a custom run).
    const Watcher = inProcess ? ChangeWatcher : ThreadedWatcher;
    watcher = new Watcher(
      (reason, delta) => {
        cache.markDirty(reason, delta);
        if (service.subscribers() > 0) settle.notify();
      },
      {
        ...watchOptions,
        // Holders other than processes that the last discovery saw (bind mounts elsewhere, fds).
        extraPaths: () => cache.peek()?.holders ?? [],
      },
    );
    for (const s of opts.eventSources ?? []) watcher.addSource(s);
    // Engine events (containers started, renamed, relabelled; late syncs) mark results stale.
    if (tracker) watcher.addSource((notify) => tracker.onChange(notify));
    if (runner) watcher.addSource((notify) => runner.onEngineEvent(notify));
  }

  // Sockets, DNS files and engine metadata have no change notifications: while someone watches the
  // event stream, refresh results that outlived --max-age so those changes still reach them.
  const ageCheck = setInterval(() => {
    if (service.subscribers() > 0 && cache.stale) cache.refresh().catch(() => undefined);
  }, 5000);
  ageCheck.unref();

  const mobydig = createMobydig({ cache, checks: service.checks, hosts, token: opts.token });
  const server = await listenHttp(listen, service, mobydig, {
    captures: service.captures,
    admit: service.admit,
    discovery: async () => (await cache.get()).discovery,
    application: `wirescope ${opts.version ?? ''}`.trim(),
  });
  // Listening first (/healthz answers from the start, `ready` false until the first discovery):
  // the watcher's thread starts after, so its start does not compete with the loading of the
  // server's modules on a small host.
  watcher?.start();
  const addr = server.address() as AddressInfo;
  const address = { host: listen.host, port: addr.port };
  const hostText = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${hostText}:${address.port}`,
    address,
    cache,
    watcher,
    close: async () => {
      settle.cancel();
      clearInterval(ageCheck);
      // Captures end with their statistics blocks before the connections are cut.
      service.captures.stopAll();
      await watcher?.stop();
      tracker?.close();
      await runner?.close();
      // Event streams never end by themselves: cut every connection.
      mobydig.wss.close();
      const closeAll = (server as unknown as { closeAllConnections?: () => void }).closeAllConnections;
      await new Promise<void>((r) => {
        server.close(() => r());
        closeAll?.call(server);
      });
    },
  };
}

/**
 * Serves the app on a node:http server with SERVER_LIMITS. Websocket upgrades
 * never reach the app: one listener routes them by path, /mobydig to the
 * check, every other path to the capture socket, which admits its own with
 * the app's checks and refuses the rest (404).
 */
function listenHttp(
  listen: ListenAddress,
  service: ServiceApp,
  mobydig: ReturnType<typeof createMobydig>,
  capturing: Parameters<typeof captureUpgradeHandler>[0],
): Promise<ReturnType<typeof serve>> {
  return new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const s = serve(
      {
        fetch: service.app.fetch,
        hostname: listen.host,
        port: listen.port,
        serverOptions: SERVER_LIMITS,
      },
      () => resolveServer(s),
    );
    // serve() makes a node:http server (no createServer option is given).
    (s as Server).maxHeadersCount = MAX_HEADERS_COUNT;
    const capture = captureUpgradeHandler(capturing);
    (s as Server).on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname === '/mobydig')
        mobydig.upgrade(req, socket, head);
      else capture(req, socket, head);
    });
    s.once('error', reject);
  });
}
