/**
 * When to rediscover after change notifications. A lone notification fires
 * after `quietMs` of quiet (one veth pair coming up is a dozen rtnetlink
 * messages within a few milliseconds: they land in one discovery), never
 * later than `maxMs` after the first. Within `maxMs` of the last firing the
 * host is busy: notifications then coalesce for `maxMs`, as before, so a
 * churning host costs at most one discovery per `maxMs` plus one discovery's
 * duration.
 *
 * Nothing is lost or reordered by firing early: every notification is
 * followed by a firing that comes after it, and the discovery cache starts a
 * discovery that reads the kernel after that firing (DiscoveryCache.refresh),
 * one at a time, each diffed against the one before.
 */
export const QUIET_MS = 20;

export interface SettleOptions {
  /** Quiet time that ends a lone burst (default QUIET_MS). */
  quietMs?: number;
  /** Longest wait after the first notification; the coalescing window when busy. */
  maxMs: number;
  now?: () => number;
}

export class Settler {
  private timer: NodeJS.Timeout | undefined;
  private deadline = 0;
  private quick = false;
  private lastFire = Number.NEGATIVE_INFINITY;
  private readonly quietMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fire: () => void,
    opts: SettleOptions,
  ) {
    this.quietMs = Math.min(opts.quietMs ?? QUIET_MS, opts.maxMs);
    this.maxMs = opts.maxMs;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Whether a firing is pending. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  notify(): void {
    const now = this.now();
    if (this.timer) {
      if (!this.quick) return; // busy: the window ends at its deadline
      clearTimeout(this.timer);
      this.arm(Math.min(this.quietMs, this.deadline - now));
      return;
    }
    this.deadline = now + this.maxMs;
    this.quick = now - this.lastFire >= this.maxMs;
    this.arm(this.quick ? this.quietMs : this.maxMs);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.lastFire = this.now();
        this.fire();
      },
      Math.max(0, ms),
    );
  }
}
