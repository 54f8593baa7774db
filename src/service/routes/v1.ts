/** Ghostwire v1 (`GET /json`, `GET /mobyshark`): the views of src/views/ghostwire-v1, loaded on demand (views.ts). */
import { Hono } from 'hono';
import { ProblemError, problem } from '../problem.js';
import { loadV1View } from '../views.js';
import type { Env, RouteDeps } from './deps.js';

export function v1Routes({ snapshot, sendJson }: RouteDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/json', async (c) => {
    const v1 = await loadV1View();
    if (typeof v1 === 'string') throw new ProblemError(problem(503, 'view-unavailable', v1));
    const snap = await snapshot(c);
    return sendJson(c, snap, 'v1', (s) => v1.toGhostwireV1(s.discovery));
  });

  app.get('/mobyshark', async (c) => {
    const v1 = await loadV1View();
    if (typeof v1 === 'string') throw new ProblemError(problem(503, 'view-unavailable', v1));
    const snap = await snapshot(c);
    return sendJson(c, snap, 'mobyshark', (s) => v1.toMobyshark(s.discovery));
  });

  return app;
}
