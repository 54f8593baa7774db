/**
 * A namespace worker thread: answers the pool's requests with handler.ts. A thread that
 * could not return to its own network namespace ends: it must not be reused.
 */
import { parentPort } from 'node:worker_threads';
import { IdleCollector } from '../kernel/heap.js';
import { NetnsRestoreError } from '../kernel/netns.js';
import { nameThread } from '../kernel/thread-name.js';
import { handleRequest } from './handler.js';
import type { WorkerRequest } from './types.js';

nameThread('ws-netns');

const port = parentPort;
// A dump's decoded messages are garbage once sent: given back when the thread idles (heap.ts).
const collector = new IdleCollector();
if (port) {
  port.on('message', (req: WorkerRequest) => {
    collector.busy();
    try {
      handleRequest(req, (res) => port.postMessage(res));
    } catch (e) {
      if (e instanceof NetnsRestoreError) process.exit(1);
    }
    collector.done();
  });
}
