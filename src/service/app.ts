/**
 * The HTTP API (hono): read-only, errors as problem documents, optional
 * bearer token, no CORS headers (browsers keep other origins out).
 *
 * The root app holds the cross-cutting parts only (middleware.ts: the Host,
 * method, body, cross-site and token gates, the security headers, problem
 * documents for errors and unknown paths); each area of routes is a sub-app in
 * routes/, mounted with app.route() after the gates, so every route passes them:
 *
 *   routes/meta.ts        GET /healthz, /api/openapi.json
 *   routes/v1.ts          GET /json, /mobyshark (Ghostwire v1)
 *   routes/native.ts      GET /api/discovery, /api/netns/:ino, /api/containers/:id, /api/schema
 *   routes/verify.ts      GET /api/verify (drift of the labs given with serve --verify)
 *   routes/events.ts      GET /api/events (server-sent events: what changed between discoveries)
 *   routes/capture.ts     GET /api/capture.pcapng (live packets, one pcapng stream)
 *   routes/packetflix.ts  GET /version, /capture (websocket), the /discover/… prefix
 *   routes/check.ts       GET /mobydig (websocket), /api/check/:target (JSON, or SSE)
 *   routes/static.ts      404 for other /api/ paths, then the web UI's files
 *
 * The order of mounting is the order of matching: the catch-alls come last.
 */
import type { IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import type { DiscoveryCache } from './cache.js';
import {
  type CaptureHub,
  type CaptureLimits,
  CaptureHub as Captures,
  DEFAULT_CAPTURE_LIMITS,
} from './capture.js';
import { CheckService } from './check.js';
import type { StreamLimits } from './events.js';
import { HostPolicy } from './host.js';
import { admitter, answerProblems, guardRequests } from './middleware.js';
import type { Problem } from './problem.js';
import { captureRoutes } from './routes/capture.js';
import { checkRoutes, mobydigRoutes } from './routes/check.js';
import { type Env, routeDeps } from './routes/deps.js';
import { eventRoutes } from './routes/events.js';
import { metaRoutes } from './routes/meta.js';
import { nativeRoutes } from './routes/native.js';
import { packetflixRoutes } from './routes/packetflix.js';
import { staticRoutes } from './routes/static.js';
import { v1Routes } from './routes/v1.js';
import { verifyRoutes } from './routes/verify.js';

export { CONTENT_SECURITY_POLICY } from './middleware.js';
export type { Env } from './routes/deps.js';

export interface AppOptions {
  cache: DiscoveryCache;
  /** Folder of the built web UI; without it / answers 404. */
  webRoot?: string;
  /** Bearer token required on /json, /mobyshark and /api/* when set. */
  token?: string;
  version?: string;
  /** Extra facts for /healthz (e.g. watched namespaces). */
  health?: () => Record<string, unknown>;
  /** The names this service answers to (Host header); default: loopback names only. */
  hosts?: HostPolicy;
  /** Limits of the event stream (events.ts). */
  streams?: Partial<StreamLimits>;
  /** Labs are verified after each discovery (serve --verify): /api/verify and drift in change events. */
  verify?: boolean;
  /** Limits of the captures (capture.ts). */
  captures?: Partial<CaptureLimits>;
  /** Runs neighbourhood checks (/api/check/:target, /mobydig); one is made when absent. */
  checks?: CheckService;
}

export interface ServiceApp {
  app: Hono<Env>;
  checks: CheckService;
  /** Open event streams: while there are any, changes are rediscovered eagerly. */
  subscribers(): number;
  /** The running captures (stopped when the service shuts down). */
  captures: CaptureHub;
  /**
   * The checks an API request passes (Host, cross-site, token), for requests
   * that never reach the app: websocket upgrades (capture-ws.ts). A problem refuses.
   */
  admit(req: IncomingMessage): Problem | undefined;
}

export function createApp(opts: AppOptions): ServiceApp {
  const hosts = opts.hosts ?? new HostPolicy({ listenHost: '127.0.0.1' });
  const deps = routeDeps(opts.cache, opts.version ?? '0.1.0');
  const captures = new Captures({ ...DEFAULT_CAPTURE_LIMITS, ...opts.captures });
  const checks = opts.checks ?? new CheckService();
  const events = eventRoutes(deps, opts);

  const app = new Hono<Env>();
  answerProblems(app);
  // Before any route: hono runs middleware in the order registered, for the routes mounted after it.
  guardRequests(app, hosts, opts.token);

  app.route('/', metaRoutes(deps, events.hub, captures, opts.health));
  app.route('/', v1Routes(deps));
  app.route('/', nativeRoutes(deps));
  app.route('/', verifyRoutes(deps, opts.verify === true));
  app.route('/', events.app);
  app.route('/', captureRoutes(deps, captures));
  app.route(
    '/',
    packetflixRoutes(deps, () => app),
  );
  app.route('/', mobydigRoutes());
  app.route('/', checkRoutes(deps, checks));
  app.route('/', staticRoutes(opts.webRoot));

  return { app, checks, subscribers: () => events.hub.size, captures, admit: admitter(hosts, opts.token) };
}
