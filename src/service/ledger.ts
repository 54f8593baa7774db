/**
 * Which network namespaces the change events say came and went: the census's
 * own account (every add and remove it saw, in order) reconciled with the
 * diffs of the discoveries. A diff of two models misses a namespace added and
 * removed between them, and a namespace whose inode was reused between them
 * (nsfs inodes come from an IDA, proc_alloc_inum(): the lowest free number,
 * so a new namespace often gets the inode one just freed); the census saw both
 * operations. Pure bookkeeping; the cache feeds it (cache.ts).
 *
 * Each census report is tagged with the cache's change epoch. A discovery
 * that started at epoch E read the kernel after every report tagged ≤ E, so
 * those are settled with its result; later ones wait for the next discovery
 * (the model may or may not show them yet: where it does, the diff reports
 * them first, and the census report is then found already told).
 *
 * The result is a list of steps: an inode appears at most once per step, so
 * an add and remove of one inode (or a remove and a re-add on reuse) land in
 * successive steps, in the order they happened.
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

interface Report {
  ino: number;
  added: boolean;
  epoch: number;
}

export class NamespaceLedger {
  private reports: Report[] = [];
  /** inode → whether the events last said it exists, and when (told removals are pruned after a while). */
  private told = new Map<number, { present: boolean; at: number }>();

  /** The census saw these namespaces come and go (at change epoch `epoch`). */
  note(delta: NamespaceDelta, epoch: number): void {
    for (const ino of delta.removed) this.reports.push({ ino, added: false, epoch });
    for (const ino of delta.added) this.reports.push({ ino, added: true, epoch });
  }

  /** Forgets everything (nobody listens: the next listener starts from a fresh document). */
  clear(): void {
    this.reports = [];
    this.told.clear();
  }

  /** Reports waiting for a discovery (for tests). */
  get pending(): number {
    return this.reports.length;
  }

  /**
   * A discovery that started at `startEpoch` found these namespaces added and removed against
   * the one before: the steps to tell, ending with the discovery's own. Never empty.
   */
  settle(diff: NamespaceStep, startEpoch: number, now = performance.now()): NamespaceStep[] {
    const steps: NamespaceStep[] = [{ added: [], removed: [] }];
    let inStep = new Set<number>();
    const tell = (ino: number, added: boolean) => {
      if (inStep.has(ino)) {
        steps.push({ added: [], removed: [] });
        inStep = new Set();
      }
      inStep.add(ino);
      const step = steps[steps.length - 1] as NamespaceStep;
      (added ? step.added : step.removed).push(ino);
      this.told.set(ino, { present: added, at: now });
    };
    const told = (ino: number) => this.told.get(ino)?.present;
    const mustAdd = new Set(diff.added);
    const mustRemove = new Set(diff.removed);
    const later: Report[] = [];
    for (const r of this.reports) {
      if (r.epoch > startEpoch) {
        later.push(r);
        continue;
      }
      // Never told of: the model's diff says what it was before, else the report itself does.
      const was = told(r.ino) ?? (mustAdd.has(r.ino) ? false : mustRemove.has(r.ino) ? true : !r.added);
      if (was !== r.added) tell(r.ino, r.added);
    }
    this.reports = later;
    // The model is the end state of the step: whatever the census has not told yet.
    for (const ino of diff.removed) if (told(ino) !== false) tell(ino, false);
    for (const ino of diff.added) if (told(ino) !== true) tell(ino, true);
    const waiting = new Set(later.map((r) => r.ino));
    for (const [ino, t] of this.told)
      if (!t.present && now - t.at > REMEMBER_REMOVED_MS && !waiting.has(ino)) this.told.delete(ino);
    return steps;
  }
}
