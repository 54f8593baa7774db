/**
 * `lab up`: reconcile the host with a declaration.
 *
 * Order: nodes (namespace holders), then per namespace bridges, veths,
 * macvlans and vxlans, then each interface's attributes, addresses, routes,
 * rules, sysctls, NAT, partitions, netem, and finally removal of what the lab
 * owns but no longer declares. Each phase is a function over one shared
 * `UpContext` (apply-context.ts): interface phases in apply-links.ts,
 * routing in apply-routing.ts, namespace settings in apply-settings.ts, nodes
 * in apply-nodes.ts. Every mutation goes through `act()`: with --dry-run it
 * is only recorded (that list is the plan), otherwise it runs and what it
 * created is pushed on an undo log, so a failure half-way rolls back exactly
 * what this run created and says which step failed. Existing objects are
 * only touched when they carry the lab's mark (or live in a namespace the lab
 * holds); anything else in the way is an error before anything is changed.
 */
import type { LoadedLab } from '../file/load.js';
import { LabApplyError, UpContext, type UpOptions } from './apply-context.js';
import {
  createBridges,
  createStackedInterfaces,
  createVeths,
  removeStaleInterfaces,
  setAttributes,
} from './apply-links.js';
import { openNamespaces, planNodes, startNodes, stopUndeclaredNodes } from './apply-nodes.js';
import { applyAddresses, applyRoutes, applyRules } from './apply-routing.js';
import { applyNetem, applyNft, applySysctls } from './apply-settings.js';
import type { Step } from './plan.js';
import { removeState, withLabLock, writeState } from './state.js';

export { LabApplyError, type UpOptions } from './apply-context.js';

export interface UpResult {
  name: string;
  steps: Step[];
  dryRun: boolean;
}

export async function labUp(lab: LoadedLab, opts: UpOptions = {}): Promise<UpResult> {
  // A dry run reads only; a real run holds the lab's lock so two runs never interleave.
  return opts.dryRun ? upLocked(lab, opts) : withLabLock(lab.topology.name, () => upLocked(lab, opts));
}

async function upLocked(lab: LoadedLab, opts: UpOptions): Promise<UpResult> {
  const run = new UpContext(lab, opts);
  try {
    const nodes = planNodes(run);
    openNamespaces(run, nodes);
    await startNodes(run, nodes);
    await removeStaleInterfaces(run);
    await createBridges(run);
    await createVeths(run);
    await createStackedInterfaces(run);
    await setAttributes(run);
    await applyAddresses(run);
    await applyRoutes(run);
    await applyRules(run);
    await applySysctls(run);
    await applyNft(run);
    await applyNetem(run);
    await stopUndeclaredNodes(run, nodes);
    if (!run.dry) writeState(run.state);
    return { name: run.name, steps: run.steps, dryRun: run.dry };
  } catch (e) {
    if (run.dry) throw e;
    return await rollBack(run, e);
  } finally {
    run.close();
  }
}

/** Undoes what this run created, newest first, restores the previous state file, and throws. */
async function rollBack(run: UpContext, e: unknown): Promise<never> {
  const failedAt = run.current;
  let undone = 0;
  const problems: string[] = [];
  run.dirty(run.hostKey);
  for (const u of run.undo.reverse()) {
    try {
      await u.fn();
      undone++;
    } catch (ue) {
      problems.push(`${u.text}: ${(ue as Error).message}`);
    }
  }
  if (run.prev) writeState(run.prev);
  else removeState(run.name);
  const msg = (e as Error).message;
  throw new LabApplyError(
    `lab ${run.name}: ${failedAt ? `"${failedAt}" failed` : 'failed'}: ${msg}; rolled back ${undone} object(s) this run created` +
      (problems.length ? `; could not undo: ${problems.join('; ')}` : ''),
  );
}
