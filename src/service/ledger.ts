/**
 * Which network namespaces the change events say came and went: the census's
 * own account, told as soon as the census reports it, reconciled with the
 * diffs of the discoveries that follow.
 *
 * Why the census and not only the diffs: a diff of two models misses a
 * namespace added and removed between them, and a namespace whose inode was
 * reused between them (nsfs inodes come from an IDA, proc_alloc_inum(): the
 * lowest free number, so a new namespace often gets the inode one just freed);
 * the census saw both operations, in order. And it sees them within
 * milliseconds, where a discovery of a thousand namespaces takes hundreds.
 *
 * Each report carries the cache's change epoch. A discovery that started at
 * epoch E read the kernel after every report up to E, but may predate later
 * ones: its diff is told only for namespaces nothing newer than E was told of
 * (a namespace added and already removed by the census is not added again by
 * the diff of a discovery that ran in between). What the census never saw
 * (it missed an event; the diff is the model's truth) is told from the diff.
 * Pure bookkeeping; the cache feeds it (cache.ts).
 */
import type { NamespaceDelta } from '../watch/watcher.js';

/**
 * How long a told removal is remembered: a census report of it may come after the diff told it
 * (a namespace whose last holder the safety-net walk finds gone, FULL_WALK_MS = 5 s later), and
 * must then not be told twice.
 */
const REMEMBER_REMOVED_MS = 30_000;

export interface NamespaceStep {
  added: number[];
  removed: number[];
}

interface Told {
  present: boolean;
  /** The change epoch of what told it (a census report, or the start of a discovery). */
  epoch: number;
  /** performance.now() when told. */
  at: number;
}

export class NamespaceLedger {
  /** inode → what the events last said of it (told removals pruned after a while). */
  private told = new Map<number, Told>();

  /** Forgets everything (nobody listens: the next listener starts from a fresh document). */
  clear(): void {
    this.told.clear();
  }

  /** Inodes remembered (tests, and the RSS bound: live namespaces plus 30 s of removals). */
  get size(): number {
    return this.told.size;
  }

  /** The census saw these namespaces come and go at change epoch `epoch`: what to tell now. */
  report(delta: NamespaceDelta, epoch: number, now = performance.now()): NamespaceStep {
    const step: NamespaceStep = { added: [], removed: [] };
    for (const ino of delta.removed) if (this.tell(ino, false, epoch, now)) step.removed.push(ino);
    for (const ino of delta.added) if (this.tell(ino, true, epoch, now)) step.added.push(ino);
    return step;
  }

  /**
   * A discovery that started at epoch `startEpoch` found these namespaces added and removed
   * against the one before: what of it the census has not told.
   */
  settle(diff: NamespaceStep, startEpoch: number, now = performance.now()): NamespaceStep {
    const step: NamespaceStep = { added: [], removed: [] };
    const fresh = (ino: number) => (this.told.get(ino)?.epoch ?? Number.NEGATIVE_INFINITY) <= startEpoch;
    for (const ino of diff.removed)
      if (fresh(ino) && this.tell(ino, false, startEpoch, now)) step.removed.push(ino);
    for (const ino of diff.added)
      if (fresh(ino) && this.tell(ino, true, startEpoch, now)) step.added.push(ino);
    for (const [ino, t] of this.told)
      if (!t.present && now - t.at > REMEMBER_REMOVED_MS) this.told.delete(ino);
    return step;
  }

  /** Records that `ino` is (not) present; whether that is news. */
  private tell(ino: number, present: boolean, epoch: number, at: number): boolean {
    const was = this.told.get(ino);
    this.told.set(ino, { present, epoch: Math.max(epoch, was?.epoch ?? epoch), at });
    return was?.present !== present;
  }
}
