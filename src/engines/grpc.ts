/**
 * A small gRPC client over node:http2 on a unix socket, for containerd and
 * CRI: unary calls and one server stream (containerd's events), with the
 * messages coded by protobuf.ts. It replaces @grpc/grpc-js with
 * proto-loader/protobufjs, whose load alone cost ~150 ms of a one-shot
 * discovery (ARCHITECTURE.md "Start-up cost").
 *
 * The protocol (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 * a POST to /package.Service/Method with `content-type: application/grpc` and
 * `te: trailers`; each message is framed as 1 byte compressed-flag + 4 bytes
 * big-endian length + the message; the status comes in `grpc-status`/
 * `grpc-message` trailers (or in the headers of a trailers-only answer).
 *
 * The engine is untrusted: a message above MAX_ANSWER_BYTES is refused before
 * it is buffered, compressed messages are refused (we advertise no
 * grpc-accept-encoding, so a server may not send them), a unary answer must
 * hold exactly one message, and every call has a deadline.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { MAX_ANSWER_BYTES } from './http.js';
import { decode, encode, type PbObject, type Schema } from './protobuf.js';
import { withTimeout } from './types.js';

const { NGHTTP2_CANCEL } = http2.constants;

/** gRPC status codes used in messages (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** A grpc-message trailer is percent-encoded; a hostile one is cut and stripped of control characters. */
function grpcMessage(raw: unknown): string {
  let text = typeof raw === 'string' ? raw.slice(0, 512) : '';
  try {
    text = decodeURIComponent(text);
  } catch {
    // not valid percent-encoding: keep it as sent
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

export function statusError(code: number, message: string): Error {
  const name = STATUS_NAMES[code] ?? `status ${code}`;
  return new Error(message ? `${name}: ${message}` : name);
}

/**
 * Splits gRPC's length-prefixed messages out of a byte stream as they come,
 * refusing one above `max` bytes before buffering it.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  /** The complete messages in what has arrived so far; throws on a refused frame. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.size < 5) break;
      const head = this.peek(5);
      if (head[0] !== 0) throw new Error('compressed message (no compression was offered)');
      const len = head.readUInt32BE(1);
      if (len > this.max)
        throw new Error(`answer exceeds the ${this.max / 1024 / 1024} MiB cap (a message of ${len} bytes)`);
      if (this.size < 5 + len) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      out.push(all.subarray(5, 5 + len));
      const rest = all.subarray(5 + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }

  /** Bytes of an unfinished message left when the stream ended. */
  get pending(): number {
    return this.size;
  }

  private peek(n: number): Buffer {
    if ((this.chunks[0] as Buffer).length >= n) return this.chunks[0] as Buffer;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
}

function frame(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

export interface ServerStream {
  cancel(): void;
}

export interface StreamHandlers {
  onMessage: (m: PbObject) => void;
  /** Once, when the stream fails or ends (an engine's event stream should never end). */
  onEnd: (err: Error) => void;
}

/**
 * One HTTP/2 connection to an engine's unix socket, opened on the first call
 * and again after it broke; every call is a stream of it.
 */
export class GrpcClient {
  private session: http2.ClientHttp2Session | undefined;
  private ready: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly api: string,
    private readonly maxBytes = MAX_ANSWER_BYTES,
  ) {}

  private connect(): http2.ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = http2.connect('http://localhost', {
      createConnection: () => net.connect(this.api),
      // Larger windows than the 64 KiB default: a big list arrives without waiting for WINDOW_UPDATEs.
      settings: { initialWindowSize: 4 * 1024 * 1024 },
    });
    this.session = session;
    this.ready = new Promise<void>((resolve, reject) => {
      // The server's SETTINGS frame: an HTTP/2 server answers on the socket.
      session.once('remoteSettings', () => resolve());
      session.once('error', (e: Error) => reject(new Error(`not connected: ${e.message}`)));
      session.once('close', () => reject(new Error('not connected: connection closed')));
    });
    this.ready.catch(() => undefined);
    // Errors reach each call's stream; an unhandled 'error' would end the process.
    session.on('error', () => undefined);
    return session;
  }

  /** Resolves when the engine's HTTP/2 server has answered the connection. */
  waitForReady(timeoutMs: number): Promise<void> {
    this.connect();
    return withTimeout(this.ready as Promise<void>, timeoutMs, 'connection');
  }

  private open(
    path: string,
    req: Uint8Array,
    timeoutMs: number | undefined,
    metadata: Record<string, string>,
  ) {
    if (this.closed) throw new Error('client closed');
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...metadata,
    };
    // grpc-timeout: at most 8 digits and a unit (m = milliseconds).
    if (timeoutMs !== undefined) headers['grpc-timeout'] = `${Math.max(1, Math.min(timeoutMs, 99_999_999))}m`;
    const stream = this.connect().request(headers);
    stream.end(frame(req));
    return stream;
  }

  /** One request, one answer. Metadata keys are lower-case ASCII (HTTP/2 headers). */
  unary<T = PbObject>(
    path: string,
    reqSchema: Schema,
    req: PbObject,
    resSchema: Schema,
    timeoutMs: number,
    metadata: Record<string, string> = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.open(path, encode(reqSchema, req), timeoutMs, metadata);
      } catch (e) {
        reject(e);
        return;
      }
      const frames = new FrameReader(this.maxBytes);
      const messages: Buffer[] = [];
      let status: number | undefined;
      let statusMessage = '';
      let settled = false;
      const finish = (err: Error | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
        if (err) reject(err);
        else resolve(value as T);
      };
      const timer = setTimeout(
        () => finish(statusError(4, `no answer within ${timeoutMs} ms (${path})`)),
        timeoutMs,
      );
      const readStatus = (h: http2.IncomingHttpHeaders) => {
        const s = h['grpc-status'];
        if (s !== undefined) {
          status = Number(s);
          statusMessage = grpcMessage(h['grpc-message']);
        }
      };
      stream.on('response', (h) => {
        const code = h[':status'];
        if (code !== 200) finish(new Error(`HTTP status ${code} from the engine (not a gRPC server?)`));
        else readStatus(h);
      });
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => {
        try {
          for (const m of frames.push(chunk)) {
            if (messages.length > 0) throw new Error('more than one message in a unary answer');
            messages.push(m);
          }
        } catch (e) {
          finish(e as Error);
        }
      });
      stream.on('error', (e: Error) => finish(new Error(`not connected: ${e.message}`)));
      stream.on('close', () => {
        if (status === undefined)
          return finish(new Error(`not connected: the stream ended without a status (${path})`));
        if (status !== 0) return finish(statusError(status, statusMessage));
        const m = messages[0];
        if (!m || frames.pending > 0) return finish(new Error(`no complete answer message (${path})`));
        try {
          finish(undefined, decode(resSchema, m) as T);
        } catch (e) {
          finish(new Error(`malformed answer (${path}): ${(e as Error).message}`));
        }
      });
    });
  }

  /** A server stream without a deadline; `onEnd` is called once, unless cancelled first. */
  serverStream(
    path: string,
    reqSchema: Schema,
    req: PbObject,
    resSchema: Schema,
    h: StreamHandlers,
    metadata: Record<string, string> = {},
  ): ServerStream {
    let done = false;
    const end = (err: Error) => {
      if (done) return;
      done = true;
      h.onEnd(err);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.open(path, encode(reqSchema, req), undefined, metadata);
    } catch (e) {
      queueMicrotask(() => end(e as Error));
      return { cancel: () => (done = true) };
    }
    const frames = new FrameReader(this.maxBytes);
    let status: number | undefined;
    let statusMessage = '';
    const readStatus = (hd: http2.IncomingHttpHeaders) => {
      if (hd['grpc-status'] !== undefined) {
        status = Number(hd['grpc-status']);
        statusMessage = grpcMessage(hd['grpc-message']);
      }
    };
    const fail = (err: Error) => {
      end(err);
      if (!stream.closed) stream.close(NGHTTP2_CANCEL);
    };
    stream.on('response', (hd) => {
      if (hd[':status'] !== 200) fail(new Error(`HTTP status ${hd[':status']} from the engine`));
      else readStatus(hd);
    });
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      try {
        for (const m of frames.push(chunk)) h.onMessage(decode(resSchema, m));
      } catch (e) {
        fail(new Error(`malformed stream message (${path}): ${(e as Error).message}`));
      }
    });
    stream.on('error', (e: Error) => end(new Error(`not connected: ${e.message}`)));
    stream.on('close', () =>
      end(
        status !== undefined && status !== 0
          ? statusError(status, statusMessage)
          : new Error('event stream ended'),
      ),
    );
    return {
      cancel: () => {
        done = true;
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
      },
    };
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }
}
