/**
 * The hub's `/api/events`: `hello` {generation} on connect, then `change`
 * (contract.ts HubChangeEvent) naming the nodes whose state or model changed;
 * clients fetch `/api/discovery` again. Changes are coalesced for 250 ms (three
 * agents changing together make one event). The stream limits and backlog
 * bounds are the service's (service/events.ts).
 */
import { Hono } from 'hono';
import type { HelloEvent } from '../../service/contract.js';
import {
  capSendBuffer,
  clientKey,
  DEFAULT_STREAM_LIMITS,
  EventHub,
  type StreamLimits,
  sseFrame,
} from '../../service/events.js';
import { problem, problemResponse } from '../../service/problem.js';
import type { Env } from '../../service/routes/deps.js';
import type { HubChangeEvent } from '../contract.js';
import type { Hub } from '../hub.js';

const COALESCE_MS = 250;

export function hubEventRoutes(
  hub: Hub,
  limits: Partial<StreamLimits> = {},
): { app: Hono<Env>; events: EventHub } {
  const app = new Hono<Env>();
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const ev: HubChangeEvent = { generation: hub.generation, nodes: [...pending].sort() };
    pending = new Set();
    events.broadcast(sseFrame('change', JSON.stringify(ev), String(ev.generation)));
  };
  let unlisten: (() => void) | undefined;
  const events = new EventHub({ ...DEFAULT_STREAM_LIMITS, ...limits }, (active) => {
    unlisten?.();
    unlisten = active
      ? hub.onChange((_, changed) => {
          for (const n of changed) pending.add(n);
          timer ??= setTimeout(flush, COALESCE_MS);
        })
      : undefined;
    if (!active && timer) {
      clearTimeout(timer);
      timer = undefined;
      pending = new Set();
    }
  });

  app.get('/api/events', (c) => {
    const headers = {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'transfer-encoding': 'chunked',
      'x-accel-buffering': 'no',
    };
    if (c.req.method === 'HEAD') return new Response(null, { headers });
    const hello: HelloEvent = { generation: hub.generation };
    const incoming = c.env?.incoming;
    const outgoing = c.env?.outgoing;
    const sink = outgoing && {
      get writableLength() {
        return outgoing.writableLength;
      },
      destroy: () => (outgoing.socket ? outgoing.socket.resetAndDestroy() : outgoing.destroy()),
    };
    const admission = events.open(
      clientKey(incoming?.socket.remoteAddress),
      sink,
      sseFrame('hello', JSON.stringify(hello)),
    );
    if (!admission.ok)
      return problemResponse(problem(admission.status, 'streams-exhausted', admission.detail), {
        'retry-after': '30',
        connection: 'close',
      });
    capSendBuffer(incoming?.socket);
    return new Response(admission.body, { headers });
  });

  return { app, events };
}
