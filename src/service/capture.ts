/**
 * Captures over HTTP: `GET /api/capture.pcapng` streams a live capture
 * (src/capture/) as one pcapng body, for clients without websockets
 * (`curl -N URL | wireshark -k -i -`).
 *
 * - Admission: at most `maxCaptures` captures at once, `maxPerClient` per
 *   client address, and `maxInterfaces` capture sockets (rings) over all of
 *   them; the next one is refused (503, 429) before a socket is opened.
 * - Bounded memory: the body is pulled (ReadableStream, high-water mark 0),
 *   so a client that reads slowly leaves blocks in this queue; once its
 *   backlog (queue plus the response's unsent bytes) passes `maxBacklogBytes`
 *   the session drops packets and counts them (isb_osdrop in the statistics
 *   blocks at the end), never buffering more.
 * - A client that goes away cancels the body: the capture stops and its
 *   sockets close.
 */

import type { CaptureHandle, CaptureSink } from '../capture/session.js';
import { CaptureError, MAX_FILTER_LENGTH, TargetError } from '../capture/types.js';
import type { Discovery } from '../model/types.js';
import { ProblemError, problem } from './problem.js';

export interface CaptureLimits {
  /** Captures at once, all clients together (default 8). */
  maxCaptures: number;
  /** Captures at once per client address (default 2). */
  maxPerClient: number;
  /** Capture sockets over all captures (default 128): each holds a ring of 1–4 MiB. */
  maxInterfaces: number;
  /** Unsent bytes beyond which a capture drops packets for its client (default 4 MiB). */
  maxBacklogBytes: number;
}

export const DEFAULT_CAPTURE_LIMITS: CaptureLimits = {
  maxCaptures: 8,
  maxPerClient: 2,
  maxInterfaces: 128,
  maxBacklogBytes: 4 << 20,
};

/** What a capture request asks for, parsed and bounded. */
export interface CaptureRequest {
  targets: string[];
  interfaces: string[];
  filter?: string;
  seconds?: number;
  packets?: number;
  chaste: boolean;
}

const MAX_TARGETS = 64;
const MAX_NAME = 256;
/** A day: a capture that should run longer is a job for a file, not an HTTP response. */
const MAX_SECONDS = 86_400;

const bad = (detail: string): ProblemError => new ProblemError(problem(400, 'bad-capture-request', detail));

function boundedNames(what: string, values: string[]): string[] {
  if (values.length > MAX_TARGETS) throw bad(`at most ${MAX_TARGETS} ${what}`);
  for (const v of values) {
    if (v === '' || v.length > MAX_NAME)
      throw bad(`a ${what.replace(/s$/, '')} is 1 to ${MAX_NAME} characters`);
  }
  return values;
}

/**
 * The targets of `targets=` (repeatable, or one JSON list of strings) and the
 * interfaces of `nif=` (Packetflix's slash-separated list, repeatable). Pure.
 */
export function parseCaptureQuery(q: (name: string) => string[]): CaptureRequest {
  const targets: string[] = [];
  for (const t of q('targets')) {
    if (t.trimStart().startsWith('[')) {
      let list: unknown;
      try {
        list = JSON.parse(t);
      } catch {
        throw bad('targets= is a name or a JSON list of names');
      }
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
        throw bad('targets= is a name or a JSON list of names');
      targets.push(...(list as string[]));
    } else targets.push(t);
  }
  if (targets.length === 0) throw bad('name at least one capture target: targets=NAME');
  const interfaces = q('nif').flatMap((n) => n.split('/').filter((x) => x !== ''));
  const number = (name: string, integer: boolean, max: number): number | undefined => {
    const v = q(name)[0];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n)))
      throw bad(`${name}= is a ${integer ? 'whole ' : ''}number from 1 to ${max}`);
    return n;
  };
  const filter = q('filter')[0];
  if (filter !== undefined && filter.length > MAX_FILTER_LENGTH)
    throw bad(`filter= is at most ${MAX_FILTER_LENGTH} characters`);
  const chaste = q('chaste')[0];
  return {
    targets: boundedNames('targets', targets),
    interfaces: boundedNames('interfaces', interfaces),
    ...(filter ? { filter } : {}),
    seconds: number('seconds', false, MAX_SECONDS),
    packets: number('packets', true, 1e12),
    // Packetflix: the parameter's presence means chaste; an explicit false or 0 means not.
    chaste: chaste !== undefined && chaste !== 'false' && chaste !== '0',
  };
}

/** The problem of a capture that could not open a single socket. */
export function captureFailed(err: unknown): ProblemError {
  const message = err instanceof Error ? err.message : 'the capture ended before it started';
  const status = err instanceof CaptureError && /CAP_NET_RAW/.test(message) ? 403 : 500;
  return new ProblemError(problem(status, 'capture-failed', message));
}

/**
 * The capture machinery (packet threads, libpcap through FFI, the YAML of the
 * section comment, target resolution over the model) loads with the first
 * capture: ~100 ms of CPU the service would otherwise spend before it listens.
 */
let machinery:
  | Promise<{
      session: typeof import('../capture/session.js');
      targets: typeof import('../capture/targets.js');
      filter: typeof import('../capture/filter.js');
    }>
  | undefined;
const loadMachinery = () =>
  (machinery ??= Promise.all([
    import('../capture/session.js'),
    import('../capture/targets.js'),
    import('../capture/filter.js'),
  ]).then(([session, targets, filter]) => ({ session, targets, filter })));

interface Running {
  client: string;
  interfaces: number;
  stop(): void;
}

export class CaptureHub {
  private readonly running = new Set<Running>();
  refused = 0;
  /** Packets dropped for slow clients, over all captures so far. */
  droppedPackets = 0;
  peakBacklog = 0;

  constructor(readonly limits: CaptureLimits = DEFAULT_CAPTURE_LIMITS) {}

  get size(): number {
    return this.running.size;
  }

  stats(): Record<string, number> {
    return {
      open: this.running.size,
      max: this.limits.maxCaptures,
      maxPerClient: this.limits.maxPerClient,
      interfaces: [...this.running].reduce((n, r) => n + r.interfaces, 0),
      maxInterfaces: this.limits.maxInterfaces,
      refused: this.refused,
      droppedPackets: this.droppedPackets,
      peakBacklogBytes: this.peakBacklog,
    };
  }

  /** Stops every capture (the service is shutting down). */
  stopAll(): void {
    for (const r of this.running) r.stop();
  }

  /**
   * Resolves the targets, admits the capture for `client` and starts it into
   * `sink`. Refusals and user errors throw ProblemErrors before anything is
   * opened. `finished` settles when the capture ended and its place is free.
   */
  async start(
    d: Discovery,
    client: string,
    req: CaptureRequest,
    sink: CaptureSink,
    application: string,
  ): Promise<{ handle: CaptureHandle; finished: Promise<void> }> {
    const { session, targets, filter } = await loadMachinery();
    // From here to `running.add` nothing awaits: admission counts and the new entry cannot interleave.
    let resolved: ReturnType<typeof targets.resolveTargets>;
    try {
      resolved = targets.resolveTargets(d, req.targets, req.interfaces);
    } catch (e) {
      if (e instanceof TargetError) throw new ProblemError(problem(404, 'no-such-target', e.message));
      throw e;
    }
    const mine = [...this.running].filter((r) => r.client === client).length;
    const interfaces = [...this.running].reduce((n, r) => n + r.interfaces, 0);
    if (this.running.size >= this.limits.maxCaptures) {
      this.refused++;
      throw new ProblemError(
        problem(503, 'captures-exhausted', `all ${this.limits.maxCaptures} captures are in use`),
        {
          'retry-after': '30',
        },
      );
    }
    if (mine >= this.limits.maxPerClient) {
      this.refused++;
      throw new ProblemError(
        problem(
          429,
          'too-many-captures',
          `this client has ${mine} captures running, the most one client may`,
        ),
        { 'retry-after': '30' },
      );
    }
    if (interfaces + resolved.interfaces.length > this.limits.maxInterfaces) {
      this.refused++;
      throw new ProblemError(
        problem(
          503,
          'capture-interfaces-exhausted',
          `${resolved.interfaces.length} more capture sockets would pass the service's ${this.limits.maxInterfaces}; name fewer interfaces (nif=)`,
        ),
        { 'retry-after': '30' },
      );
    }
    let handle: CaptureHandle;
    try {
      handle = session.startCapture(resolved, sink, {
        filter: req.filter,
        promiscuous: !req.chaste,
        seconds: req.seconds,
        maxPackets: req.packets,
        maxBacklog: this.limits.maxBacklogBytes,
        application,
      });
    } catch (e) {
      if (e instanceof filter.FilterSyntaxError)
        throw new ProblemError(problem(400, 'bad-filter', e.message));
      throw e;
    }
    const entry: Running = { client, interfaces: resolved.interfaces.length, stop: () => handle.stop() };
    this.running.add(entry);
    const finished = handle.done
      .then(
        (s) => {
          this.droppedPackets += s.ownDrops;
        },
        () => {},
      )
      .finally(() => {
        this.running.delete(entry);
      });
    return { handle, finished };
  }

  /**
   * Starts a capture for `client` and returns its pcapng body once the
   * sockets are open. A capture that cannot open any socket (CAP_NET_RAW)
   * throws a ProblemError too, before a byte is sent.
   */
  async open(
    d: Discovery,
    client: string,
    req: CaptureRequest,
    unsent: () => number,
    application: string,
  ): Promise<ReadableStream<Uint8Array>> {
    const queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const sink: CaptureSink = {
      write: (b) => {
        queue.push(b);
        queued += b.length;
        if (queued > this.peakBacklog) this.peakBacklog = queued;
        poke();
      },
      backlog: () => queued + unsent(),
    };
    const { handle, finished } = await this.start(d, client, req, sink, application);
    void finished.then(() => {
      ended = true;
      poke();
    });
    await handle.ready;
    // Nothing could be opened (no CAP_NET_RAW, every interface gone): say so instead of an empty body.
    if (queue.length === 0) {
      const err = await handle.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      throw captureFailed(err);
    }
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            const b = queue.shift();
            if (b) {
              queued -= b.length;
              controller.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
              return;
            }
            if (ended) {
              controller.close();
              return;
            }
            await new Promise<void>((r) => {
              wake = r;
            });
          }
        },
        cancel: () => {
          handle.stop();
        },
      },
      { highWaterMark: 0 },
    );
  }
}
