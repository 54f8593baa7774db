/**
 * The discovery worker: runs the whole pipeline, renders the native view and
 * diffs against the previous result, then hands the bytes over (transferred,
 * not copied); Ghostwire v1 and mobyshark are rendered when first requested. The
 * serving thread stays free while a 500-namespace host is rediscovered.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeDiscovery, type DiscoverOptions, discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';
import { IdleCollector } from '../kernel/heap.js';
import { nameThread } from '../kernel/thread-name.js';
import type { LoadedLab } from '../lab/file/load.js';
import type { Discovery } from '../model/types.js';
import { mobyshark, toGhostwireV1 } from '../views/ghostwire-v1/index.js';
import { holderPaths } from './cache.js';
import { diffDiscoveries } from './diff.js';
import { computeDrift, loadVerifyLabs, type VerifyReport } from './drift.js';
import { PATCH_VIEW, stepView } from './increments.js';
import { type NetworkDigests, renderNative, shareUnchanged } from './native.js';
import type { LazyView } from './runner.js';

nameThread('ws-discovery');

export interface WorkerInit {
  engines: boolean;
  options: Omit<DiscoverOptions, 'containers'>;
  /** Lab files to verify after every discovery (serve --verify), already validated by the caller. */
  verify?: string[];
}
export interface WorkerRequest {
  id: number;
  /**
   * close: release everything before the thread is terminated (see WorkerRunner.close);
   * render: serialise `view` of the latest model, if it is the one started at `startedAt`.
   */
  op?: 'close' | 'render';
  view?: LazyView;
  startedAt?: string;
  /** Rediscover only what changed (RunHint); otherwise a full discovery that records for the next incremental one. */
  incremental?: boolean;
}
export type WorkerReply =
  | { event: 'engine'; id?: undefined }
  | {
      id: number;
      ok: true;
      views: Record<string, Uint8Array>;
      changes: ReturnType<typeof diffDiscoveries>;
      holders: string[];
      startedAt: string;
      missingPrivileges: Discovery['missingPrivileges'];
    }
  | { id: number; ok: false; message: string }
  /** A lazy view; null when the latest model is no longer the one asked for. */
  | { id: number; view: Uint8Array | null }
  | { id: number; closed: true };

const renderView = (view: LazyView, d: Discovery): Uint8Array =>
  enc.encode(JSON.stringify(view === 'v1' ? toGhostwireV1(d) : mobyshark(d)));

const init = workerData as WorkerInit;
const tracker = init.engines ? createEngineTracker() : undefined;
const options: DiscoverOptions = { ...init.options, ...(tracker ? { containers: tracker } : {}) };
let previous: Discovery | undefined;
let previousDigests: NetworkDigests | undefined;
// Loaded once: the service validated the files at start, so this does not fail in practice.
const labs = init.verify?.length ? loadVerifyLabs(init.verify) : undefined;
labs?.catch(() => undefined); // awaited per discovery; a failure there is reported as the drift's error
// TextEncoder gives each view its own ArrayBuffer (Buffer.from may share a pool), so it can be transferred.
const enc = new TextEncoder();

async function driftOrError(labs: Promise<LoadedLab[]>, d: Discovery): Promise<VerifyReport> {
  try {
    return await computeDrift(await labs, d);
  } catch (err) {
    const error = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    return { startedAt: d.startedAt, clean: false, labs: [], error } satisfies VerifyReport;
  }
}

// The model before the last, its renderings and the run's intermediate objects are garbage once a
// discovery is handed over; V8 would keep them resident until its next old-generation limit (heap.ts).
const collector = new IdleCollector();

parentPort?.on('message', async (req: WorkerRequest) => {
  collector.busy();
  try {
    await answer(req);
  } finally {
    collector.done();
  }
});

async function answer(req: WorkerRequest): Promise<void> {
  if (req.op === 'close') {
    // The discovery's cached sockets are plain fds of the process: a terminated thread would
    // leave them open (thousands on a big host), so they are closed here first.
    tracker?.close();
    await closeDiscovery().catch(() => undefined);
    parentPort?.postMessage({ id: req.id, closed: true } satisfies WorkerReply);
    return;
  }
  if (req.op === 'render') {
    const latest = previous;
    const view =
      req.view && latest !== undefined && latest.startedAt === req.startedAt
        ? renderView(req.view, latest)
        : null;
    parentPort?.postMessage(
      { id: req.id, view } satisfies WorkerReply,
      view ? [view.buffer as ArrayBuffer] : [],
    );
    return;
  }
  try {
    const d = await discover({ ...options, incremental: req.incremental ? 'reuse' : 'record' });
    const { text, digests } = renderNative(d);
    const native = enc.encode(text);
    // The diffs below stop at once at the network namespaces that did not change (native.ts).
    const next = shareUnchanged(previous, previousDigests, d, digests);
    const views = {
      native,
      // The patch from the previous document to this one, for the change events (increments.ts).
      [PATCH_VIEW]: enc.encode(stepView(previous, previous?.startedAt, next, native.byteLength)),
      // The drift of the declared labs, beside the model it was measured on (serve --verify).
      ...(labs ? { verify: enc.encode(JSON.stringify(await driftOrError(labs, d))) } : {}),
    };
    const reply: WorkerReply = {
      id: req.id,
      ok: true,
      views,
      changes: diffDiscoveries(previous, next),
      holders: holderPaths(d),
      startedAt: d.startedAt,
      missingPrivileges: d.missingPrivileges,
    };
    previous = d;
    previousDigests = digests;
    parentPort?.postMessage(
      reply,
      Object.values(views).map((v) => v.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort?.postMessage({
      id: req.id,
      ok: false,
      message: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err),
    } satisfies WorkerReply);
  }
}

// Engine events (containers started, renamed, relabelled; late syncs): relayed to the change watcher.
tracker?.onChange(() => parentPort?.postMessage({ event: 'engine' }));

parentPort?.on('close', () => tracker?.close());
