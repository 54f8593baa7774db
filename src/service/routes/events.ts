/**
 * `GET /api/events`: server-sent events of what changed between discoveries
 * (payloads: HelloEvent, ChangeEvent, StreamError in schema.ts). The stream
 * limits and the per-subscriber backlog are events.ts's; this file turns
 * snapshots into events.
 */
import { Hono } from 'hono';
import type { PatchOp } from '../../model/patch.js';
import { diffJson } from '../../model/patch.js';
import type { NamespaceDelta } from '../../watch/watcher.js';
import { DiscoveryCache, type Snapshot } from '../cache.js';
import type { ChangeEvent, HelloEvent, StreamError, VerifyReport } from '../contract.js';
import { isEmpty } from '../diff.js';
import { driftSummary, sameDrift } from '../drift.js';
import { DEFAULT_STREAM_LIMITS, EventHub, type StreamLimits, sseFrame } from '../events.js';
import { PATCH_VIEW, PatchChain, type StepView } from '../increments.js';
import { type Env, firstLine, type RouteDeps } from './deps.js';
import { openEventStream } from './stream.js';

/** How long a client refused by the stream limits should wait (RFC 9110 §10.2.3), seconds. */

export interface EventRoutes {
  app: Hono<Env>;
  /** The open streams (their count and limits for /healthz). */
  hub: EventHub;
}

/**
 * The step from `previous` to `snap`: the discovery worker's (made beside both
 * models; only if it was made against `previous`), else diffed here (an
 * in-process discovery, its model at hand).
 */
function stepOf(snap: Snapshot, previous: Snapshot): readonly PatchOp[] | undefined {
  const view = snap.rendered.get(PATCH_VIEW);
  if (!view) return diffJson(previous.discovery, snap.discovery);
  const step = JSON.parse(view.toString('utf8')) as StepView;
  return step.from === previous.startedAt ? step.ops : undefined;
}

export function eventRoutes(
  { cache }: RouteDeps,
  opts: { verify?: boolean | undefined; streams?: Partial<StreamLimits> | undefined },
): EventRoutes {
  const app = new Hono<Env>();

  // The drift report is small (a lab's differences): parsed once per snapshot for the event summaries.
  const reports = new WeakMap<Snapshot, VerifyReport>();
  const reportOf = (snap: Snapshot | undefined): VerifyReport | undefined => {
    if (!snap || !opts.verify) return undefined;
    let r = reports.get(snap);
    const bytes = snap.rendered.get('verify');
    if (!r && bytes) {
      r = JSON.parse(bytes.toString('utf8')) as VerifyReport;
      reports.set(snap, r);
    }
    return r;
  };

  // The patch from the last event's document to the newest (increments.ts): every discovery adds its step.
  const chain = new PatchChain();

  // Each change is encoded once, for every subscriber; the cache is listened to (and diffs are
  // computed for it) only while someone subscribes.
  // Namespaces the census saw come and go, told at once: an event of the document the client has
  // (no patch: the document did not move); the event of the discovery that shows them follows.
  const tellCensus = (step: NamespaceDelta) => {
    const snap = cache.peek();
    if (!snap) return;
    const ev: ChangeEvent = {
      generation: snap.generation,
      startedAt: snap.startedAt,
      census: true,
      changes: {
        namespaces: { added: step.added, removed: step.removed, changed: [] },
        interfaces: { added: [], removed: [], changed: [] },
        containers: { added: [], removed: [], changed: [] },
      },
    };
    hub.broadcast(sseFrame('change', JSON.stringify(ev), String(snap.generation)));
  };
  const broadcast = (snap: Snapshot, changes: ChangeEvent['changes'], previous: Snapshot | undefined) => {
    if (previous) {
      const native = DiscoveryCache.render(snap, 'native', () => snap.discovery);
      chain.extend(previous.generation, snap.generation, stepOf(snap, previous), native.length);
    } else chain.start(snap.generation);
    const report = reportOf(snap);
    // Drift can change without a model change (a lab's nft rule or sysctl): that is news too.
    const driftChanged = report !== undefined && !sameDrift(report, reportOf(previous));
    if (isEmpty(changes) && !driftChanged) return;
    const increment = chain.increment();
    const ev: ChangeEvent = {
      generation: snap.generation,
      startedAt: snap.startedAt,
      changes,
      ...(report ? { drift: driftSummary(report) } : {}),
      ...increment,
    };
    chain.start(snap.generation);
    hub.broadcast(sseFrame('change', JSON.stringify(ev), String(snap.generation)));
  };
  let unlisten: (() => void) | undefined;
  const hub = new EventHub({ ...DEFAULT_STREAM_LIMITS, ...opts.streams }, (active) => {
    unlisten?.();
    // A stream's first document is the one its hello names: the chain starts there.
    if (active) chain.start(cache.generation);
    unlisten = active ? cache.onSnapshot(broadcast, tellCensus) : undefined;
  });

  app.get('/api/events', (c) => {
    const hello: HelloEvent = { generation: cache.generation };
    return openEventStream(c, hub, hello, (stream) => {
      // A subscriber wants news: make sure a discovery exists to diff against.
      cache.get().catch((err: unknown) => {
        const failed: StreamError = { message: firstLine(err) };
        stream.send(sseFrame('error', JSON.stringify(failed)));
      });
    });
  });

  return { app, hub };
}
