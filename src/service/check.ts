/**
 * The neighbourhood check for the service: `/api/check/:target` (JSON, or
 * server-sent events when asked for text/event-stream) and Ghostwire's
 * `/mobydig` websocket both start one here. Each check runs on its own worker
 * thread inside the target's namespace (src/check/); a few at most run at
 * once, and a client that goes away cancels its check.
 */
import { CheckTargetError, type Prepared, prepareCheck, runCheckPlan, sortVerdicts } from '../check/run.js';
import type { CheckLimits, CheckResult, Verdict } from '../check/types.js';
import type { Discovery } from '../model/types.js';

/** Checks running at once: each holds a thread and up to 16 sockets. */
export const MAX_CHECKS = 4;

export class ChecksBusyError extends Error {}

export interface CheckCallbacks {
  onPlan?: (p: Prepared) => void;
  onVerdict?: (v: Verdict) => void;
  signal?: AbortSignal;
  limits?: Partial<CheckLimits>;
}

export class CheckService {
  private running = 0;
  constructor(readonly max = MAX_CHECKS) {}

  get active(): number {
    return this.running;
  }

  /**
   * Prepares the check synchronously (so an unknown target throws
   * CheckTargetError before anything is sent), then runs it.
   */
  start(
    d: Discovery,
    target: string,
    cb: CheckCallbacks = {},
  ): { prepared: Prepared; done: Promise<CheckResult> } {
    if (this.running >= this.max)
      throw new ChecksBusyError(`${this.max} checks are running; try again shortly`);
    const prepared = prepareCheck(d, target, { limits: cb.limits });
    this.running++;
    cb.onPlan?.(prepared);
    const done = runCheckPlan(prepared.plan, cb.onVerdict, cb.signal)
      .then((vs) => {
        const verdicts = sortVerdicts(vs);
        return { ...prepared.hood, verdicts, ok: verdicts.every((v) => v.quality === 'verified') };
      })
      .finally(() => {
        this.running--;
      });
    return { prepared, done };
  }
}

export { CheckTargetError };
