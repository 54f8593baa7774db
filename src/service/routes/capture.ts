/**
 * `GET /api/capture.pcapng`: live packets of the named targets as one pcapng
 * stream. Admission, limits and the pulled body are capture.ts's; the query
 * is checked against CaptureQuerySchema, then parsed (lists, numbers, limits).
 */
import { Hono } from 'hono';
import { type CaptureHub, parseCaptureQuery } from '../capture.js';
import { clientKey } from '../events.js';
import { CaptureQuerySchema } from '../schema.js';
import type { Env, RouteDeps } from './deps.js';
import { readQuery } from './query.js';

export function captureRoutes({ snapshot, version }: RouteDeps, captures: CaptureHub): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/api/capture.pcapng', async (c) => {
    const query: Record<string, string | string[] | undefined> = readQuery(
      c,
      CaptureQuerySchema,
      'bad-capture-request',
    );
    const req = parseCaptureQuery((name) => {
      const v = query[name];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    });
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

  return app;
}
