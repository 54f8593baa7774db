/**
 * The neighbourhood check for the service: `/api/check/:target` (JSON, or
 * server-sent events when asked for text/event-stream) and Ghostwire's
 * `/mobydig` websocket both start one here. Each check runs on its own worker
 * thread inside the target's namespace (src/check/); a few at most run at
 * once, and a client that goes away cancels its check.
 */
import type { Prepared } from '../check/run.js';
import { type CheckLimits, type CheckResult, CheckTargetError, type Verdict } from '../check/types.js';
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
   * Prepares the check (so an unknown target rejects with CheckTargetError
   * before anything is sent), then runs it. The check's code (planning, the
   * probe threads) loads with the first check, not with the service.
   */
  async start(
    d: Discovery,
    target: string,
    cb: CheckCallbacks = {},
  ): Promise<{ prepared: Prepared; done: Promise<CheckResult> }> {
    const { prepareCheck, runCheckPlan, sortVerdicts } = await import('../check/run.js');
    // From the count to `running++` nothing awaits: two starts cannot both take the last place.
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
