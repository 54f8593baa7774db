/**
 * Following one agent (a node's `wirescope serve`): its name (/healthz), its
 * model (/api/discovery) and its changes (/api/events, RFC 6902 patches
 * applied to the copy held here; a gap in generations, a patch that does not
 * apply or an event without one refetches the document).
 *
 * Every request has a deadline and every stream an idle bound (the agent sends
 * a keep-alive comment every 15 s, service/events.ts), so a slow or silent
 * agent costs its own follower only: followers share nothing but the event
 * loop. When the agent cannot be reached the view turns stale and keeps the
 * last model and the time it was last seen; the follower reconnects with
 * exponential backoff. An agent is untrusted input: bodies and event lines are
 * read to a bound, the model is checked against its schema, the node name
 * against node-name.ts.
 */
import { Value } from '@sinclair/typebox/value';
import { applyPatch, type PatchOp } from '../../model/patch.js';
import { DiscoverySchema } from '../../model/schema.js';
import type { Discovery } from '../../model/types.js';
import type { ChangeEvent } from '../../service/contract.js';
import { isNodeName } from '../../service/node-name.js';
import { registerFormats } from '../../views/formats.js';
import type { AgentState } from '../contract.js';
import type { AgentTarget } from './source.js';

export type { AgentState } from '../contract.js';

/** What the hub knows of one agent at a moment (immutable; a new one on every change). */
export interface AgentView {
  readonly url: string;
  /** The node's name: the source's, else the one the agent reported; undefined until known. */
  readonly name: string | undefined;
  readonly state: AgentState;
  /** When the agent last answered (ms since the epoch); undefined if it never did. */
  readonly lastSeen: number | undefined;
  /** Why it is stale (one line), or the last thing that went wrong. */
  readonly error: string | undefined;
  /** The agent's generation of `discovery` (its cache's counter, service/cache.ts). */
  readonly generation: number;
  /** The last model received; kept while stale. */
  readonly discovery: Discovery | undefined;
}

export interface FollowOptions {
  /** Bearer token for this agent (its serve --token). */
  token?: string | undefined;
  /** Deadline of /healthz, ms (default 15 s). */
  requestTimeoutMs?: number;
  /**
   * Deadline of the document, ms (default 180 s): an agent answers /api/discovery only after
   * its first discovery, which on a busy node of a thousand namespaces takes a minute.
   */
  documentTimeoutMs?: number;
  /** An event stream silent this long is cut and reopened, ms (default 40 s: past two 15 s keep-alives). */
  idleTimeoutMs?: number;
  /** First and largest pause between reconnections, ms (default 500 ms and 15 s). */
  backoffMs?: { min: number; max: number };
  /** Largest discovery document accepted, bytes (default 256 MiB). */
  maxDocumentBytes?: number;
  /** Largest single event, bytes (default 8 MiB; an agent's patches stop at 256 KiB). */
  maxEventBytes?: number;
}

const DEFAULTS = {
  requestTimeoutMs: 15_000,
  documentTimeoutMs: 180_000,
  idleTimeoutMs: 40_000,
  backoffMs: { min: 500, max: 15_000 },
  maxDocumentBytes: 256 << 20,
  maxEventBytes: 8 << 20,
};

// DiscoverySchema's date-time strings: TypeBox refuses a format it does not know, and the
// follower must not depend on another module having registered it first.
registerFormats();

class AgentError extends Error {}

const oneLine = (err: unknown): string => {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  // undici's fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ECONNRESET) in its cause.
  const cause = e?.cause?.code ?? e?.cause?.message;
  const msg = `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters from an agent are replaced
  return (msg.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 300);
};

/** Reads a response body as text, refusing more than `max` bytes (decoded). */
async function readBounded(res: Response, max: number, what: string): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new AgentError(`${what} is larger than ${max} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

const parseJson = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new AgentError(`${what} is not JSON`);
  }
};

/** One server-sent event (WHATWG HTML §9.2.6, the fields the service sends). */
interface Sse {
  event: string;
  data: string;
}

/** Splits a stream's text into complete events; returns them and the unfinished rest. Pure. */
export function parseSse(text: string): { events: Sse[]; rest: string } {
  const events: Sse[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n\n', start);
    if (end < 0) break;
    let event = 'message';
    const data: string[] = [];
    for (const line of text.slice(start, end).split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
    start = end + 2;
  }
  return { events, rest: text.slice(start) };
}

export class AgentFollower {
  private view: AgentView;
  private readonly opts: typeof DEFAULTS & { token?: string | undefined };
  private stopped = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly target: AgentTarget,
    private readonly onUpdate: (view: AgentView) => void,
    options: FollowOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.view = {
      url: target.url,
      name: target.name,
      state: 'connecting',
      lastSeen: undefined,
      error: undefined,
      generation: 0,
      discovery: undefined,
    };
  }

  get current(): AgentView {
    return this.view;
  }

  start(): void {
    void this.loop();
  }

  /** Stops following: the open request or stream is aborted, the last view stays as it is. */
  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  private update(patch: Partial<AgentView>): void {
    this.view = { ...this.view, ...patch };
    this.onUpdate(this.view);
  }

  private headers(accept: string): Record<string, string> {
    const h: Record<string, string> = { accept };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    return h;
  }

  private async get(path: string, signal: AbortSignal, timeoutMs: number): Promise<Response> {
    const res = await fetch(`${this.target.url}${path}`, {
      headers: this.headers('application/json'),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      redirect: 'error',
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new AgentError(`${path} answered ${res.status}${res.status === 401 ? ' (token?)' : ''}`);
    }
    return res;
  }

  private async loop(): Promise<void> {
    let pause = this.opts.backoffMs.min;
    while (!this.stopped) {
      const ac = new AbortController();
      this.abort = ac;
      let reached = false;
      try {
        await this.session(ac.signal, () => {
          reached = true;
        });
        if (!this.stopped) throw new AgentError('the event stream ended');
      } catch (err) {
        if (this.stopped) break;
        // Seen before: stale (its last model kept); never reached: still connecting.
        this.update({
          state: this.view.discovery ? 'stale' : 'connecting',
          error: oneLine(err),
        });
      } finally {
        ac.abort();
      }
      if (reached) pause = this.opts.backoffMs.min;
      await new Promise<void>((r) => {
        const t = setTimeout(r, pause);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
      pause = Math.min(pause * 2, this.opts.backoffMs.max);
    }
  }

  /** One connection: name, stream opened, document fetched, then events until the stream ends. */
  private async session(signal: AbortSignal, reached: () => void): Promise<void> {
    if (this.target.name === undefined) {
      const health = parseJson(
        await readBounded(
          await this.get('/healthz', signal, this.opts.requestTimeoutMs),
          64 * 1024,
          '/healthz',
        ),
        '/healthz',
      ) as { node?: unknown };
      const node = health?.node;
      if (typeof node !== 'string' || !isNodeName(node))
        throw new AgentError('/healthz names no node (serve --node-name)');
      if (this.view.name !== undefined && this.view.name !== node)
        throw new AgentError(`the agent now calls itself "${node}", not "${this.view.name}"`);
      if (this.view.name === undefined) this.update({ name: node });
    }
    // The stream first, the document second: a change between the two is then an event after
    // the document's generation, not a gap.
    const stream = await fetch(`${this.target.url}/api/events`, {
      headers: this.headers('text/event-stream'),
      signal,
      redirect: 'error',
    });
    if (!stream.ok || !stream.body) {
      await stream.body?.cancel();
      throw new AgentError(`/api/events answered ${stream.status}`);
    }
    const reader = stream.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let idle: NodeJS.Timeout | undefined;
    // The stream is not read while the document is fetched: its silence then is no agent's.
    const refetch = async () => {
      clearTimeout(idle);
      await this.fetchDocument(signal);
      reached();
      arm();
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        this.update({ error: `no event or keep-alive for ${this.opts.idleTimeoutMs / 1000} s` });
        void reader.cancel();
      }, this.opts.idleTimeoutMs);
    };
    try {
      await refetch();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        arm();
        buffered += decoder.decode(value, { stream: true });
        const { events, rest } = parseSse(buffered);
        if (rest.length > this.opts.maxEventBytes)
          throw new AgentError(`an event is larger than ${this.opts.maxEventBytes} bytes`);
        buffered = rest;
        // Any bytes, keep-alives included, prove the agent is there.
        this.view = { ...this.view, lastSeen: Date.now() };
        for (const ev of events) {
          if (ev.event === 'change') {
            const change = parseJson(ev.data, 'a change event') as ChangeEvent;
            if (!this.applyChange(change)) await refetch();
          }
          // The hello needs nothing: the document was fetched after the stream opened, so it is at
          // least as new as the hello's generation, and older events are skipped by generation.
        }
      }
    } finally {
      clearTimeout(idle);
    }
  }

  /** Applies a change event's patch when it continues the held document; false: refetch. */
  private applyChange(ev: ChangeEvent): boolean {
    if (typeof ev?.generation !== 'number' || ev.generation <= this.view.generation) return true;
    // A census event (service/routes/events.ts) is told before the discovery that shows it and
    // carries no document: that discovery's own event brings the patch; a refetch now would
    // fetch a model that does not show it yet.
    if (ev.census === true) return true;
    const patch = ev.patch as readonly PatchOp[] | undefined;
    const held = this.view.discovery;
    if (!patch || !held || ev.base !== this.view.generation) return false;
    let next: unknown;
    try {
      next = applyPatch(held, patch);
    } catch {
      return false;
    }
    if (!Value.Check(DiscoverySchema, next)) return false;
    this.accept(next as Discovery, ev.generation);
    return true;
  }

  private async fetchDocument(signal: AbortSignal): Promise<void> {
    const res = await this.get('/api/discovery', signal, this.opts.documentTimeoutMs);
    const generation = Number(res.headers.get('x-wirescope-generation'));
    const doc = parseJson(
      await readBounded(res, this.opts.maxDocumentBytes, '/api/discovery'),
      '/api/discovery',
    );
    if (!Value.Check(DiscoverySchema, doc)) {
      const first = Value.Errors(DiscoverySchema, doc).First();
      throw new AgentError(
        `/api/discovery is not a wirescope native model${first ? ` (${first.path || '/'}: ${first.message})` : ''}`,
      );
    }
    this.accept(doc as Discovery, Number.isSafeInteger(generation) ? generation : this.view.generation + 1);
  }

  private accept(discovery: Discovery, generation: number): void {
    this.update({ state: 'fresh', error: undefined, lastSeen: Date.now(), generation, discovery });
  }
}
