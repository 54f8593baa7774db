/**
 * The namespace workers (main-thread side). Workers persist across discoveries
 * so their socket caches survive; each namespace inode sticks to one worker.
 * Workers are unref'd while idle so they never keep a CLI process alive.
 *
 * An inline pool runs the same requests on the calling thread (InlineWorker):
 * for a one-shot discovery of a small host, where a worker thread's start (its
 * own isolate and modules, 100–200 ms on a busy two-core host) costs more than
 * the whole dump. The answers go through the same messages, so the result is
 * the same.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { close } from '../kernel/libc.js';
import { NetnsRestoreError } from '../kernel/netns.js';
import type { Draft } from '../model/types.js';
import type {
  DumpOptions,
  NsDump,
  NsidAnswer,
  NsidQuery,
  NsJob,
  WorkerRequest,
  WorkerResponse,
} from './types.js';

/** What the pool needs of a namespace worker: a thread, or this thread (InlineWorker). */
interface Port {
  postMessage(req: WorkerRequest): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<unknown>;
  onMessage(listener: (res: WorkerResponse) => void): void;
  /** The worker is gone: it failed or exited. */
  onFail(listener: (err: Error) => void): void;
}

function threadPort(youngMb: number): Port {
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    resourceLimits: { maxYoungGenerationSizeMb: youngMb },
  });
  return {
    postMessage: (req) => worker.postMessage(req),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => worker.terminate(),
    onMessage: (l) => worker.on('message', l),
    onFail: (l) => {
      worker.on('error', l);
      worker.on('exit', (code) => l(new Error(`network worker exited (code ${code})`)));
    },
  };
}

type Handler = typeof import('./handler.js').handleRequest;

/**
 * The requests answered on this thread, one per turn of the event loop (as a
 * thread's would arrive). A thread that cannot return to its own namespace is
 * unusable: the failure carries the NetnsRestoreError, which dump() throws on.
 */
function inlinePort(handle: Handler): Port {
  let onMessage: (res: WorkerResponse) => void = () => {};
  let onFail: (err: Error) => void = () => {};
  let dead = false;
  return {
    postMessage: (req) => {
      setImmediate(() => {
        if (dead) return;
        // An error answer is held until the handler returns: when it throws on, the failure
        // (with its NetnsRestoreError) is what the caller must see.
        let error: WorkerResponse | undefined;
        try {
          handle(req, (res) => {
            if (res.op === 'error') error = res;
            else onMessage(res);
          });
        } catch (e) {
          dead = true;
          onFail(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (error) onMessage(error);
      });
    },
    ref: () => {},
    unref: () => {},
    terminate: async () => {
      dead = true;
    },
    onMessage: (l) => {
      onMessage = l;
    },
    onFail: (l) => {
      onFail = l;
    },
  };
}

interface Slot {
  worker: Port;
  pending: Map<
    number,
    {
      resolve: (r: WorkerResponse) => void;
      reject: (e: Error) => void;
      parts?: NsDump[];
      /** Keep each namespace's result for incremental runs (see `kept`). */
      record?: boolean;
      /** Namespaces answered `unchanged` (their kept result was put back). */
      reused?: Set<number>;
    }
  >;
  dead: boolean;
  /** fds the worker keeps cached; closed here if the worker dies (fds belong to the process, not the thread). */
  fds: number[];
  /**
   * The routes and rules this worker last sent per namespace: a later result says `null` for
   * "unchanged" (see serializeDump). The arrays are shared between results; nothing changes them
   * after decoding (and discover() deep-freezes the model).
   */
  shipped: Map<number, { routes: Draft.Route[]; rules: Draft.Rule[]; addrs: Map<number, Draft.Address[]> }>;
  /**
   * Incremental discovery: each namespace's last complete result from this worker, as JSON text
   * (the stages after the dump annotate and freeze the objects they get, so a reuse is parsed
   * afresh). A namespace the worker answers `unchanged` is this text again.
   */
  kept: Map<number, string>;
}

/** A worker's answer for one namespace, made whole: tables left out put back, an `unchanged` one replaced by the kept result. */
function take(slot: Slot, d: NsDump, p: { record?: boolean; reused?: Set<number> }): NsDump {
  if (d.unchanged) {
    const text = slot.kept.get(d.ino);
    if (text !== undefined) {
      p.reused?.add(d.ino);
      return JSON.parse(text) as NsDump;
    }
    // Cannot happen: reuse is asked only for kept namespaces; never invent a result.
    return {
      ...d,
      unchanged: undefined,
      failed: true,
      warnings: [
        {
          code: 'netns-worker-failed',
          message: `network namespace ${d.ino}: reported unchanged, but no previous result is kept`,
          ns: d.ino,
        },
      ],
    };
  }
  adopt(slot, d);
  if (p.record && !d.failed) slot.kept.set(d.ino, JSON.stringify(d));
  else slot.kept.delete(d.ino);
  return d;
}

/** Puts back the routes/rules a worker left out as unchanged, and remembers the ones it sent. */
function adopt(slot: Slot, d: NsDump): void {
  const w = d as Omit<NsDump, 'routes' | 'rules'> & {
    routes: Draft.Route[] | null;
    rules: Draft.Rule[] | null;
  };
  const prev = slot.shipped.get(d.ino);
  if ((w.routes === null || w.rules === null || d.addrsUnchanged) && !prev) {
    // Cannot happen while the map mirrors the worker's memo; never invent or drop silently.
    w.warnings.push({
      code: 'netns-worker-failed',
      message: `network namespace ${d.ino}: the worker referred to tables this thread does not hold`,
      ns: d.ino,
    });
  }
  w.routes ??= prev?.routes ?? [];
  w.rules ??= prev?.rules ?? [];
  let addrs: Map<number, Draft.Address[]>;
  if (d.addrsUnchanged) {
    addrs = prev?.addrs ?? new Map();
    for (const f of d.interfaces) f.addresses = addrs.get(f.index) ?? [];
    delete d.addrsUnchanged;
  } else {
    addrs = new Map();
    for (const f of d.interfaces) addrs.set(f.index, f.addresses);
  }
  slot.shipped.set(d.ino, { routes: w.routes, rules: w.rules, addrs });
}

let nextId = 1;

/** Namespaces from which on the default pool uses its second worker. */
export const SECOND_WORKER_MIN = 16;

/** Weight of a namespace never dumped: about one small container namespace. */
const DEFAULT_WEIGHT = 8;
/** The host namespace usually carries most interfaces (every container's veth end). */
const HOST_WEIGHT = 64;
/** Rebalance only when a worker carries this much more than its share. */
const REBALANCE_SLACK = 1.1;

/**
 * Cost estimate of a warm dump of a namespace: a fixed part (one round trip per table) plus
 * what is read every run. Links dominate (~1.5 KiB each with stats and per-family data; a
 * host's veths also carry bridge-port data); routes, rules and addresses are not counted: warm
 * runs reuse them until a notification says they changed. Fitted on 1000 one-veth namespaces
 * plus their host, where the host costs about as much as 300 of them.
 */
function weightOf(d: NsDump): number {
  return 4 + d.interfaces.length * 5 + d.neighbours.length / 4 + d.sockets.length / 2;
}

function spawn(handle: Handler | undefined, youngMb: number): Slot {
  const worker = handle ? inlinePort(handle) : threadPort(youngMb);
  const slot: Slot = {
    worker,
    pending: new Map(),
    dead: false,
    fds: [],
    shipped: new Map(),
    kept: new Map(),
  };
  worker.unref();
  worker.onMessage((res: WorkerResponse) => {
    const p = slot.pending.get(res.id);
    if (!p) return;
    if (res.op === 'part') {
      // Parsed now, while the worker goes on dumping.
      const parts = p.parts ?? [];
      p.parts = parts;
      for (const d of JSON.parse(res.dumps) as NsDump[]) parts.push(take(slot, d, p));
      return;
    }
    slot.pending.delete(res.id);
    if (slot.pending.size === 0) worker.unref();
    if (res.op === 'dump') slot.fds = res.fds;
    if (res.op === 'release') {
      slot.fds = [];
      slot.shipped.clear();
      slot.kept.clear();
    }
    if (res.op === 'error') p.reject(new Error(res.message));
    else if (res.op === 'dump') {
      const parts = p.parts ?? [];
      for (const d of JSON.parse(res.dumps) as NsDump[]) parts.push(take(slot, d, p));
      p.resolve({ ...res, dumps: '[]', parsed: parts });
    } else p.resolve(res);
  });
  const fail = (err: Error) => {
    if (!slot.dead) for (const fd of slot.fds) close(fd);
    slot.fds = [];
    slot.shipped.clear();
    slot.kept.clear();
    slot.dead = true;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  };
  worker.onFail(fail);
  return slot;
}

export class WorkerPool {
  private slots: Slot[] = [];
  /** namespace inode → worker position, so a namespace meets its cached sockets again. */
  private owner = new Map<number, number>();
  /** namespace inode → cost estimate from its last dump (see weightOf). */
  private weight = new Map<number, number>();

  /**
   * Splits the jobs over the workers: sticky per inode (the worker holds its
   * sockets), new ones to the lighter worker, and — when one namespace (a host
   * with a thousand veths) makes a worker much heavier — the lightest
   * namespaces of the heavy worker move over (re-entered once, then cached there).
   */
  private assign(jobs: NsJob[]): NsJob[][] {
    const live = new Set(jobs.map((j) => j.ino));
    for (const ino of this.owner.keys()) if (!live.has(ino)) this.owner.delete(ino);
    for (const ino of this.weight.keys()) if (!live.has(ino)) this.weight.delete(ino);
    const w = (j: NsJob) => this.weight.get(j.ino) ?? (j.host ? HOST_WEIGHT : DEFAULT_WEIGHT);
    const load = new Array<number>(this.size).fill(0);
    const parts: NsJob[][] = Array.from({ length: this.size }, () => []);
    const fresh: NsJob[] = [];
    for (const j of jobs) {
      const at = this.owner.get(j.ino);
      if (at === undefined) fresh.push(j);
      else {
        (parts[at] as NsJob[]).push(j);
        load[at] = (load[at] as number) + w(j);
      }
    }
    const lightest = () => {
      let best = 0;
      for (let i = 1; i < this.size; i++) if ((load[i] as number) < (load[best] as number)) best = i;
      return best;
    };
    for (const j of fresh.sort((a, b) => w(b) - w(a))) {
      const best = lightest();
      (parts[best] as NsJob[]).push(j);
      load[best] = (load[best] as number) + w(j);
      this.owner.set(j.ino, best);
    }
    if (this.size > 1) {
      const total = load.reduce((a, b) => a + b, 0);
      const ideal = total / this.size;
      for (let heavy = 0; heavy < this.size; heavy++) {
        if ((load[heavy] as number) <= ideal * REBALANCE_SLACK) continue;
        const part = (parts[heavy] as NsJob[]).sort((a, b) => w(a) - w(b));
        while ((load[heavy] as number) > ideal * 1.02 && part.length > 1) {
          const to = lightest();
          const j = part[0] as NsJob;
          if (to === heavy || (load[to] as number) + w(j) > ideal) break;
          part.shift();
          (parts[to] as NsJob[]).push(j);
          load[heavy] = (load[heavy] as number) - w(j);
          load[to] = (load[to] as number) + w(j);
          this.owner.set(j.ino, to);
        }
      }
    }
    return parts;
  }

  /** Workers in use: one until a dump has SECOND_WORKER_MIN namespaces (then `max`, for good). */
  size: number;
  private readonly max: number;

  /** Set: the one "worker" is this thread (see inlinePort). */
  private readonly inline: Handler | undefined;

  /**
   * Young generation of each worker thread, MB. Small (4) for long-lived pools: it keeps a
   * service's RSS low, and warm runs make little garbage. A one-shot discovery passes more: a
   * cold pass decodes every namespace, and with 4 MB what lives through a 64-namespace chunk is
   * promoted and collected again by the old generation (a fifth to a quarter of a worker's time
   * in GC at 1000 namespaces); its RSS lasts a second.
   */
  private readonly youngMb: number;

  constructor(size?: number, inline?: Handler, youngMb = 4) {
    this.inline = inline;
    this.youngMb = youngMb;
    this.max = inline ? 1 : Math.max(1, Math.floor(size ?? Math.min(2, availableParallelism())));
    // An explicit size is kept; the default starts with one worker: on a small host a second
    // one's start (its own isolate and modules) costs a one-shot command more than it saves.
    this.size = size === undefined ? 1 : this.max;
  }

  /** Dumps on the calling thread, not on worker threads. */
  get isInline(): boolean {
    return this.inline !== undefined;
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (!s || s.dead) {
      s = spawn(this.inline, this.youngMb);
      this.slots[i] = s;
      // Its cache died with it.
      for (const [ino, w] of this.owner) if (w === i) this.owner.delete(ino);
    }
    return s;
  }

  private call(
    i: number,
    req: WorkerRequest,
    incremental?: { record: boolean; reused?: Set<number> },
  ): Promise<WorkerResponse> {
    return this.callSlot(this.slot(i), req, incremental);
  }

  private callSlot(
    s: Slot,
    req: WorkerRequest,
    incremental?: { record: boolean; reused?: Set<number> },
  ): Promise<WorkerResponse> {
    if (req.op === 'dump' || req.op === 'release') {
      // The worker drops its memo of every namespace it is not asked to keep.
      const keep = new Set(req.keep);
      for (const ino of s.shipped.keys()) if (!keep.has(ino)) s.shipped.delete(ino);
      for (const ino of s.kept.keys()) if (!keep.has(ino)) s.kept.delete(ino);
    }
    return new Promise((resolve, reject) => {
      s.pending.set(req.id, { resolve, reject, ...incremental });
      s.worker.ref();
      s.worker.postMessage(req);
    });
  }

  /** Starts every worker that is not running (they load their modules meanwhile); idempotent. */
  /** Starts the workers in use, or (`all`: many namespaces are on their way) every one. */
  warm(all = false): void {
    if (all) this.size = this.max;
    for (let i = 0; i < this.size; i++) this.slot(i);
  }

  /**
   * Splits the jobs over the workers (sticky per inode, new ones balanced) and dumps them.
   * `incremental`: 'record' keeps each namespace's result; 'reuse' also lets a worker answer
   * `unchanged` for a kept namespace whose monitor saw nothing (the kept result comes back).
   * `reused` collects the namespaces answered so.
   */
  async dump(
    jobs: NsJob[],
    options: DumpOptions,
    cacheLimit: number,
    incremental?: { mode: 'record' | 'reuse'; reused: Set<number> },
  ): Promise<{ dumps: NsDump[]; warnings: Draft.Warning[] }> {
    if (jobs.length >= SECOND_WORKER_MIN) this.size = this.max;
    for (let i = 0; i < this.size; i++) this.slot(i);
    const parts = this.assign(jobs);
    const perCache = Math.max(0, Math.floor(cacheLimit / this.size));
    const warnings: Draft.Warning[] = [];
    const results = await Promise.all(
      parts.map(async (part, i) => {
        try {
          const kept = this.slot(i).kept;
          // Kept results are valid only for the options they were read with.
          if (this.keptFor !== JSON.stringify(options)) kept.clear();
          const reuse = incremental?.mode === 'reuse';
          const r = await this.call(
            i,
            {
              op: 'dump',
              id: nextId++,
              jobs: reuse ? part.map((j) => (kept.has(j.ino) ? { ...j, reuse: true } : j)) : part,
              options,
              // Each worker keeps only its own namespaces: one moved to the other worker is released here.
              keep: part.map((j) => j.ino),
              cacheLimit: perCache,
            },
            incremental && { record: true, reused: incremental.reused },
          );
          if (r.op !== 'dump') return [];
          const dumps = r.parsed ?? [];
          for (const d of dumps) this.weight.set(d.ino, weightOf(d));
          return dumps;
        } catch (e) {
          // This very thread is stuck in a foreign namespace: nothing it does can be trusted.
          if (e instanceof NetnsRestoreError) throw e;
          for (const j of part) {
            this.owner.delete(j.ino);
            warnings.push({
              code: 'netns-worker-failed',
              message: `network namespace ${j.ino}: ${(e as Error).message}`,
              ns: j.ino,
            });
          }
          return [];
        }
      }),
    );
    this.keptFor = JSON.stringify(options);
    return { dumps: results.flat(), warnings };
  }
  /** The dump options the kept results were read with. */
  private keptFor: string | undefined;

  /** Asks, per namespace, which nsid it assigned to each target namespace. */
  async nsids(queries: NsidQuery[]): Promise<{ answers: NsidAnswer[]; warnings: Draft.Warning[] }> {
    const parts: NsidQuery[][] = Array.from({ length: this.size }, () => []);
    for (const q of queries) (parts[this.owner.get(q.ino) ?? 0] as NsidQuery[]).push(q);
    const answers: NsidAnswer[] = [];
    const warnings: Draft.Warning[] = [];
    await Promise.all(
      parts.map(async (part, i) => {
        if (part.length === 0) return;
        try {
          const r = await this.call(i, { op: 'nsid', id: nextId++, queries: part });
          if (r.op === 'nsid') {
            answers.push(...r.answers);
            warnings.push(...r.warnings);
          }
        } catch (e) {
          warnings.push({ code: 'nsid-query-failed', message: (e as Error).message });
        }
      }),
    );
    return { answers, warnings };
  }

  /** Closes every cached socket (releasing the namespaces they keep alive) and stops the workers. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    this.owner.clear();
    await Promise.all(
      slots.map(async (s) => {
        if (s.dead) return;
        await this.callSlot(s, { op: 'release', id: nextId++, keep: [] }).catch(() => undefined);
        s.dead = true;
        await s.worker.terminate().catch(() => 0);
      }),
    );
  }
}
