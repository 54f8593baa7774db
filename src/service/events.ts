/**
 * The subscribers of the change event stream (/api/events), with limits.
 *
 * - Admission: at most `maxStreams` open streams, and `maxStreamsPerClient`
 *   per client address; the next one is refused (503, 429) before anything
 *   is allocated for it.
 * - One serialisation per event: a change is encoded once into an SSE frame
 *   (a Buffer) and the same bytes are queued for every subscriber, so N
 *   subscribers cost one JSON.stringify and one copy of the event, however
 *   far behind they are.
 * - Bounded backlog: a stream is pulled (ReadableStream, high-water mark 0)
 *   only when the HTTP response drained (@hono/node-server waits for 'drain'
 *   between reads), so a subscriber that stops reading leaves its events in
 *   its queue. Its backlog, queued bytes plus the response's unsent
 *   `writableLength`, may reach `maxBacklogBytes` (then one more frame);
 *   beyond that the subscriber is dropped and its connection reset.
 *   The kernel's send buffer of an event stream is capped too (SO_SNDBUF),
 *   so a reader that stopped reading is noticed after kilobytes, not after
 *   the megabytes TCP autotuning would otherwise buffer for it.
 */
import type { Socket } from 'node:net';
import { setsockoptInt } from '../kernel/libc.js';

export interface StreamLimits {
  /** Open event streams, all clients together (default 64). */
  maxStreams: number;
  /** Open event streams per client address (default 8). */
  maxStreamsPerClient: number;
  /** Unsent bytes a subscriber may fall behind before it is dropped (default 1 MiB). */
  maxBacklogBytes: number;
  /** Keep-alive comment period (ms) of an idle stream (default 15 s). */
  heartbeatMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxStreams: 64,
  maxStreamsPerClient: 8,
  maxBacklogBytes: 1 << 20,
  heartbeatMs: 15_000,
};

/**
 * Kernel send buffer requested for an event stream's socket (socket(7)
 * SO_SNDBUF; the kernel doubles it for bookkeeping and stops autotuning it).
 * Events are small; 32 KiB carries the largest in a few round trips.
 */
const EVENT_SOCKET_SNDBUF = 32 * 1024;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;

/** What the hub needs of the HTTP response of a stream (node's ServerResponse), when there is one. */
export interface StreamSink {
  readonly writableLength: number;
  destroy(): void;
}

const KEEPALIVE = Buffer.from(': keep-alive\n\n');

/** One server-sent event (WHATWG HTML §9.2), encoded. `data` must be one line (JSON is). Pure. */
export function sseFrame(event: string, data: string, id?: string): Buffer {
  if (/[\r\n]/.test(event + (id ?? '') + data)) throw new Error('an SSE field must be one line');
  return Buffer.from(`event: ${event}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${data}\n\n`);
}

/** The address a client is counted by: IPv4-mapped IPv6 as the IPv4 address. Pure. */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

class Subscriber {
  readonly queue: Buffer[] = [];
  queuedBytes = 0;
  closed = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    readonly client: string,
    readonly sink: StreamSink | undefined,
  ) {}

  backlog(): number {
    return this.queuedBytes + (this.sink?.writableLength ?? 0);
  }

  push(frame: Buffer): void {
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.wake();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Resolves true when woken by news or a close, false when `ms` passed first. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(false);
      }, ms);
      timer.unref();
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}

export type Admission =
  | { ok: true; body: ReadableStream<Uint8Array>; send(frame: Buffer): void }
  | { ok: false; status: 429 | 503; detail: string };

export class EventHub {
  private readonly subs = new Set<Subscriber>();
  private readonly perClient = new Map<string, number>();
  /** Subscribers dropped for falling behind. */
  dropped = 0;
  /** Subscriptions refused by the limits. */
  refused = 0;
  /** The largest backlog any subscriber has had (bytes), to show the bound holds. */
  peakBacklog = 0;

  constructor(
    readonly limits: StreamLimits,
    /** Called when the first subscriber arrives and after the last one left. */
    private readonly onActive: (active: boolean) => void = () => {},
  ) {}

  get size(): number {
    return this.subs.size;
  }

  /**
   * Admits a subscriber from `client` (its address), or says why not. `first`
   * is queued before anything else (the hello event).
   */
  open(client: string, sink: StreamSink | undefined, first: Buffer): Admission {
    const { maxStreams, maxStreamsPerClient } = this.limits;
    if (this.subs.size >= maxStreams) {
      this.refused++;
      return { ok: false, status: 503, detail: `all ${maxStreams} event streams are in use` };
    }
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= maxStreamsPerClient) {
      this.refused++;
      return {
        ok: false,
        status: 429,
        detail: `this client has ${mine} event streams open, the most one client may`,
      };
    }
    const sub = new Subscriber(client, sink);
    this.subs.add(sub);
    this.perClient.set(client, mine + 1);
    if (this.subs.size === 1) this.onActive(true);
    sub.push(first);
    const heartbeatMs = this.limits.heartbeatMs;
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            if (sub.closed) {
              try {
                controller.close();
              } catch {
                // cancelled by the client: already closed
              }
              return;
            }
            const frame = sub.queue.shift();
            if (frame) {
              sub.queuedBytes -= frame.length;
              controller.enqueue(frame);
              return;
            }
            const woken = await sub.wait(heartbeatMs);
            if (!woken && !sub.closed && sub.queue.length === 0) {
              controller.enqueue(KEEPALIVE);
              return;
            }
          }
        },
        cancel: () => this.remove(sub),
      },
      { highWaterMark: 0 },
    );
    return { ok: true, body, send: (frame) => this.deliver(sub, frame) };
  }

  /** Queues one encoded event for every subscriber. */
  broadcast(frame: Buffer): void {
    for (const sub of this.subs) this.deliver(sub, frame);
  }

  private deliver(sub: Subscriber, frame: Buffer): void {
    if (sub.closed) return;
    const backlog = sub.backlog();
    if (backlog > this.limits.maxBacklogBytes) {
      this.dropped++;
      this.remove(sub);
      // The connection goes: the stream is cancelled, its queue and socket buffers freed.
      sub.sink?.destroy();
      return;
    }
    sub.push(frame);
    if (backlog + frame.length > this.peakBacklog) this.peakBacklog = backlog + frame.length;
  }

  private remove(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.queue.length = 0;
    sub.queuedBytes = 0;
    sub.wake();
    this.subs.delete(sub);
    const n = (this.perClient.get(sub.client) ?? 1) - 1;
    if (n > 0) this.perClient.set(sub.client, n);
    else this.perClient.delete(sub.client);
    if (this.subs.size === 0) this.onActive(false);
  }
}

/**
 * Caps the kernel send buffer of an event stream's connection (see
 * EVENT_SOCKET_SNDBUF). Node has no API for SO_SNDBUF on TCP sockets; the
 * descriptor of its handle is used directly, and a socket without one is
 * left alone (the backlog bound still holds, only later).
 */
export function capSendBuffer(socket: Socket | undefined): void {
  const fd = (socket as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return;
  try {
    setsockoptInt(fd, SOL_SOCKET, SO_SNDBUF, EVENT_SOCKET_SNDBUF);
  } catch {
    // The connection went away meanwhile.
  }
}
