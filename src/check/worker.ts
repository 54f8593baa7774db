/**
 * The check worker: a thread that enters the start network namespace once and
 * stays there, so every socket its event loop creates (DNS, TCP, ICMP) is the
 * start namespace's. It runs nothing but the plan it was given, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SyscallError } from '../kernel/libc.js';
import { enterNetnsForGood } from '../kernel/netns.js';
import { runPlan } from './engine.js';
import { Pinger } from './probe.js';
import type { WorkerMessage } from './run.js';
import type { CheckPlan } from './types.js';

const plan = workerData as CheckPlan;

/** One line that says why the start namespace could not be entered, naming the capability. */
function enterFailure(e: unknown): string {
  const where = `network namespace ${plan.target.netns} (${plan.target.label})`;
  if (e instanceof SyscallError && e.vanished) return `${where} vanished before the check could enter it`;
  if (e instanceof SyscallError && e.denied)
    return `entering ${where} needs CAP_SYS_ADMIN (setns(2)); run wirescope as root: ${e.message}`;
  return `cannot enter ${where}: ${(e as Error).message}`;
}
const post = (m: WorkerMessage) => parentPort?.postMessage(m);

try {
  try {
    enterNetnsForGood(plan.target.path, plan.target.netns);
  } catch (e) {
    throw new Error(enterFailure(e));
  }
  // The ICMP sockets are fds of the whole process, not of this thread: a cancelled check
  // closes them before the thread ends, or they would outlive it.
  const pinger = new Pinger();
  parentPort?.on('message', (m: unknown) => {
    if (m === 'stop') {
      pinger.close();
      process.exit(0);
    }
  });
  const verdicts = await runPlan(plan, (v) => post({ type: 'verdict', verdict: v }), pinger);
  post({ type: 'done', verdicts });
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
