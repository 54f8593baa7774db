/**
 * The change watcher on its own thread: the census of /proc and the netlink
 * sockets of a thousand namespaces (opening them in a burst takes ~0.1 ms
 * each) never hold up a request on the serving thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChangeWatcher, type WatcherOptions } from './watcher.js';

export type WatchWorkerIn = { holders: string[] } | { stop: true };
export type WatchWorkerOut = { change: string } | { watched: number };

let holders: readonly string[] = [];
const opts = workerData as Omit<WatcherOptions, 'extraPaths'>;
const watcher = new ChangeWatcher(
  (reason) => parentPort?.postMessage({ change: reason } satisfies WatchWorkerOut),
  {
    ...opts,
    extraPaths: () => holders,
  },
);
let last = -1;
const report = setInterval(() => {
  if (watcher.watchedNamespaces === last) return;
  last = watcher.watchedNamespaces;
  parentPort?.postMessage({ watched: last } satisfies WatchWorkerOut);
}, watcher.intervalMs);
parentPort?.on('message', (m: WatchWorkerIn) => {
  if ('holders' in m) holders = m.holders;
  else {
    clearInterval(report);
    watcher.stop();
    parentPort?.close();
  }
});
watcher.start();
