/**
 * The helper thread of the process scan (see parallel.ts): receives jobs on
 * its port, takes chunks of PIDs until none are left, posts what it found.
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { nameThread } from '../kernel/thread-name.js';
import { finishJob, type Job, runJob } from './parallel.js';

nameThread('ws-scan');

const { port, ready } = workerData as { port: MessagePort; ready: Int32Array };
port.on('message', (job: Job) => {
  const result = runJob(job);
  if (result === undefined) return;
  port.postMessage(result);
  finishJob(job.ctrl);
});
Atomics.store(ready, 0, 1);
