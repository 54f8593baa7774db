/**
 * The process scan shared with one helper thread. Reading procfs is nearly
 * all system-call time, independent per process, so a second thread can
 * nearly halve it when a second core is free (on a host whose cores are busy
 * it gains little: see the benchmark). The scan stays synchronous for its caller: work is
 * handed out in chunks through an atomic counter in shared memory, so the
 * calling thread never waits for the helper to start (a cold helper simply
 * takes fewer or no chunks); at the end the caller either shuts the helper
 * out of this scan (it had not joined) or waits for the chunks it took and
 * receives its findings synchronously (receiveMessageOnPort).
 *
 * The helper is created when first wanted (see HelperMode) and kept
 * (unref'd, so it never holds the process open) for later scans.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { NamespaceType } from '../model/types.js';
import { type ProcessSourceOptions, scanProcessRange } from './procs.js';
import { mergePartial, newState, type PartialScan, type ScanState, toPartial } from './state.js';

/** Processes per claim: big enough that the atomic is noise, small enough to balance. */
export const CHUNK = 16;

/** ctrl[STATE] values. */
const PENDING = 0;
const JOINED = 1;
const DONE = 2;
const CLOSED = 3;
const NEXT = 0;
const STATE = 1;

export interface Job {
  id: number;
  procRoot: string;
  types: NamespaceType[];
  opts: ProcessSourceOptions;
  pids: Int32Array;
  ctrl: Int32Array;
  /** What the calling thread knew of nsfs mounts before the scan (see ScanState). */
  ownMnt?: number;
  nsfsPaths: string[];
  nsfsTypes: [number, NamespaceType][];
}

export interface JobResult {
  id: number;
  part?: PartialScan;
  error?: string;
}

interface Helper {
  worker: Worker;
  port: MessagePort;
  /** [0] becomes 1 once the helper has loaded its modules and listens. */
  ready: Int32Array;
}

let helper: Helper | undefined;
/** Processes the helper scanned in the last shared scan (for benchmarks and tests). */
let lastShare = 0;

export function lastHelperShare(): number {
  return lastShare;
}

let helperBroken = false;
let jobs = 0;

function getHelper(): Helper | undefined {
  if (helper !== undefined || helperBroken) return helper;
  try {
    const { port1, port2 } = new MessageChannel();
    const ready = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL('./scan-worker.js', import.meta.url), {
      workerData: { port: port2, ready },
      transferList: [port2],
      // Inherited --input-type (from `node --input-type=module -e …`) would
      // make loading the worker's file fail.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
    });
    worker.unref();
    port1.unref();
    worker.on('error', () => {
      helperBroken = true;
      helper = undefined;
    });
    worker.on('exit', () => {
      helper = undefined;
    });
    helper = { worker, port: port1, ready };
  } catch {
    helperBroken = true;
  }
  return helper;
}

/** Runs pids[from..to) claims on the calling thread until none are left. */
export function drain(
  state: ScanState,
  pids: Int32Array,
  ctrl: Int32Array,
  opts: ProcessSourceOptions,
): void {
  for (;;) {
    const from = Atomics.add(ctrl, NEXT, CHUNK);
    if (from >= pids.length) return;
    scanProcessRange(state, pids, from, Math.min(from + CHUNK, pids.length), opts);
  }
}

/** The helper's side: join the job unless the caller already closed it. */
export function runJob(job: Job): JobResult | undefined {
  if (Atomics.compareExchange(job.ctrl, STATE, PENDING, JOINED) !== PENDING) return undefined;
  const state = newState(job.procRoot, new Set(job.types));
  if (job.ownMnt !== undefined) state.ownMnt = job.ownMnt;
  for (const p of job.nsfsPaths) {
    state.nsfs.paths.add(p);
    state.nsfs.lengths.add(p.length);
  }
  for (const [ino, type] of job.nsfsTypes) state.nsfsTypes.set(ino, type);
  try {
    drain(state, job.pids, job.ctrl, job.opts);
    return { id: job.id, part: toPartial(state) };
  } catch (err) {
    return { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The helper marks the job done after posting its result. */
export function finishJob(ctrl: Int32Array): void {
  Atomics.store(ctrl, STATE, DONE);
  Atomics.notify(ctrl, STATE);
}

/**
 * When to share: "always" creates the helper if needed and lets it join as
 * soon as it is up; "warm" uses it only if it is already up, and starts it
 * for later scans; "never" scans on the calling thread alone. A one-shot
 * command should not pay for a helper's start (~30 ms of module loading on
 * a core the scan wants); a service scanning again and again should.
 */
export type HelperMode = 'always' | 'warm' | 'never';

/**
 * Scans `pids` into `state`, sharing the work with the helper thread
 * according to `mode`.
 */
export function scanShared(
  state: ScanState,
  pids: number[],
  opts: ProcessSourceOptions,
  mode: HelperMode,
  /** Tests: wait up to this long for the helper to claim the first chunk, so that it surely takes part. */
  helperFirstMs = 0,
): void {
  const shared = new Int32Array(new SharedArrayBuffer(pids.length * 4));
  shared.set(pids);
  const ctrl = new Int32Array(new SharedArrayBuffer(8));
  let h = mode === 'never' ? undefined : getHelper();
  if (h !== undefined && mode === 'warm' && Atomics.load(h.ready, 0) !== 1) h = undefined;
  const id = ++jobs;
  lastShare = 0;
  if (h !== undefined) {
    const job: Job = {
      id,
      procRoot: state.procRoot,
      types: [...state.types],
      opts,
      pids: shared,
      ctrl,
      ...(state.ownMnt !== undefined ? { ownMnt: state.ownMnt } : {}),
      nsfsPaths: [...state.nsfs.paths],
      nsfsTypes: [...state.nsfsTypes],
    };
    h.port.postMessage(job);
  }
  if (h !== undefined && helperFirstMs > 0) {
    const until = Date.now() + helperFirstMs;
    while (Atomics.load(ctrl, NEXT) === 0 && Date.now() < until) Atomics.wait(ctrl, NEXT, 0, 1);
  }
  drain(state, shared, ctrl, opts);
  if (h === undefined) return;
  if (Atomics.compareExchange(ctrl, STATE, PENDING, CLOSED) === PENDING) return;
  const failure = collect(state, h, ctrl, id);
  if (failure === undefined) return;
  // The helper's chunks are lost: retire it and scan everything here, so
  // the result is complete, if slower.
  helperBroken = true;
  helper = undefined;
  void h.worker.terminate();
  state.namespaces.clear();
  state.processes.clear();
  state.mntOf.clear();
  state.vanished.clear();
  state.warnings.length = 0;
  state.owners = { sockets: new Map(), tuns: [] };
  // The nsfs mount points and types learnt are kept: they only widen what the fd pass looks at.
  state.mounts.clear();
  state.mountTries.clear();
  drain(state, shared, new Int32Array(new SharedArrayBuffer(8)), opts);
  state.warnings.push({ code: 'scan-helper-failed', message: `${failure}; scanned on one thread instead` });
}

/**
 * Waits for the chunks the helper claimed (bounded: a chunk is a few
 * milliseconds of procfs reads) and merges its findings; returns what went
 * wrong, if anything.
 */
function collect(state: ScanState, h: Helper, ctrl: Int32Array, id: number): string | undefined {
  const deadline = Date.now() + 10_000;
  while (Atomics.load(ctrl, STATE) === JOINED) {
    if (Date.now() > deadline) return 'the namespace scan helper thread did not finish';
    Atomics.wait(ctrl, STATE, JOINED, 100);
  }
  for (;;) {
    const msg = receiveMessageOnPort(h.port);
    if (msg === undefined) {
      if (Date.now() > deadline) return 'the namespace scan helper thread sent no result';
      Atomics.wait(ctrl, STATE, DONE, 1);
      continue;
    }
    const r = msg.message as JobResult;
    if (r.id !== id) continue; // stale answer of an earlier, closed job
    if (r.error !== undefined) return `the namespace scan helper thread failed: ${r.error}`;
    if (r.part !== undefined) {
      lastShare = r.part.processes.length;
      mergePartial(state, r.part);
    }
    return undefined;
  }
}
