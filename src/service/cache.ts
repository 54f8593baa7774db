/**
 * One discovery shared by everybody: simultaneous requests wait for the same
 * in-flight discovery, and a finished result is reused until a change source
 * (netlink multicast, namespace set, engine events) marks it stale or it
 * grows older than `maxAgeMs` (sockets and DNS files have no change
 * notifications, so nothing is trusted forever).
 */
import { gzip } from 'node:zlib';
import type { Discovery } from '../model/types.js';
import type { ChangeReason, NamespaceDelta } from '../watch/watcher.js';
import { type ChangeSet, diffDiscoveries } from './diff.js';

/**
 * How the cache asks for a discovery. `incremental`: every change since the last discovery was
 * reported by rtnetlink or the namespace census, so only the namespaces they touched need
 * reading again (ARCHITECTURE.md "Incremental discovery"); otherwise a full discovery.
 */
export interface RunHint {
  incremental: boolean;
}

/**
 * What one discovery run produces: the model itself (discovered on this
 * thread), or its serialisations made elsewhere (the discovery worker), so
 * the serving thread never spends time on a 500-namespace model.
 */
export interface Product {
  /** Pre-rendered views (JSON bytes) by view name; must hold 'native'. */
  rendered: Map<string, Buffer>;
  /** Changes against the previous run, computed where the previous model lives. */
  changes?: ChangeSet;
  /** Holder paths for the change watcher (bind mounts in other mount namespaces, fds). */
  holders: string[];
  startedAt: string;
  /** Renders a view made only on request (where the model lives); undefined when it cannot any more. */
  render?: (view: string) => Promise<Buffer | undefined>;
  /** The views `render` makes (of the latest model only: see Snapshot.successor). */
  lazyViews?: readonly string[];
  /** The model's missingPrivileges, so the service's start-up line needs no parse of the whole model. */
  missingPrivileges?: Discovery['missingPrivileges'];
}

/** Paths that keep process-less network namespaces alive (see watch.ts), from a model. */
export function holderPaths(d: Discovery): string[] {
  const out: string[] = [];
  for (const ns of Object.values(d.namespaces)) {
    if (ns.type !== 'net' || ns.processes.length > 0) continue;
    for (const b of ns.bindMounts) if (b.reachablePath) out.push(b.reachablePath);
    for (const f of ns.fds) out.push(`/proc/${f.pid}/fd/${f.fd}`);
  }
  return out;
}

export class Snapshot {
  /** Serialisations memoised per view: built once per generation. */
  readonly rendered: Map<string, Buffer>;
  /** gzip of a rendering, made once per generation and view (in the background: zlib's thread pool). */
  readonly gzipped = new Map<string, Promise<Buffer>>();
  private model: Discovery | undefined;
  readonly holders: readonly string[];
  readonly startedAt: string;
  /** Views being rendered on request (Product.render), shared by simultaneous requests. */
  readonly rendering = new Map<string, Promise<Buffer | undefined>>();
  readonly renderElsewhere: ((view: string) => Promise<Buffer | undefined>) | undefined;
  readonly lazyViews: readonly string[];
  /**
   * The snapshot that replaced this one. Where the model lives elsewhere (the discovery worker),
   * only the newest one can still be rendered there; a request holding an older one is answered
   * from the newest (renderNewest) rather than by parsing and rendering a whole host here.
   */
  successor: Snapshot | undefined;

  constructor(
    /** Increments with every finished discovery. */
    readonly generation: number,
    /** Monotonic time (ms) when the discovery finished. */
    readonly at: number,
    source: Discovery | Product,
  ) {
    if (isProduct(source)) {
      this.rendered = source.rendered;
      this.holders = source.holders;
      this.startedAt = source.startedAt;
      this.renderElsewhere = source.render;
      this.lazyViews = source.lazyViews ?? [];
      this.privileges = source.missingPrivileges;
    } else {
      this.lazyViews = [];
      this.model = source;
      this.rendered = new Map();
      this.holders = holderPaths(source);
      this.startedAt = source.startedAt;
    }
  }

  /** What the discovery lacked for want of a capability (without parsing a model discovered elsewhere). */
  get missingPrivileges(): Discovery['missingPrivileges'] {
    return this.privileges ?? this.discovery.missingPrivileges;
  }
  private readonly privileges: Discovery['missingPrivileges'] | undefined;

  /** The model; parsed from the native rendering on first use when it was discovered elsewhere. */
  get discovery(): Discovery {
    if (!this.model) {
      const native = this.rendered.get('native');
      if (!native) throw new Error('snapshot without a model or native rendering');
      this.model = JSON.parse(native.toString('utf8')) as Discovery;
    }
    return this.model;
  }
}

const isProduct = (x: Discovery | Product): x is Product => x instanceof Object && 'rendered' in x;

/** A finished discovery for those who listen: `changes` against `previous`. */
export type SnapshotListener = (snap: Snapshot, changes: ChangeSet, previous: Snapshot | undefined) => void;

/**
 * Namespaces the census saw come and go (nsfs inodes), told at once: before a discovery shows
 * them, and also those a diff of two discoveries cannot show (added and removed between them, an
 * inode reused between them).
 */
export type CensusListener = (delta: NamespaceDelta) => void;

export interface CacheOptions {
  /** Rediscover when the result is older than this, even without change events (default 60 s). */
  maxAgeMs?: number;
  /**
   * After a change, a result younger than this is still served at once while
   * the new discovery runs in the background (default 2 s). On a host where
   * namespaces come and go every second this keeps answers fast; staleness is
   * bounded by this plus one discovery. `?fresh=1` always waits.
   */
  graceMs?: number;
  /**
   * Ask for incremental discoveries where they see every change (default true; the environment
   * variable WIRESCOPE_INCREMENTAL=0 turns them off, so benchmarks compare both in one run).
   */
  incremental?: boolean;
}

export class DiscoveryCache {
  private current: Snapshot | undefined;
  private inflight: Promise<Snapshot> | undefined;
  /** Bumped on every change notification; a snapshot is valid for the epoch it started in. */
  private epoch = 0;
  private currentEpoch = -1;
  private listeners = new Set<SnapshotListener>();
  private readonly maxAgeMs: number;
  /** Number of discoveries run (exposed on /healthz; tests check sharing with it). */
  discoveries = 0;
  lastError: string | undefined;

  constructor(
    private readonly run: (hint: RunHint) => Promise<Discovery | Product>,
    opts: CacheOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.incremental = opts.incremental ?? process.env.WIRESCOPE_INCREMENTAL !== '0';
    this.graceMs = opts.graceMs ?? 2000;
  }
  private readonly graceMs: number;
  private readonly incremental: boolean;
  private lastDurationMs = 0;

  get generation(): number {
    return this.current?.generation ?? 0;
  }

  /** The last finished snapshot, without triggering a discovery. */
  peek(): Snapshot | undefined {
    return this.current;
  }

  /**
   * Something changed: the next request rediscovers (an in-flight one may already be stale).
   * Only changes the rtnetlink monitors or the namespace census reported can be rediscovered
   * incrementally; any other (engine events, an unnamed reason such as `?fresh=1`) asks for a
   * full discovery.
   */
  markDirty(reason?: ChangeReason, delta?: NamespaceDelta): void {
    this.epoch++;
    if (reason !== 'netlink' && reason !== 'namespaces') this.needFull = true;
    if (!delta) return;
    for (const l of this.censusListeners) {
      try {
        l(delta);
      } catch {
        // as for snapshot listeners
      }
    }
  }
  private readonly censusListeners = new Set<CensusListener>();
  /** A change since the last discovery started that an incremental one would not see. */
  private needFull = true;
  /** Monotonic time (ms) the last full discovery started: one runs at least every maxAgeMs. */
  private lastFullAt = Number.NEGATIVE_INFINITY;
  /** Full and incremental discoveries run so far (tests and benchmarks read them). */
  readonly runs = { full: 0, incremental: 0 };

  get stale(): boolean {
    return (
      this.current === undefined ||
      this.currentEpoch !== this.epoch ||
      performance.now() - this.current.at > this.maxAgeMs
    );
  }

  /** The current snapshot, or the in-flight/new discovery when there is none or it is stale. */
  async get(opts: { fresh?: boolean } = {}): Promise<Snapshot> {
    if (opts.fresh) {
      // A result that starts reading after this request; simultaneous forced refreshes share one.
      this.markDirty();
      return this.refresh();
    }
    const cur = this.current;
    if (cur && !this.stale) return cur;
    const now = performance.now();
    // Grace grows with the cost of a discovery, so a host where namespaces churn every
    // second does not spend all its time rediscovering (at most half of it, see below).
    const grace = Math.min(Math.max(this.graceMs, 2 * this.lastDurationMs), this.maxAgeMs);
    if (cur && now - cur.at < grace) {
      // Changed, but recently discovered: answer now, refresh behind the scenes (stale-while-revalidate),
      // and never start the next discovery sooner than one discovery's duration after the last.
      if (!this.inflight && now - cur.at >= this.lastDurationMs) this.refresh().catch(() => undefined);
      return cur;
    }
    // A discovery is running: share it even if a change arrived after it started (it is at most
    // one discovery old), rather than queue behind it. Only ?fresh=1 waits for a newer one.
    if (this.inflight) return this.inflight;
    return this.refresh();
  }

  /**
   * Starts a discovery unless one that will see the current state is already
   * running or waiting; resolves with its snapshot. Never two at once: a newer
   * one waits behind the running one, and every caller that arrives meanwhile
   * (a burst of `?fresh=1`, change notifications) joins that one waiting
   * discovery: it has not read anything yet, so its result is newer than all
   * of their requests. A burst of N forced refreshes costs at most two
   * discoveries, not N.
   */
  refresh(): Promise<Snapshot> {
    if (this.queued) return this.queued;
    if (this.inflight && this.inflightEpoch === this.epoch) return this.inflight;
    const chained = this.inflight;
    this.inflightEpoch = this.epoch;
    const p: Promise<Snapshot> = (chained ? chained.catch(() => undefined) : Promise.resolve()).then(
      async () => {
        // Valid for every change notified up to now: it reads the kernel from here on.
        if (this.queued === p) this.queued = undefined;
        const startEpoch = this.epoch;
        if (this.inflight === p) this.inflightEpoch = startEpoch;
        this.discoveries++;
        const t0 = performance.now();
        // Incremental only on top of a previous result, after changes it can see, and while the
        // last full discovery (which reads what has no notification: sockets, counters,
        // neighbours, nftables, DNS files) is younger than maxAgeMs.
        const incremental =
          this.incremental &&
          this.current !== undefined &&
          !this.needFull &&
          t0 - this.lastFullAt < this.maxAgeMs;
        this.needFull = false;
        if (!incremental) this.lastFullAt = t0;
        this.runs[incremental ? 'incremental' : 'full']++;
        let product: Discovery | Product;
        try {
          product = await this.run({ incremental });
        } catch (err) {
          // What the failed run would have read is unknown: the next one reads everything.
          this.needFull = true;
          throw err;
        }
        this.lastDurationMs = performance.now() - t0;
        const previous = this.current;
        const snap = new Snapshot((previous?.generation ?? 0) + 1, performance.now(), product);
        if (previous) previous.successor = snap;
        this.current = snap;
        this.currentEpoch = startEpoch;
        this.lastError = undefined;
        // Diffing 500 namespaces costs tens of milliseconds: here only for listeners, and only when
        // the discovery did not bring its own diff (the worker computes it beside the previous model).
        let changes: ChangeSet | undefined = isProduct(product) ? product.changes : undefined;
        if (this.listeners.size === 0) return snap;
        changes ??= diffDiscoveries(previous?.discovery, snap.discovery);
        for (const l of this.listeners) {
          try {
            l(snap, changes, previous);
          } catch {
            // A listener's failure (e.g. a closed stream) must not fail the discovery.
          }
        }
        return snap;
      },
    );
    this.inflight = p;
    this.queued = p;
    p.then(
      () => {
        if (this.inflight === p) this.inflight = undefined;
      },
      (err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        if (this.inflight === p) this.inflight = undefined;
        if (this.queued === p) this.queued = undefined;
      },
    );
    return p;
  }
  private inflightEpoch = -1;
  /** A discovery that has not started reading yet (waiting for the running one, or for the next tick). */
  private queued: Promise<Snapshot> | undefined;

  /** Listens to finished discoveries and, while it does, `census` hears of namespaces at once. */
  onSnapshot(l: SnapshotListener, census?: CensusListener): () => void {
    this.listeners.add(l);
    if (census) this.censusListeners.add(census);
    return () => {
      this.listeners.delete(l);
      if (census) this.censusListeners.delete(census);
    };
  }

  /** Memoised serialisation of a view of the snapshot. */
  static render(snap: Snapshot, view: string, build: () => unknown): Buffer {
    let s = snap.rendered.get(view);
    if (s === undefined) {
      s = Buffer.from(JSON.stringify(build()));
      snap.rendered.set(view, s);
    }
    return s;
  }

  /**
   * Memoised serialisation of `view`, rendered where the model lives when the discovery offers
   * that (the discovery worker: no parse of the whole document on the serving thread), else by
   * `build` here. The worker holds only its latest model: when it has moved on (a discovery
   * finished meanwhile, as it does back to back on a churning host), the newest snapshot answers
   * instead, a document at least as new as the one asked for. Rendering a 1000-namespace host
   * here blocked the serving thread for seconds, long enough for waiting keep-alive connections
   * to time out with their request unread. Resolves with the snapshot that answered.
   */
  static async renderNewest(
    snap: Snapshot,
    view: string,
    build: (snap: Snapshot) => unknown,
  ): Promise<{ snap: Snapshot; body: Buffer }> {
    let s = snap;
    // Each step needs a newer finished discovery: bounded in practice, capped all the same.
    for (let tries = 0; ; tries++) {
      const body = await DiscoveryCache.renderThere(s, view);
      if (body) return { snap: s, body };
      let next = s.successor;
      while (next?.successor) next = next.successor;
      if (!next?.lazyViews.includes(view) || tries >= 3) break;
      s = next;
    }
    const at = s;
    return { snap: at, body: DiscoveryCache.render(at, view, () => build(at)) };
  }

  /** The memoised rendering of `view`, made elsewhere if not yet (shared by simultaneous requests); undefined if it cannot be. */
  private static renderThere(snap: Snapshot, view: string): Promise<Buffer | undefined> {
    const done = snap.rendered.get(view);
    if (done) return Promise.resolve(done);
    let p = snap.rendering.get(view);
    if (!p) {
      p = (snap.renderElsewhere?.(view) ?? Promise.resolve(undefined)).then((b) => {
        if (b) snap.rendered.set(view, b);
        snap.rendering.delete(view);
        return b;
      });
      snap.rendering.set(view, p);
    }
    return p;
  }

  static gzip(snap: Snapshot, view: string, body: Buffer): Promise<Buffer> {
    let p = snap.gzipped.get(view);
    if (p === undefined) {
      p = new Promise<Buffer>((resolve, reject) =>
        gzip(body, { level: 6 }, (err, out) => (err ? reject(err) : resolve(out))),
      );
      snap.gzipped.set(view, p);
    }
    return p;
  }
}
