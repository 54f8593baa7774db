/**
 * What the route areas share: the hono environment, the discovery snapshot of
 * a request (with `?fresh=1`) and the memoised, ETagged JSON answer. Built
 * once per app by createApp (app.ts) and handed to every sub-app.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { DiscoveryCache, type Snapshot } from '../cache.js';
import { ProblemError, problem } from '../problem.js';
import { FreshQuerySchema } from '../schema.js';
import { readQuery } from './query.js';

/** The node request and response when served by @hono/node-server; absent under app.fetch alone. */
export type Env = { Bindings: Partial<HttpBindings> };

export const firstLine = (err: unknown): string =>
  err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);

export interface RouteDeps {
  cache: DiscoveryCache;
  version: string;
  /** The discovery this request is answered from: `?fresh=1` waits for one that starts after it. */
  snapshot(c: Context<Env>): Promise<Snapshot>;
  /**
   * Sends a memoised JSON rendering, with a per-generation ETag; gzip when the
   * client accepts it (a 500-namespace document shrinks ~15×), also memoised.
   */
  sendJson(
    c: Context<Env>,
    snap: Snapshot,
    view: string,
    build: (snap: Snapshot) => unknown,
  ): Promise<Response>;
}

export function routeDeps(cache: DiscoveryCache, version: string): RouteDeps {
  const snapshot = async (c: Context<Env>): Promise<Snapshot> => {
    const { fresh } = readQuery(c, FreshQuerySchema);
    try {
      return await cache.get({ fresh: fresh === '1' });
    } catch (err) {
      throw new ProblemError(problem(500, 'discovery-failed', `discovery failed: ${firstLine(err)}`));
    }
  };

  return { cache, version, snapshot, sendJson: sendSnapshotJson };
}

/**
 * RouteDeps.sendJson: a memoised JSON rendering of a snapshot, ETagged per
 * generation and view (rendered where the model lives: the discovery worker
 * when it still holds it), gzipped (memoised too) when the client accepts it.
 * Exported for the hub (src/hub/), which serves its merged snapshots the same way.
 */
export async function sendSnapshotJson(
  c: Context<Env>,
  snap: Snapshot,
  view: string,
  build: (snap: Snapshot) => unknown,
): Promise<Response> {
  const asked = headersOf(snap, view);
  if (c.req.header('if-none-match') === asked.etag)
    return new Response(null, { status: 304, headers: asked });
  // Possibly of a newer snapshot than `snap` (renderNewest): the headers name the one answering.
  const { snap: answered, body } = await DiscoveryCache.renderNewest(snap, view, build);
  const headers = headersOf(answered, view);
  headers['content-type'] = 'application/json';
  if (body.length > 8192 && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    const gz = await DiscoveryCache.gzip(answered, view, body);
    return new Response(new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength), {
      headers: { ...headers, 'content-encoding': 'gzip' },
    });
  }
  return new Response(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), { headers });
}

/** The headers naming a snapshot's rendering of `view`: its ETag (per generation and view) and generation. */
const headersOf = (snap: Snapshot, view: string): Record<string, string> => ({
  etag: `"g${snap.generation}-${view}"`,
  vary: 'accept-encoding',
  'x-wirescope-generation': String(snap.generation),
});
