/**
 * The hub's `/api/events`: `hello` {generation} on connect, then `change`
 * (contract.ts HubChangeEvent) naming the nodes whose state or model changed;
 * clients fetch `/api/discovery` again. Changes are coalesced for 250 ms (three
 * agents changing together make one event). The stream limits and backlog
 * bounds are the service's (service/events.ts).
 */
import { Hono } from 'hono';
import type { HelloEvent } from '../../service/contract.js';
import { DEFAULT_STREAM_LIMITS, EventHub, type StreamLimits, sseFrame } from '../../service/events.js';
import type { Env } from '../../service/routes/deps.js';
import { openEventStream } from '../../service/routes/stream.js';
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
    const hello: HelloEvent = { generation: hub.generation };
    return openEventStream(c, events, hello);
  });

  return { app, events };
}
