/**
 * The hub's read API: `/api/discovery` (the merged document), `/api/nodes`
 * (who is followed, fresh or stale, since when), `/json?node=NAME` (that
 * node's Ghostwire v1 document, for v1 clients; without `node` only when the
 * hub has one node). Answers are memoised per hub generation and ETagged
 * like the service's (service/routes/deps.ts).
 */
import { Type } from '@sinclair/typebox';
import { Hono } from 'hono';
import { ProblemError, problem } from '../../service/problem.js';
import type { Env } from '../../service/routes/deps.js';
import { sendSnapshotJson } from '../../service/routes/deps.js';
import { readQuery } from '../../service/routes/query.js';
import { hubDocumentBytes, nodesAnswer, nodeV1Bytes } from '../document.js';
import type { HubSnapshots } from './snapshots.js';

const NodeQuerySchema = Type.Object({
  node: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$' })),
});

export function apiRoutes(snaps: HubSnapshots): Hono<Env> {
  const app = new Hono<Env>();
  const { hub } = snaps;

  app.get('/api/discovery', (c) => {
    const snap = snaps.current();
    snap.rendered.set(
      'hub',
      snap.rendered.get('hub') ?? hubDocumentBytes(hub.merged(), snap.generation, hub.source.description),
    );
    return sendSnapshotJson(c, snap, 'hub', () => undefined);
  });

  app.get('/api/nodes', (c) => {
    // Not memoised: lastSeen moves with every keep-alive of every agent.
    const merged = hub.merged();
    const answer = nodesAnswer(merged, hub.generation, hub.source.description);
    const live = new Map(hub.views().map((v) => [v.url, v.lastSeen]));
    return c.json({
      ...answer,
      nodes: answer.nodes.map((n) => {
        const seen = live.get(n.url);
        return { ...n, lastSeen: seen === undefined ? n.lastSeen : new Date(seen).toISOString() };
      }),
    });
  });

  app.get('/json', (c) => {
    const { node } = readQuery(c, NodeQuerySchema);
    const merged = hub.merged();
    const names = [...merged.nodes.keys()];
    const name = node ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined)
      throw new ProblemError(
        problem(400, 'node-required', `this hub serves ${names.length} nodes: ask /json?node=NAME`, {
          nodes: names,
        }),
      );
    const entry = merged.nodes.get(name);
    if (!entry) throw new ProblemError(problem(404, 'no-such-node', `no node "${name}"`, { nodes: names }));
    const d = entry.discovery;
    if (!d)
      throw new ProblemError(
        problem(503, 'node-not-ready', `node "${name}" has not sent its model yet`, {
          state: entry.summary.state,
        }),
      );
    const snap = snaps.current();
    const view = `v1:${name}`;
    snap.rendered.set(view, snap.rendered.get(view) ?? nodeV1Bytes(d));
    return sendSnapshotJson(c, snap, view, () => undefined);
  });

  return app;
}
