/**
 * The child process that reads tenants' /etc files for etc-reader.ts. It
 * reads views one at a time and reports each as soon as it is read, so the
 * parent knows which one a stuck read is on. It dies with its parent
 * (PR_SET_PDEATHSIG) and when the IPC channel closes.
 */
import {
  AT_EMPTY_PATH,
  AT_STATX_DONT_SYNC,
  close,
  getppid,
  SyscallError,
  setParentDeathSignal,
  statx,
} from '../kernel/libc.js';
import { readEtcDns } from './dns.js';
import type { ChildMessage, ParentMessage, ViewJob, ViewResult } from './etc-reader.js';
import { openRoot } from './rootfs.js';

const SIGKILL = 9;

const parent = Number(process.env.WIRESCOPE_ETC_PARENT);
setParentDeathSignal(SIGKILL);
// The parent may have died before the line above: then we are someone else's.
if (getppid() !== parent) process.exit(0);

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

function readView(procRoot: string, job: ViewJob): ViewResult {
  let last: { message: string; vanished: boolean } | undefined;
  // Through the first of the view's processes that is still there and still
  // has the root the parent saw (a PID reused since has another).
  for (const pid of job.pids) {
    let rootFd: number;
    try {
      rootFd = openRoot(`${procRoot}/${pid}/root`);
    } catch (err) {
      last = { message: String(err instanceof Error ? err.message : err), vanished: isVanished(err) };
      continue;
    }
    try {
      if (job.root !== undefined) {
        const st = statx(rootFd, '', AT_EMPTY_PATH | AT_STATX_DONT_SYNC);
        if (`${st.dev}:${st.ino}` !== job.root) {
          last = { message: `the root of process ${pid} changed`, vanished: true };
          continue;
        }
      }
      const { dns, notes } = readEtcDns(rootFd);
      return { key: job.key, pid, dns, notes };
    } catch (err) {
      last = { message: String(err instanceof Error ? err.message : err), vanished: isVanished(err) };
    } finally {
      close(rootFd);
    }
  }
  return { key: job.key, error: last ?? { message: 'no process to read through', vanished: true } };
}

const isVanished = (err: unknown): boolean => err instanceof SyscallError && err.vanished;

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
