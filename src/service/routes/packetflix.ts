/**
 * Packetflix's side of the API: `/version`, the capture websocket `/capture`
 * (served on the HTTP server's upgrade event, capture-ws.ts; plain HTTP gets a
 * 426 here) and the `/discover/…` prefix that Packetflix clients put before
 * every path.
 */
import type { Hono as HonoApp } from 'hono';
import { Hono } from 'hono';
import type { Version } from '../contract.js';
import { problem, problemResponse } from '../problem.js';
import type { Env, RouteDeps } from './deps.js';

/** `root` is the whole app: `/discover/X` is answered as `/X`, through every check again. */
export function packetflixRoutes({ version }: RouteDeps, root: () => HonoApp<Env>): Hono<Env> {
  const app = new Hono<Env>();

  // Packetflix: the name without a version, and the version.
  app.get('/version', (c) => {
    const v: Version = { name: 'wirescope', version };
    return c.json(v);
  });

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
    return root().fetch(new Request(url, c.req.raw), c.env);
  });

  return app;
}
