/**
 * The HTTP API (hono): read-only, errors as problem documents, optional
 * bearer token, no CORS headers (browsers keep other origins out).
 *
 *   GET /json               Ghostwire-v1 DiscoveryResult
 *   GET /mobyshark          Ghostwire-v1 capture targets
 *   GET /api/discovery      native model        GET /api/netns/:ino, /api/containers/:id
 *   GET /api/events         server-sent events: what changed between discoveries
 *   GET /api/verify         drift of the labs given with serve --verify
 *   GET /api/openapi.json   GET /api/schema     GET /healthz      GET /  the web UI
 */
import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { nativeJsonSchema } from '../views/native.js';
import { DiscoveryCache, type Snapshot } from './cache.js';
import type { ChangeEvent, HelloEvent, VerifyReport } from './contract.js';
import { isEmpty } from './diff.js';
import { driftSummary, sameDrift } from './drift.js';
import { openApiDocument } from './openapi.js';
import { ProblemError, problem, problemResponse } from './problem.js';
import { readStatic } from './static.js';
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
  /** SSE keep-alive comment period (ms). */
  heartbeatMs?: number;
  /** Labs are verified after each discovery (serve --verify): /api/verify and drift in change events. */
  verify?: boolean;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface ServiceApp {
  app: Hono;
  /** Open event streams: while there are any, changes are rediscovered eagerly. */
  subscribers(): number;
}

export function createApp(opts: AppOptions): ServiceApp {
  const { cache } = opts;
  const listeners = new Set<(m: { event: string; data: string }) => void>();
  const version = opts.version ?? '0.1.0';
  const app = new Hono();

  app.onError((err) => {
    if (err instanceof ProblemError) return problemResponse(err.problem, err.headers);
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (err instanceof URIError) return problemResponse(problem(400, 'bad-request', `malformed URL: ${msg}`));
    return problemResponse(problem(500, 'internal-error', msg));
  });
  app.notFound((c) => problemResponse(problem(404, 'not-found', `no resource at ${c.req.path}`)));

  // Read-only: refuse every method but GET and HEAD before routing (RFC 9110 §15.5.6 wants Allow).
  app.use('*', async (c, next) => {
    if (!READ_METHODS.has(c.req.method)) {
      return problemResponse(
        problem(405, 'read-only', `${c.req.method} is not allowed: this service is read-only`),
        {
          allow: 'GET, HEAD',
        },
      );
    }
    await next();
  });

  if (opts.token) {
    const token = opts.token;
    const guard = async (c: Context, next: () => Promise<void>) => {
      const auth = c.req.header('authorization');
      // RFC 6750 §2.1 header, or §2.3 query parameter (EventSource cannot set headers).
      const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : c.req.query('access_token');
      if (!tokenMatches(token, given)) {
        return problemResponse(problem(401, 'unauthorized', 'a valid bearer token is required'), {
          'www-authenticate': 'Bearer realm="wirescope"',
        });
      }
      await next();
    };
    app.use('/json', guard);
    app.use('/mobyshark', guard);
    app.use('/api/*', guard);
  }

  const snapshot = async (c: Context): Promise<Snapshot> => {
    try {
      return await cache.get({ fresh: c.req.query('fresh') === '1' });
    } catch (err) {
      const msg = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      throw new ProblemError(problem(500, 'discovery-failed', `discovery failed: ${msg}`));
    }
  };

  /**
   * Sends a memoised JSON rendering, with a per-generation ETag; gzip when the
   * client accepts it (a 500-namespace document shrinks ~15×), also memoised.
   */
  const sendJson = async (
    c: Context,
    snap: Snapshot,
    view: string,
    build: () => unknown,
  ): Promise<Response> => {
    const etag = `"g${snap.generation}-${view}"`;
    const headers: Record<string, string> = {
      etag,
      'cache-control': 'no-cache',
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

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let closed = false;
      const queue: { event: string; data: string; id?: string }[] = [];
      let wake: (() => void) | undefined;
      const push = (m: { event: string; data: string; id?: string }) => {
        queue.push(m);
        wake?.();
      };
      const off = cache.onSnapshot((snap, changes, previous) => {
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
        push({ event: 'change', id: String(snap.generation), data: JSON.stringify(ev) });
      });
      stream.onAbort(() => {
        closed = true;
        off();
        wake?.();
      });
      listeners.add(push);
      const hello: HelloEvent = { generation: cache.generation };
      await stream.writeSSE({ event: 'hello', data: JSON.stringify(hello) });
      // A subscriber wants news: make sure a discovery exists to diff against.
      cache
        .get()
        .catch((err: unknown) => push({ event: 'error', data: JSON.stringify({ message: String(err) }) }));
      const heartbeatMs = opts.heartbeatMs ?? 15_000;
      try {
        while (!closed) {
          while (queue.length > 0 && !closed) {
            const m = queue.shift()!;
            await stream.writeSSE(m);
          }
          if (closed) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, heartbeatMs).unref();
          });
          wake = undefined;
          if (queue.length === 0 && !closed) await stream.write(': keep-alive\n\n');
        }
      } finally {
        off();
        listeners.delete(push);
      }
    }),
  );

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

  return { app, subscribers: () => listeners.size };
}
