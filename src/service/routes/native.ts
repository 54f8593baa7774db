/** The native model (`/api/discovery`, one namespace, one container) and its JSON Schema (`/api/schema`). */
import { Value } from '@sinclair/typebox/value';
import { Hono } from 'hono';
import { nativeJsonSchema } from '../../views/native.js';
import { ProblemError, problem } from '../problem.js';
import { PathParamsSchema } from '../schema.js';
import type { Env, RouteDeps } from './deps.js';

export function nativeRoutes({ snapshot, sendJson }: RouteDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/api/discovery', async (c) => {
    const snap = await snapshot(c);
    return sendJson(c, snap, 'native', (s) => s.discovery);
  });

  app.get('/api/netns/:ino', async (c) => {
    const ino = c.req.param('ino');
    if (!Value.Check(PathParamsSchema.properties.ino, ino))
      throw new ProblemError(problem(400, 'bad-inode', `"${ino}" is not an inode number`));
    const snap = await snapshot(c);
    const net = snap.discovery.networks[ino];
    if (!net) throw new ProblemError(problem(404, 'no-such-netns', `no network namespace with inode ${ino}`));
    return sendJson(c, snap, `netns-${ino}`, () => net);
  });

  // By key, name, or an id prefix long enough not to be a name's accident.
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

  app.get('/api/schema', (c) => c.json(nativeJsonSchema()));

  return app;
}
