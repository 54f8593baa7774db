/**
 * The neighbourhood check from the caller's side: pick the start namespace in
 * a discovery, derive its neighbours and the names to try (pure), then hand the
 * plan to a worker thread that acts from inside that namespace and streams
 * verdicts back.
 */
import { Worker } from 'node:worker_threads';
import type { Discovery } from '../model/types.js';
import { matchingNetworks } from '../views/text-tree.js';
import { type PlanOptions, planCheck } from './names.js';
import { findNeighbours, labelOf } from './neighbours.js';
import {
  type CheckPlan,
  type CheckResult,
  CheckTargetError,
  type Neighbourhood,
  type Verdict,
} from './types.js';

export type WorkerMessage =
  | { type: 'verdict'; verdict: Verdict }
  | { type: 'done'; verdicts: Verdict[] }
  | { type: 'error'; message: string };

export { CheckTargetError };

/**
 * The network namespace `target` names: a container (name, id or id prefix,
 * `group/member`), a tenant, a bind-mounted namespace's path or name, or an inode.
 */
export function findTarget(d: Discovery, target: string): number {
  const exact = Object.values(d.containers).filter(
    (c) => c.netns !== undefined && (c.name === target || c.id === target),
  );
  const inos = new Set(exact.map((c) => c.netns as number));
  if (inos.size === 0) for (const ns of matchingNetworks(d, target)) inos.add(ns.ino);
  if (inos.size === 1) return [...inos][0] as number;
  if (inos.size === 0) {
    // Without privileges discovery sees only part of the host: say which capability is missing.
    const caps = [...new Set(d.missingPrivileges.map((p) => p.capability))];
    const hint =
      caps.length > 0
        ? ` (discovery ran without ${caps.join(', ')}: run as root to see every namespace)`
        : '';
    throw new CheckTargetError(`no container or network namespace matches "${target}"${hint}`);
  }
  const names = [...inos].slice(0, 5).map((ino) => labelOf(d, ino, undefined));
  throw new CheckTargetError(
    `"${target}" matches ${inos.size} network namespaces (${names.join(', ')}, …); be more specific`,
  );
}

/** A path that opens the namespace: the scan's ranked reference for it. */
function pathOf(d: Discovery, netns: number): string {
  const ref = d.namespaces[String(netns)]?.ref;
  if (!ref) throw new CheckTargetError(`network namespace ${netns} has no path wirescope can open`);
  return ref;
}

export interface Prepared {
  hood: Neighbourhood;
  plan: CheckPlan;
}

export function prepareCheck(d: Discovery, target: string, opts: PlanOptions = {}): Prepared {
  const netns = findTarget(d, target);
  const hood = findNeighbours(d, netns);
  return { hood, plan: planCheck(d, hood, pathOf(d, netns), opts) };
}

/** Runs `plan` on a worker inside its start namespace; `onVerdict` sees every update. */
export function runCheckPlan(
  plan: CheckPlan,
  onVerdict: (v: Verdict) => void = () => {},
  signal?: AbortSignal,
): Promise<Verdict[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: plan });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      fn();
      void w.terminate();
    };
    const abort = () => {
      // Ask the worker to close its sockets and end; terminate() follows once it has (or in 1 s).
      w.postMessage('stop');
      const t = setTimeout(() => void w.terminate(), 1000);
      w.once('exit', () => clearTimeout(t));
      if (!settled) {
        settled = true;
        reject(new Error('check cancelled'));
      }
    };
    signal?.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) abort();
    w.on('message', (m: WorkerMessage) => {
      if (settled) return;
      if (m.type === 'verdict') onVerdict(m.verdict);
      else if (m.type === 'done') finish(() => resolve(m.verdicts));
      else finish(() => reject(new Error(m.message)));
    });
    w.on('error', (e) => finish(() => reject(e)));
    w.on('exit', (code) => finish(() => reject(new Error(`check worker exited (code ${code})`))));
  });
}

export function sortVerdicts(vs: readonly Verdict[]): Verdict[] {
  return [...vs].sort((a, b) => a.fqdn.localeCompare(b.fqdn) || a.address.localeCompare(b.address));
}

/** The whole check: neighbours, names, verdicts. */
export async function checkNeighbourhood(
  d: Discovery,
  target: string,
  opts: PlanOptions & {
    onVerdict?: (v: Verdict) => void;
    onPlan?: (p: Prepared) => void;
    signal?: AbortSignal;
  } = {},
): Promise<CheckResult> {
  const prepared = prepareCheck(d, target, opts);
  opts.onPlan?.(prepared);
  const verdicts = sortVerdicts(await runCheckPlan(prepared.plan, opts.onVerdict, opts.signal));
  return { ...prepared.hood, verdicts, ok: verdicts.every((v) => v.quality === 'verified') };
}
