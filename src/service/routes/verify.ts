/**
 * `GET /api/verify`: the drift report (VerifyReport, schema.ts) that drift.ts
 * renders with every discovery when the service runs with `--verify`.
 */
import { Hono } from 'hono';
import { ProblemError, problem } from '../problem.js';
import type { Env, RouteDeps } from './deps.js';

export function verifyRoutes({ snapshot, sendJson }: RouteDeps, verify: boolean): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/api/verify', async (c) => {
    if (!verify)
      throw new ProblemError(
        problem(404, 'verify-not-configured', 'no lab to verify: start the service with --verify FILE'),
      );
    const snap = await snapshot(c);
    if (!snap.rendered.has('verify'))
      throw new ProblemError(problem(503, 'verify-unavailable', 'this discovery carries no drift report'));
    // Rendered already (drift.ts): the build callback is never called.
    return sendJson(c, snap, 'verify', () => undefined);
  });

  return app;
}
