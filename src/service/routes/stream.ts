/**
 * Opening a Server-Sent Events stream on an EventHub: the headers, the
 * admission (limits per host and per client address), the sink the hub resets
 * when a client reads nothing, and the refusal. Shared by the service's and
 * the hub's `/api/events`.
 */
import type { Context } from 'hono';
import { type Admission, capSendBuffer, clientKey, type EventHub, sseFrame } from '../events.js';
import { problem, problemResponse } from '../problem.js';
import type { Env } from './deps.js';

/** Retry-After of a refused stream: long enough for a place to free up. */
const STREAM_RETRY_AFTER_S = 30;

const STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-store',
  // Chunked from the start: @hono/node-server then streams at once instead of reading ahead.
  'transfer-encoding': 'chunked',
  // Proxies (nginx) must not buffer a stream.
  'x-accel-buffering': 'no',
} as const;

/**
 * Answers a GET (or HEAD) of an event stream whose first event is `hello`.
 * `admitted` runs once a stream is open (to start what feeds it).
 */
export function openEventStream(
  c: Context<Env>,
  hub: EventHub,
  hello: unknown,
  admitted?: (stream: Extract<Admission, { ok: true }>) => void,
): Response {
  if (c.req.method === 'HEAD') return new Response(null, { headers: STREAM_HEADERS });
  const incoming = c.env?.incoming;
  const outgoing = c.env?.outgoing;
  const sink = outgoing && {
    get writableLength() {
      return outgoing.writableLength;
    },
    // A reset, not a FIN: a FIN would wait behind the unsent bytes of a peer that reads nothing,
    // an orphaned socket holding them for minutes. The client (EventSource) reconnects and catches up.
    destroy: () => (outgoing.socket ? outgoing.socket.resetAndDestroy() : outgoing.destroy()),
  };
  const admission = hub.open(
    clientKey(incoming?.socket.remoteAddress),
    sink,
    sseFrame('hello', JSON.stringify(hello)),
  );
  if (!admission.ok) {
    const slug = admission.status === 503 ? 'streams-exhausted' : 'too-many-streams';
    return problemResponse(problem(admission.status, slug, admission.detail), {
      'retry-after': String(STREAM_RETRY_AFTER_S),
      connection: 'close',
    });
  }
  capSendBuffer(incoming?.socket);
  admitted?.(admission);
  return new Response(admission.body, { headers: STREAM_HEADERS });
}
