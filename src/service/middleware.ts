/**
 * The checks every request passes, whichever route area (routes/) answers it,
 * in one place so that no sub-app can skip or reorder them: the Host check
 * (421, DNS rebinding, host.ts), the method and body check (405, 413), for the
 * API the cross-site check (403) and the token (401); every answer leaves with
 * the security headers, and API answers are never stored by caches. `admit`
 * applies the same gates to requests that never reach the app (websocket
 * upgrades: capture-ws.ts, mobydig.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import { crossSiteReason, type HostPolicy } from './host.js';
import { type Problem, ProblemError, problem, problemResponse } from './problem.js';
import type { Env } from './routes/deps.js';
import { tokenChecker } from './token.js';

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

/** Routes that answer with host data (the rest is the web UI's static files). */
export const isApiPath = (path: string): boolean =>
  path === '/json' ||
  path === '/mobyshark' ||
  path === '/mobydig' ||
  path === '/healthz' ||
  path === '/version' ||
  path === '/capture' ||
  path.startsWith('/api/') ||
  path.startsWith('/discover/');

/** The paths the bearer token guards (everything with host data but /healthz and /version). */
const TOKEN_PATHS = ['/json', '/mobyshark', '/mobydig', '/api/*', '/capture', '/discover/*'];

/** Errors thrown anywhere (ProblemError, malformed URLs, bugs) and unknown paths, as problem documents. */
export function answerProblems(app: Hono<Env>): void {
  app.onError((err) => {
    if (err instanceof ProblemError) return problemResponse(err.problem, err.headers);
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (err instanceof URIError) return problemResponse(problem(400, 'bad-request', `malformed URL: ${msg}`));
    return problemResponse(problem(500, 'internal-error', msg));
  });
  app.notFound((c) => problemResponse(problem(404, 'not-found', `no resource at ${c.req.path}`)));
}

/**
 * Registers the gates on the root app. Hono runs middleware registered
 * before `app.route()` for every route mounted after it, so the sub-apps in
 * routes/ register none of their own.
 */
export function guardRequests(app: Hono<Env>, hosts: HostPolicy, token: string | undefined): void {
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

  if (token) {
    const guard = tokenGuard(tokenChecker(token));
    for (const path of TOKEN_PATHS) app.use(path, guard);
  }
}

function tokenGuard(matches: (given: string | undefined) => boolean) {
  return async (c: Context<Env>, next: () => Promise<void>) => {
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
}

/** The gates of an API request (Host, cross-site, token) for a raw node request; a problem refuses. */
export function admitter(
  hosts: HostPolicy,
  token: string | undefined,
): (req: IncomingMessage) => Problem | undefined {
  const matches = token ? tokenChecker(token) : undefined;
  return (req) => {
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
}
