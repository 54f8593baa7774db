/**
 * A worker thread that runs full discoveries on request, for tests that compare them with
 * incremental ones made on their own thread (src/incremental.test.ts): a thread has its own
 * module instances, so its network workers, sockets and memos share nothing with the caller's.
 * Messages: `{id}` → `{id, text}` (the discovery as JSON); `{id, op: 'close'}` releases its
 * sockets and answers `{id, text: ''}`. Test helper.
 */
import { parentPort } from 'node:worker_threads';
import { closeDiscovery, discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';

const tracker = createEngineTracker();

parentPort?.on('message', async (m: { id: number; op?: 'close' }) => {
  if (m.op === 'close') {
    tracker.close();
    await closeDiscovery();
    parentPort?.postMessage({ id: m.id, text: '' });
    return;
  }
  const d = await discover({ containers: tracker });
  parentPort?.postMessage({ id: m.id, text: JSON.stringify(d) });
});
