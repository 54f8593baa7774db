/** About the service itself: `/healthz` (liveness, cache state, limits) and `/api/openapi.json`. */
import { Hono } from 'hono';
import type { CaptureHub } from '../capture.js';
import type { Health } from '../contract.js';
import type { EventHub } from '../events.js';
import { openApiDocument } from '../openapi.js';
import type { Env, RouteDeps } from './deps.js';

export function metaRoutes(
  { cache, version }: RouteDeps,
  hub: EventHub,
  captures: CaptureHub,
  health: (() => Record<string, unknown>) | undefined,
): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/healthz', (c) => {
    const h: Health = {
      status: 'ok',
      version,
      generation: cache.generation,
      discoveries: cache.discoveries,
      ready: cache.peek() !== undefined,
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
    };
    return c.json({ ...h, ...(health?.() ?? {}) });
  });

  app.get('/api/openapi.json', (c) => c.json(openApiDocument(version)));

  return app;
}
