/**
 * HTTP on an engine's unix socket, bounded against a hostile engine (any user
 * can run a process named `dockerd`): every request has an overall deadline
 * that aborts it (not an idle timeout, which a server that trickles one byte
 * at a time never trips), answers are capped in size, and the event stream
 * is split into lines of bounded length.
 *
 * This replaces dockerode for the engine clients: dockerode (docker-modem)
 * only offers a socket idle timeout and buffers whole answers without a
 * limit, so neither bound can be had through it.
 */
import { type IncomingMessage, type RequestOptions, request } from 'node:http';
import { connect } from 'node:net';

/** Largest answer accepted from an engine (a list of thousands of containers is a few MiB). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** Longest event line accepted (a Docker event is well under 4 KiB). */
export const MAX_EVENT_LINE_BYTES = 1024 * 1024;

export interface RequestLimits {
  /** Overall deadline of the request, from sending to the last byte. */
  deadlineMs: number;
  /** Cap on the answer body (default MAX_ANSWER_BYTES). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export class EngineAnswerError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'EngineAnswerError';
  }
}

function mib(n: number): string {
  return `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
}

/**
 * A GET on a unix socket without an agent: the agent's TLS server-name check
 * (net.isIP on the Host header) compiles Node's IPv6 regular expression on its
 * first call, 15-30 ms of a one-shot discovery; no agent also means no kept-alive
 * socket from one request to the next (one connect per request, a unix socket's is cheap).
 */
function unixGet(socketPath: string, path: string, signal: AbortSignal | undefined): RequestOptions {
  return { path, method: 'GET', headers: { host: 'd' }, signal, createConnection: () => connect(socketPath) };
}

/** GET `path` and parse its JSON answer, within the deadline and size cap. */
export function getJson(socketPath: string, path: string, limits: RequestLimits): Promise<unknown> {
  const max = limits.maxBytes ?? MAX_ANSWER_BYTES;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (e: Error | undefined, v?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(v);
    };
    const req = request(unixGet(socketPath, path, limits.signal), (res) => {
      started = true;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > max) {
        finish(new EngineAnswerError(`GET ${path}: answer of ${mib(declared)} exceeds the ${mib(max)} cap`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) {
          finish(new EngineAnswerError(`GET ${path}: answer exceeds the ${mib(max)} cap`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', (e) => finish(e));
      res.on('end', () => {
        if (done) return;
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 400) {
          finish(new EngineAnswerError(`GET ${path}: HTTP ${res.statusCode}`, res.statusCode));
          return;
        }
        try {
          finish(undefined, JSON.parse(body));
        } catch {
          finish(new EngineAnswerError(`GET ${path}: malformed JSON`));
        }
      });
    });
    let started = false;
    const timer = setTimeout(
      () =>
        finish(
          new EngineAnswerError(
            started
              ? `GET ${path}: answer incomplete after ${limits.deadlineMs} ms`
              : `GET ${path}: no answer within ${limits.deadlineMs} ms`,
          ),
        ),
      limits.deadlineMs,
    );
    req.on('error', (e) => finish(e));
    req.end();
  });
}

/** Splits a chunked newline-delimited JSON stream into objects, each line at most `maxLine` bytes. */
export class JsonLines {
  private rest = '';
  constructor(private readonly maxLine = MAX_EVENT_LINE_BYTES) {}
  /** Returns the complete lines' objects; throws when a line grows past the cap. */
  push(chunk: string): unknown[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    if (Buffer.byteLength(this.rest) > this.maxLine) {
      this.rest = '';
      throw new EngineAnswerError(`event line exceeds the ${mib(this.maxLine)} cap`);
    }
    const out: unknown[] = [];
    for (const l of lines) {
      const s = l.trim();
      if (!s) continue;
      if (Buffer.byteLength(s) > this.maxLine)
        throw new EngineAnswerError(`event line exceeds the ${mib(this.maxLine)} cap`);
      try {
        out.push(JSON.parse(s));
      } catch {
        // A malformed event line is skipped; the next resync corrects the cache.
      }
    }
    return out;
  }
}

export interface EventStream {
  close(): void;
  /** The answer's Server header ("Docker/20.10.24 (linux)", "Libpod/4.3.1 (linux)"), if any. */
  readonly server: string | undefined;
}

/**
 * Opens a streaming GET (the engine's /events): the response headers must
 * arrive within `deadlineMs`; after that the stream may stay idle for ever
 * (events are rare), but each line is bounded. `onObject` gets each parsed
 * line; `onEnd` is called once, with the reason, when the stream stops.
 */
export function openEventStream(
  socketPath: string,
  path: string,
  limits: RequestLimits & { maxLine?: number },
  onObject: (o: unknown) => void,
  onEnd: (e: Error) => void,
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    let opened = false;
    let ended = false;
    let res: IncomingMessage | undefined;
    const end = (e: Error) => {
      if (!opened) {
        clearTimeout(timer);
        opened = true;
        req.destroy();
        reject(e);
        return;
      }
      if (ended) return;
      ended = true;
      req.destroy();
      res?.destroy();
      onEnd(e);
    };
    const req = request(unixGet(socketPath, path, limits.signal), (r) => {
      res = r;
      if ((r.statusCode ?? 0) >= 400) {
        end(new EngineAnswerError(`GET ${path}: HTTP ${r.statusCode}`, r.statusCode));
        return;
      }
      clearTimeout(timer);
      opened = true;
      const lines = new JsonLines(limits.maxLine);
      r.on('data', (c: Buffer) => {
        if (ended) return;
        let objs: unknown[];
        try {
          objs = lines.push(c.toString('utf8'));
        } catch (e) {
          end(e as Error);
          return;
        }
        for (const o of objs) onObject(o);
      });
      r.on('error', (e) => end(e));
      r.on('end', () => end(new Error('event stream ended')));
      r.on('close', () => end(new Error('event stream ended')));
      const server = r.headers.server;
      resolve({
        close: () => end(new Error('closed')),
        server: typeof server === 'string' ? server : undefined,
      });
    });
    const timer = setTimeout(
      () => end(new EngineAnswerError(`GET ${path}: no answer within ${limits.deadlineMs} ms`)),
      limits.deadlineMs,
    );
    req.on('error', (e) => end(e));
    req.end();
  });
}
