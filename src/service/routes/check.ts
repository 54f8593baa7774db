/**
 * Neighbourhood checks: `GET /api/check/:target` (CheckResult as JSON, or
 * server-sent events for live verdicts) and `/mobydig`, Ghostwire's
 * websocket (served on the HTTP server's upgrade event, mobydig.ts; plain
 * HTTP gets a 426 here). check.ts runs them and bounds how many run at once.
 */
import { Hono } from 'hono';
import { type CheckService, ChecksBusyError, CheckTargetError } from '../check.js';
import type { CheckNeighbourhoodEvent, StreamError } from '../contract.js';
import { sseFrame } from '../events.js';
import { ProblemError, problem, problemResponse } from '../problem.js';
import { type Env, firstLine, type RouteDeps } from './deps.js';

export function mobydigRoutes(): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/mobydig', () =>
    problemResponse(
      problem(426, 'upgrade-required', '/mobydig is a websocket: connect with Upgrade: websocket'),
      { upgrade: 'websocket', connection: 'Upgrade' },
    ),
  );
  return app;
}

type Started = Awaited<ReturnType<CheckService['start']>>;

/** The check's progress as server-sent events: `neighbourhood`, `verdict`s, then `done` or `error`. */
function checkStream(
  started: Started,
  setSink: (controller: ReadableStreamDefaultController<Uint8Array>) => void,
  send: (event: string, data: unknown) => void,
  abort: AbortController,
): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      setSink(controller);
      const hood: CheckNeighbourhoodEvent = {
        ...started.prepared.hood,
        names: started.prepared.plan.names.length,
      };
      send('neighbourhood', hood);
      started.done
        .then(
          (r) => send('done', r),
          (err: unknown) => {
            const failed: StreamError = { message: firstLine(err) };
            send('error', failed);
          },
        )
        .finally(() => {
          try {
            controller.close();
          } catch {
            // already closed by a departed client
          }
        });
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'transfer-encoding': 'chunked',
      'x-accel-buffering': 'no',
    },
  });
}

export function checkRoutes({ snapshot }: RouteDeps, checks: CheckService): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/api/check/:target', async (c) => {
    const target = c.req.param('target');
    const snap = await snapshot(c);
    const sse = /\btext\/event-stream\b/.test(c.req.header('accept') ?? '');
    const abort = new AbortController();
    c.env?.incoming?.once('close', () => abort.abort());
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const send = (event: string, data: unknown) => {
      try {
        stream?.enqueue(new Uint8Array(sseFrame(event, JSON.stringify(data))));
      } catch {
        // the client went away; the abort signal ends the check
      }
    };
    let started: Started;
    try {
      started = await checks.start(snap.discovery, target, {
        signal: abort.signal,
        ...(sse ? { onVerdict: (v) => send('verdict', v) } : {}),
      });
    } catch (err) {
      if (err instanceof CheckTargetError)
        throw new ProblemError(problem(404, 'no-such-target', err.message));
      if (err instanceof ChecksBusyError)
        throw new ProblemError(problem(503, 'checks-busy', err.message), { 'retry-after': '5' });
      throw err;
    }
    if (sse)
      return checkStream(
        started,
        (controller) => {
          stream = controller;
        },
        send,
        abort,
      );
    try {
      return c.json(await started.done);
    } catch (err) {
      throw new ProblemError(problem(500, 'check-failed', `check failed: ${firstLine(err)}`));
    }
  });

  return app;
}
