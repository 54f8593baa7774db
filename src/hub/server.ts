/**
 * `wirescope hub`'s HTTP server: the hub's API and the web UI, behind the
 * service's gates (service/middleware.ts: Host header policy against DNS
 * rebinding, read-only methods, no bodies, cross-site refusal, the optional
 * bearer token) on a node:http server with the service's limits
 * (service/server.ts SERVER_LIMITS).
 *
 *   GET /healthz         the hub's health: nodes fresh/stale/connecting, the source's error
 *   GET /api/nodes       routes/api.ts
 *   GET /api/discovery   routes/api.ts (the merged document)
 *   GET /json?node=NAME  routes/api.ts (one node's Ghostwire v1 document)
 *   GET /api/events      routes/events.ts
 *   anything else        the web UI (service/routes/static.ts)
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { StreamLimits } from '../service/events.js';
import { HostPolicy } from '../service/host.js';
import { DEFAULT_LISTEN, type ListenAddress } from '../service/listen.js';
import { answerProblems, guardRequests } from '../service/middleware.js';
import type { Env } from '../service/routes/deps.js';
import { staticRoutes } from '../service/routes/static.js';
import { defaultWebRoot, SERVER_LIMITS } from '../service/server.js';
import type { HubHealth } from './contract.js';
import type { Hub } from './hub.js';
import { apiRoutes } from './routes/api.js';
import { hubEventRoutes } from './routes/events.js';
import { HubSnapshots } from './routes/snapshots.js';

export interface HubServerOptions {
  listen?: ListenAddress;
  /** Bearer token the hub's own clients must send (not the agents'). */
  token?: string;
  allowHosts?: string[];
  /** Web UI folder (default: web/dist of this package, as the service's). */
  webRoot?: string;
  version?: string;
  streams?: Partial<StreamLimits>;
}

export interface RunningHub {
  url: string;
  address: ListenAddress;
  close(): Promise<void>;
}

export function createHubApp(hub: Hub, opts: HubServerOptions & { hosts: HostPolicy }): Hono<Env> {
  const app = new Hono<Env>();
  answerProblems(app);
  guardRequests(app, opts.hosts, opts.token);
  app.get('/healthz', (c) => {
    const counts = { fresh: 0, stale: 0, connecting: 0 };
    for (const v of hub.views()) counts[v.state]++;
    const h: HubHealth = {
      status: 'ok',
      hub: true,
      version: opts.version ?? '0.1.0',
      generation: hub.generation,
      source: hub.source.description,
      nodes: counts,
      sourceError: hub.sourceError ?? null,
    };
    return c.json(h);
  });
  app.route('/', apiRoutes(new HubSnapshots(hub)));
  app.route('/', hubEventRoutes(hub, opts.streams).app);
  app.route('/', staticRoutes(opts.webRoot));
  return app;
}

/** Starts the hub (its followers) and serves it; close() stops both. */
export async function startHub(hub: Hub, opts: HubServerOptions = {}): Promise<RunningHub> {
  const listen = opts.listen ?? DEFAULT_LISTEN;
  const hosts = new HostPolicy({ listenHost: listen.host, allowHosts: opts.allowHosts });
  const webRoot = opts.webRoot ?? defaultWebRoot();
  const app = createHubApp(hub, { ...opts, hosts, webRoot: existsSync(webRoot) ? webRoot : undefined });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: app.fetch, hostname: listen.host, port: listen.port, serverOptions: SERVER_LIMITS },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  hub.start();
  const port = (server.address() as AddressInfo).port;
  const hostText = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${hostText}:${port}`,
    address: { host: listen.host, port },
    close: async () => {
      hub.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as Server).closeAllConnections();
      });
    },
  };
}
