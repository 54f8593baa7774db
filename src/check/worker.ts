/**
 * The check worker: a thread that enters the start network namespace once and
 * stays there, so every socket its event loop creates (DNS, TCP, ICMP) is the
 * start namespace's. It runs nothing but the plan it was given, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { enterNetnsForGood } from '../kernel/netns.js';
import { runPlan } from './engine.js';
import type { WorkerMessage } from './run.js';
import type { CheckPlan } from './types.js';

const plan = workerData as CheckPlan;
const post = (m: WorkerMessage) => parentPort?.postMessage(m);

try {
  enterNetnsForGood(plan.target.path, plan.target.netns);
  const verdicts = await runPlan(plan, (v) => post({ type: 'verdict', verdict: v }));
  post({ type: 'done', verdicts });
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
