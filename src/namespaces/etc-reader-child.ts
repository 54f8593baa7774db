/**
 * The child process that reads tenants' /etc files for etc-reader.ts. It
 * reads views one at a time and reports each as soon as it is read, so the
 * parent knows which one a stuck read is on. It dies with its parent
 * (PR_SET_PDEATHSIG) and when the IPC channel closes.
 */
import { getppid, setParentDeathSignal } from '../kernel/libc.js';
import type { ChildMessage, ParentMessage } from './etc-reader.js';
import { readView } from './etc-view.js';

const SIGKILL = 9;

const parent = Number(process.env.WIRESCOPE_ETC_PARENT);
setParentDeathSignal(SIGKILL);
// The parent may have died before the line above: then we are someone else's.
if (getppid() !== parent) process.exit(0);

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

process.on('message', (m: ParentMessage) => {
  if (m.type !== 'read') return;
  let i = 0;
  // One view per turn of the event loop, so that each result is written to
  // the channel before the next view's reads (which may block) begin.
  const next = (): void => {
    const job = m.jobs[i++];
    if (job === undefined) {
      send({ type: 'done', batch: m.batch });
      return;
    }
    send({ type: 'result', batch: m.batch, result: readView(m.procRoot, job) });
    setImmediate(next);
  };
  next();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
