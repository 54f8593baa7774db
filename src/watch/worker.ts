/**
 * The change watcher on its own thread: the census of /proc and the netlink
 * sockets of a thousand namespaces (opening them in a burst takes ~0.1 ms
 * each) never hold up a request on the serving thread. In event mode it sleeps
 * in epoll_wait(2) on the kernel's notifications, waking at most every 50 ms to
 * read its messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IdleCollector } from '../kernel/heap.js';
import { nameThread } from '../kernel/thread-name.js';
import { ChangeWatcher, type NamespaceDelta, type WatcherOptions, type WatchStatus } from './watcher.js';

nameThread('ws-watch');

export type WatchWorkerIn = { holders: string[] } | { stop: true };
export type WatchWorkerOut =
  | { change: string; delta?: NamespaceDelta }
  | { watched: number; status: WatchStatus };

let holders: readonly string[] = [];
const opts = workerData as Omit<WatcherOptions, 'extraPaths'>;
// The start (a socket per namespace) and each change (mountinfo read again, the set rebuilt) leave
// garbage that would stay resident in a thread that then sleeps (heap.ts).
const collector = new IdleCollector();
const watcher = new ChangeWatcher(
  (reason, delta) => {
    parentPort?.postMessage(
      (delta ? { change: reason, delta } : { change: reason }) satisfies WatchWorkerOut,
    );
    collector.done();
  },
  {
    blocking: true,
    ...opts,
    extraPaths: () => holders,
  },
);
let last = '';
const report = () => {
  const status = watcher.status;
  const text = JSON.stringify(status);
  if (text === last) return;
  last = text;
  parentPort?.postMessage({ watched: watcher.watchedNamespaces, status } satisfies WatchWorkerOut);
};
const reporter = setInterval(report, watcher.intervalMs);
parentPort?.on('message', (m: WatchWorkerIn) => {
  if ('holders' in m) holders = m.holders;
  else {
    clearInterval(reporter);
    watcher.stop();
    parentPort?.close();
  }
});
watcher.start();
report();
collector.done();
