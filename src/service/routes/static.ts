/**
 * Mounted last, after every other area: a 404 problem for unknown `/api/`
 * paths (not the UI's index), and the web UI's built files (../static.ts
 * reads them from web/dist, refusing anything outside it).
 */
import { Hono } from 'hono';
import { ProblemError, problem, problemResponse } from '../problem.js';
import { readStatic } from '../static.js';
import type { Env } from './deps.js';

export function staticRoutes(webRoot: string | undefined): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/api/*', (c) => problemResponse(problem(404, 'not-found', `no API resource at ${c.req.path}`)));

  app.get('*', async (c) => {
    if (!webRoot) throw new ProblemError(problem(404, 'not-found', 'the web UI is not built'));
    const f = await readStatic(webRoot, c.req.path);
    if (!f) throw new ProblemError(problem(404, 'not-found', `no file at ${c.req.path}`));
    return new Response(new Uint8Array(f.body), {
      headers: {
        'content-type': f.type,
        'cache-control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      },
    });
  });

  return app;
}
