/**
 * The HTTP API (hono): read-only, errors as problem documents, optional
 * bearer token, no CORS headers (browsers keep other origins out).
 *
 *   GET /json               Ghostwire-v1 DiscoveryResult
 *   GET /mobyshark          Ghostwire-v1 capture targets
 *   GET /api/discovery      native model        GET /api/netns/:ino, /api/containers/:id
 *   GET /api/events         server-sent events: what changed between discoveries
 *   GET /api/capture.pcapng live packets of the named targets, one pcapng stream (capture.ts)
 *   GET /api/verify         drift of the labs given with serve --verify
 *   GET /api/check/:target  neighbourhood check (JSON, or SSE for live verdicts)
 *   GET /api/openapi.json   GET /api/schema     GET /healthz      GET /  the web UI
 *
 * Every request passes, in this order: the Host check (421, DNS rebinding,
 * host.ts), the method and body check (405, 413), for the API the
 * cross-site check (403) and the token (401). Every answer carries the
 * security headers below; API answers are never stored by caches.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { nativeJsonSchema } from '../views/native.js';
import { DiscoveryCache, type Snapshot } from './cache.js';
import {
  type CaptureHub,
  type CaptureLimits,
  CaptureHub as Captures,
  DEFAULT_CAPTURE_LIMITS,
  parseCaptureQuery,
} from './capture.js';
import { CheckService, ChecksBusyError, CheckTargetError } from './check.js';
import type { ChangeEvent, HelloEvent, VerifyReport } from './contract.js';
import { isEmpty } from './diff.js';
import { driftSummary, sameDrift } from './drift.js';
import {
  capSendBuffer,
  clientKey,
  DEFAULT_STREAM_LIMITS,
  EventHub,
  type StreamLimits,
  sseFrame,
} from './events.js';
import { crossSiteReason, HostPolicy } from './host.js';
import { openApiDocument } from './openapi.js';
import { type Problem, ProblemError, problem, problemResponse } from './problem.js';
import { readStatic } from './static.js';
import { tokenChecker } from './token.js';
import { loadV1View } from './views.js';

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

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The web UI's needs (web/): its own scripts, styles and API, data: for the
 * favicon, blob: for the PNG export (an <img> of a generated SVG); nothing
 * inline, no plugins, no framing (clickjacking), no forms, no <base>.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // frame-ancestors for browsers that predate CSP level 2.
  'x-frame-options': 'DENY',
  // No other origin may embed a response (<script src=/json>, <img>): Spectre-class side channels.
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** How long a client refused by the stream limits should wait (RFC 9110 §10.2.3), seconds. */
const STREAM_RETRY_AFTER_S = 30;

/** Routes that answer with host data (the rest is the web UI's static files). */
const isApiPath = (path: string): boolean =>
  path === '/json' ||
  path === '/mobyshark' ||
  path === '/mobydig' ||
  path === '/healthz' ||
  path === '/version' ||
  path === '/capture' ||
  path.startsWith('/api/') ||
  path.startsWith('/discover/');

const firstLine = (err: unknown): string =>
  err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);

/** The node request and response when served by @hono/node-server; absent under app.fetch alone. */
export type Env = { Bindings: Partial<HttpBindings> };

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
  const { cache } = opts;
  const version = opts.version ?? '0.1.0';
  const hosts = opts.hosts ?? new HostPolicy({ listenHost: '127.0.0.1' });
  const app = new Hono<Env>();
  const captures = new Captures({ ...DEFAULT_CAPTURE_LIMITS, ...opts.captures });

  app.onError((err) => {
    if (err instanceof ProblemError) return problemResponse(err.problem, err.headers);
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (err instanceof URIError) return problemResponse(problem(400, 'bad-request', `malformed URL: ${msg}`));
    return problemResponse(problem(500, 'internal-error', msg));
  });
  app.notFound((c) => problemResponse(problem(404, 'not-found', `no resource at ${c.req.path}`)));

  // Outermost: whatever answers below (handlers, problems, 404s) leaves with these headers.
  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    if (isApiPath(c.req.path)) c.res.headers.set('cache-control', 'no-store');
    // Hono answers HEAD with new Response(null, getResponse), and @hono/node-server's light Response
    // copies the headers it was made with, not ones set since: hand it a bodiless one to copy.
    if (c.req.method === 'HEAD') c.res = new Response(null, { status: c.res.status, headers: c.res.headers });
  });

  // DNS rebinding: answer only requests addressed to a name this service goes by (host.ts).
  app.use('*', async (c, next) => {
    const host = c.req.header('host');
    if (!hosts.allows(host)) {
      const shown = host === undefined ? 'none' : JSON.stringify(host.slice(0, 100));
      return problemResponse(
        problem(
          421,
          'misdirected-request',
          `this service does not answer to the host ${shown}; if clients reach it by that name, start it with --allow-host NAME`,
        ),
        { connection: 'close' },
      );
    }
    await next();
  });

  // Read-only: refuse every method but GET and HEAD before routing (RFC 9110 §15.5.6 wants Allow),
  // and every request body (a GET has no use for one; the connection is closed rather than read on).
  app.use('*', async (c, next) => {
    if (!READ_METHODS.has(c.req.method)) {
      return problemResponse(
        problem(405, 'read-only', `${c.req.method} is not allowed: this service is read-only`),
        { allow: 'GET, HEAD', connection: 'close' },
      );
    }
    const length = c.req.header('content-length');
    if ((length !== undefined && length.trim() !== '0') || c.req.header('transfer-encoding') !== undefined) {
      return problemResponse(problem(413, 'no-body', 'this service accepts no request bodies'), {
        connection: 'close',
      });
    }
    await next();
  });

  // Another site's page may send requests here (an <img>, a form, fetch in no-cors mode) even if it
  // cannot read the answers: the API refuses them, so they neither read nor cost anything.
  app.use('*', async (c, next) => {
    if (isApiPath(c.req.path)) {
      const why = crossSiteReason({
        host: c.req.header('host'),
        origin: c.req.header('origin'),
        secFetchSite: c.req.header('sec-fetch-site'),
      });
      if (why)
        return problemResponse(
          problem(
            403,
            'cross-site',
            `refused ${why}: the API answers only its own web UI and non-browser clients`,
          ),
        );
    }
    await next();
  });

  const matches = opts.token ? tokenChecker(opts.token) : undefined;
  const admit = (req: IncomingMessage): Problem | undefined => {
    const h = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (!hosts.allows(h('host')))
      return problem(421, 'misdirected-request', 'this service does not answer to that host name');
    // A browser opens websockets to any origin: only the service's own pages and non-browsers may.
    const why = crossSiteReason({ host: h('host'), origin: h('origin'), secFetchSite: h('sec-fetch-site') });
    if (why) return problem(403, 'cross-site', `refused ${why}`);
    const auth = h('authorization');
    if (matches && !matches(auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined))
      return problem(401, 'unauthorized', 'a valid bearer token is required');
    return undefined;
  };

  if (matches) {
    const guard = async (c: Context<Env>, next: () => Promise<void>) => {
      const auth = c.req.header('authorization');
      // RFC 6750 §2.1 header. The §2.3 query parameter only where no header can be sent: EventSource
      // (/api/events). Elsewhere a token in a URL ends up in logs, histories and Referer headers.
      const given = auth?.startsWith('Bearer ')
        ? auth.slice(7).trim()
        : c.req.path === '/api/events'
          ? c.req.query('access_token')
          : undefined;
      if (!matches(given)) {
        const detail =
          given === undefined && c.req.query('access_token') !== undefined
            ? 'access_token in the URL is accepted on /api/events only: send "Authorization: Bearer TOKEN"'
            : 'a valid bearer token is required';
        return problemResponse(problem(401, 'unauthorized', detail), {
          'www-authenticate': 'Bearer realm="wirescope"',
        });
      }
      await next();
    };
    app.use('/json', guard);
    app.use('/mobyshark', guard);
    app.use('/mobydig', guard);
    app.use('/api/*', guard);
    app.use('/capture', guard);
    app.use('/discover/*', guard);
  }

  const snapshot = async (c: Context<Env>): Promise<Snapshot> => {
    try {
      return await cache.get({ fresh: c.req.query('fresh') === '1' });
    } catch (err) {
      throw new ProblemError(problem(500, 'discovery-failed', `discovery failed: ${firstLine(err)}`));
    }
  };

  /**
   * Sends a memoised JSON rendering, with a per-generation ETag; gzip when the
   * client accepts it (a 500-namespace document shrinks ~15×), also memoised.
   */
  const sendJson = async (
    c: Context<Env>,
    snap: Snapshot,
    view: string,
    build: () => unknown,
  ): Promise<Response> => {
    const etag = `"g${snap.generation}-${view}"`;
    const headers: Record<string, string> = {
      etag,
      vary: 'accept-encoding',
      'x-wirescope-generation': String(snap.generation),
    };
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers });
    const body = DiscoveryCache.render(snap, view, build);
    headers['content-type'] = 'application/json';
    if (body.length > 8192 && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      const gz = await DiscoveryCache.gzip(snap, view, body);
      return new Response(new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength), {
        headers: { ...headers, 'content-encoding': 'gzip' },
      });
    }
    return new Response(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), { headers });
  };

  app.get('/healthz', (c) =>
    c.json({
      status: 'ok',
      version,
      generation: cache.generation,
      discoveries: cache.discoveries,
      stale: cache.stale,
      lastError: cache.lastError ?? null,
      streams: {
        open: hub.size,
        max: hub.limits.maxStreams,
        maxPerClient: hub.limits.maxStreamsPerClient,
        refused: hub.refused,
        dropped: hub.dropped,
        maxBacklogBytes: hub.limits.maxBacklogBytes,
        peakBacklogBytes: hub.peakBacklog,
      },
      captures: captures.stats(),
      ...(opts.health?.() ?? {}),
    }),
  );

  app.get('/json', async (c) => {
    const v1 = await loadV1View();
    if (typeof v1 === 'string') throw new ProblemError(problem(503, 'view-unavailable', v1));
    const snap = await snapshot(c);
    return sendJson(c, snap, 'v1', () => v1.toGhostwireV1(snap.discovery));
  });

  app.get('/mobyshark', async (c) => {
    const v1 = await loadV1View();
    if (typeof v1 === 'string') throw new ProblemError(problem(503, 'view-unavailable', v1));
    const snap = await snapshot(c);
    return sendJson(c, snap, 'mobyshark', () => v1.toMobyshark(snap.discovery));
  });

  app.get('/api/discovery', async (c) => {
    const snap = await snapshot(c);
    return sendJson(c, snap, 'native', () => snap.discovery);
  });

  app.get('/api/netns/:ino', async (c) => {
    const ino = c.req.param('ino');
    if (!/^\d+$/.test(ino))
      throw new ProblemError(problem(400, 'bad-inode', `"${ino}" is not an inode number`));
    const snap = await snapshot(c);
    const net = snap.discovery.networks[ino];
    if (!net) throw new ProblemError(problem(404, 'no-such-netns', `no network namespace with inode ${ino}`));
    return sendJson(c, snap, `netns-${ino}`, () => net);
  });

  app.get('/api/containers/:id', async (c) => {
    const id = c.req.param('id');
    const snap = await snapshot(c);
    const ct =
      snap.discovery.containers[id] ??
      Object.values(snap.discovery.containers).find(
        (x) => x.name === id || (id.length >= 6 && x.id.startsWith(id)),
      );
    if (!ct) throw new ProblemError(problem(404, 'no-such-container', `no container "${id}"`));
    return sendJson(c, snap, `container-${ct.id}`, () => ct);
  });

  // The drift report is small (a lab's differences): parsed once per snapshot for the event summaries.
  const reports = new WeakMap<Snapshot, VerifyReport>();
  const reportOf = (snap: Snapshot | undefined): VerifyReport | undefined => {
    if (!snap || !opts.verify) return undefined;
    let r = reports.get(snap);
    const bytes = snap.rendered.get('verify');
    if (!r && bytes) {
      r = JSON.parse(bytes.toString('utf8')) as VerifyReport;
      reports.set(snap, r);
    }
    return r;
  };

  // Each change is encoded once, for every subscriber; the cache is listened to (and diffs are
  // computed for it) only while someone subscribes.
  const broadcast = (snap: Snapshot, changes: ChangeEvent['changes'], previous: Snapshot | undefined) => {
    const report = reportOf(snap);
    // Drift can change without a model change (a lab's nft rule or sysctl): that is news too.
    const driftChanged = report !== undefined && !sameDrift(report, reportOf(previous));
    if (isEmpty(changes) && !driftChanged) return;
    const ev: ChangeEvent = {
      generation: snap.generation,
      startedAt: snap.startedAt,
      changes,
      ...(report ? { drift: driftSummary(report) } : {}),
    };
    hub.broadcast(sseFrame('change', JSON.stringify(ev), String(snap.generation)));
  };
  let unlisten: (() => void) | undefined;
  const hub = new EventHub({ ...DEFAULT_STREAM_LIMITS, ...opts.streams }, (active) => {
    unlisten?.();
    unlisten = active ? cache.onSnapshot(broadcast) : undefined;
  });

  app.get('/api/verify', async (c) => {
    if (!opts.verify)
      throw new ProblemError(
        problem(404, 'verify-not-configured', 'no lab to verify: start the service with --verify FILE'),
      );
    const snap = await snapshot(c);
    if (!snap.rendered.has('verify'))
      throw new ProblemError(problem(503, 'verify-unavailable', 'this discovery carries no drift report'));
    return sendJson(c, snap, 'verify', () => undefined);
  });

  app.get('/api/schema', (c) => c.json(nativeJsonSchema()));
  app.get('/api/openapi.json', (c) => c.json(openApiDocument(version)));

  app.get('/api/events', (c) => {
    const headers = {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      // Chunked from the start: @hono/node-server then streams at once instead of reading ahead.
      'transfer-encoding': 'chunked',
      // Proxies (nginx) must not buffer a stream.
      'x-accel-buffering': 'no',
    };
    if (c.req.method === 'HEAD') return new Response(null, { headers });
    const hello: HelloEvent = { generation: cache.generation };
    const incoming = c.env?.incoming;
    const outgoing = c.env?.outgoing;
    const sink = outgoing && {
      get writableLength() {
        return outgoing.writableLength;
      },
      // A reset, not a FIN: a FIN would wait behind the unsent bytes of a peer that reads nothing,
      // an orphaned socket holding them for minutes. The client (EventSource) reconnects and catches up.
      destroy: () => (outgoing.socket ? outgoing.socket.resetAndDestroy() : outgoing.destroy()),
    };
    const admission = hub.open(
      clientKey(incoming?.socket.remoteAddress),
      sink,
      sseFrame('hello', JSON.stringify(hello)),
    );
    if (!admission.ok) {
      const slug = admission.status === 503 ? 'streams-exhausted' : 'too-many-streams';
      return problemResponse(problem(admission.status, slug, admission.detail), {
        'retry-after': String(STREAM_RETRY_AFTER_S),
        connection: 'close',
      });
    }
    capSendBuffer(incoming?.socket);
    // A subscriber wants news: make sure a discovery exists to diff against.
    cache
      .get()
      .catch((err: unknown) =>
        admission.send(sseFrame('error', JSON.stringify({ message: firstLine(err) }))),
      );
    return new Response(admission.body, { headers });
  });

  app.get('/api/capture.pcapng', async (c) => {
    const req = parseCaptureQuery((name) => c.req.queries(name) ?? []);
    const headers = {
      'content-type': 'application/x-pcapng',
      'content-disposition': 'attachment; filename="wirescope.pcapng"',
      'cache-control': 'no-store',
      // Chunked from the start: @hono/node-server then streams at once instead of reading ahead.
      'transfer-encoding': 'chunked',
      'x-accel-buffering': 'no',
    };
    if (c.req.method === 'HEAD') return new Response(null, { headers });
    const snap = await snapshot(c);
    const outgoing = c.env?.outgoing;
    const body = await captures.open(
      snap.discovery,
      clientKey(c.env?.incoming?.socket.remoteAddress),
      req,
      () => outgoing?.writableLength ?? 0,
      `wirescope ${version}`,
    );
    return new Response(body, { headers });
  });

  // Packetflix: the name without a version, and the version.
  app.get('/version', (c) => c.json({ name: 'wirescope', version }));

  // Packetflix answers a plain HTTP request for its websocket with a polite refusal.
  const noUpgrade = () =>
    problemResponse(
      problem(
        426,
        'websocket-required',
        'captures at /capture are websockets; plain HTTP: /api/capture.pcapng',
      ),
      { upgrade: 'websocket' },
    );
  app.get('/capture', noUpgrade);
  app.get('/discover/capture', noUpgrade);

  // Packetflix's discovery prefix: clients configured with one base URL ask /discover/mobyshark for
  // targets and open /capture. The same app answers the path without the prefix, with every check.
  app.get('/discover/*', (c) => {
    const url = new URL(c.req.url);
    url.pathname = url.pathname.slice('/discover'.length);
    return app.fetch(new Request(url, c.req.raw), c.env);
  });

  const checks = opts.checks ?? new CheckService();
  // The websocket itself is served on the HTTP server's upgrade event (mobydig.ts).
  app.get('/mobydig', () =>
    problemResponse(
      problem(426, 'upgrade-required', '/mobydig is a websocket: connect with Upgrade: websocket'),
      { upgrade: 'websocket', connection: 'Upgrade' },
    ),
  );
  app.get('/api/check/:target', async (c) => {
    const target = c.req.param('target');
    const snap = await snapshot(c);
    const sse = /\btext\/event-stream\b/.test(c.req.header('accept') ?? '');
    const abort = new AbortController();
    c.env?.incoming?.once('close', () => abort.abort());
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const send = (event: string, data: unknown) => {
      try {
        stream?.enqueue(new Uint8Array(sseFrame(event, JSON.stringify(data))));
      } catch {
        // the client went away; the abort signal ends the check
      }
    };
    let started: ReturnType<CheckService['start']>;
    try {
      started = checks.start(snap.discovery, target, {
        signal: abort.signal,
        ...(sse ? { onVerdict: (v) => send('verdict', v) } : {}),
      });
    } catch (err) {
      if (err instanceof CheckTargetError)
        throw new ProblemError(problem(404, 'no-such-target', err.message));
      if (err instanceof ChecksBusyError)
        throw new ProblemError(problem(503, 'checks-busy', err.message), { 'retry-after': '5' });
      throw err;
    }
    if (!sse) {
      try {
        return c.json(await started.done);
      } catch (err) {
        throw new ProblemError(problem(500, 'check-failed', `check failed: ${firstLine(err)}`));
      }
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        stream = controller;
        send('neighbourhood', { ...started.prepared.hood, names: started.prepared.plan.names.length });
        started.done
          .then(
            (r) => send('done', r),
            (err: unknown) => send('error', { message: firstLine(err) }),
          )
          .finally(() => {
            try {
              controller.close();
            } catch {
              // already closed by a departed client
            }
          });
      },
      cancel() {
        abort.abort();
      },
    });
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        'transfer-encoding': 'chunked',
        'x-accel-buffering': 'no',
      },
    });
  });

  app.get('/api/*', (c) => problemResponse(problem(404, 'not-found', `no API resource at ${c.req.path}`)));

  app.get('*', async (c) => {
    if (!opts.webRoot) throw new ProblemError(problem(404, 'not-found', 'the web UI is not built'));
    const f = await readStatic(opts.webRoot, c.req.path);
    if (!f) throw new ProblemError(problem(404, 'not-found', `no file at ${c.req.path}`));
    return new Response(new Uint8Array(f.body), {
      headers: {
        'content-type': f.type,
        'cache-control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      },
    });
  });

  return { app, checks, subscribers: () => hub.size, captures, admit };
}
