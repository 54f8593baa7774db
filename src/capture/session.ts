/**
 * One capture: many interfaces of many namespaces merged into one pcapng
 * stream. The section header names the targets; interfaces are numbered
 * across all of them in the order they opened; packets follow in the order
 * the worker drained them. The stream goes to a sink whose backlog is
 * bounded: what a slow reader cannot take is dropped and counted
 * (isb_osdrop), never buffered without end.
 *
 * A capture socket holds a reference on its network namespace (sk_net), so a
 * namespace whose last process exits or whose bind mount is removed lives on
 * as long as we capture in it — its interfaces never unregister, and its
 * part of the capture would never end. So the session checks every second
 * whether something besides the capture still holds each target namespace
 * (its discovered paths, then the census of watch/nsset.ts) and closes the
 * sockets of one that nothing holds, with a comment saying why.
 */
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { stringify } from 'yaml';
import { nsfsDev } from '../kernel/nsfs.js';
import { liveNetns } from '../watch/nsset.js';
import { compileFilters } from './filter.js';
import { interfaceDescription, interfaceStatistics, nowNs, sectionHeader } from './pcapng.js';
import type { ResolvedTargets, TargetNamespace } from './targets.js';
import { CaptureError, type MainMessage, type WorkerInit, type WorkerMessage } from './types.js';

export interface CaptureSink {
  write(chunk: Buffer): void;
  /** Bytes written but not yet taken by the reader. */
  backlog(): number;
}

export interface CaptureOptions {
  filter?: string;
  promiscuous?: boolean;
  snaplen?: number;
  /** Stop after this many packets. */
  maxPackets?: number;
  /** Stop after this many seconds (counted from when the sockets are open). */
  seconds?: number;
  /** Backlog beyond which batches are dropped (bytes). */
  maxBacklog?: number;
  application?: string;
  /** How often target namespaces are checked for a holder other than the capture (ms). */
  livenessMs?: number;
  /** Called for each interface that could not be opened or went away (warnings). */
  onWarning?: (message: string) => void;
}

export interface CaptureSummary {
  interfaces: number;
  packets: number;
  kernelDrops: number;
  ownDrops: number;
}

export interface CaptureHandle {
  stop(): void;
  /**
   * Resolves once every socket is open (packets sent from then on are captured
   * on every interface), or the capture ended, with the number of interfaces open.
   */
  ready: Promise<number>;
  done: Promise<CaptureSummary>;
}

export const DEFAULT_SNAPLEN = 262144;
/** Ring memory of one capture, split over its interfaces (each 1–4 MiB): tcpdump's default is 2 MiB. */
const RING_BUDGET = 16 << 20;
const BLOCK_SIZE = 256 << 10;

export { CaptureError };

/** The section comment: what was captured, as Packetflix's YAML comment does. */
export function sectionComment(t: ResolvedTargets, o: CaptureOptions): string {
  return stringify({
    targets: t.namespaces.map((n) => ({
      name: n.name || `netns ${n.netns}`,
      netns: n.netns,
      ...(n.containers.length > 0 ? { containers: n.containers } : {}),
      interfaces: n.interfaces,
    })),
    'node-name': hostname(),
    'capture-filter': o.filter ?? '',
    promiscuous: o.promiscuous !== false,
  });
}

/** Whether one of the namespace's own paths still opens it (the cheap check before a census). */
function heldByPath(ns: TargetNamespace): boolean {
  for (const p of ns.refs) {
    try {
      const st = statSync(p);
      if (st.dev === nsfsDev() && st.ino === ns.netns) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/**
 * Starts a capture. Throws a CaptureError before anything is written when
 * the filter does not compile; interfaces that fail to open are warnings,
 * all of them failing rejects `done` with a CaptureError.
 */
export function startCapture(
  targets: ResolvedTargets,
  sink: CaptureSink,
  o: CaptureOptions = {},
): CaptureHandle {
  const snaplen = o.snaplen ?? DEFAULT_SNAPLEN;
  const filters = compileFilters(o.filter, snaplen);
  const blocks = Math.max(
    4,
    Math.min(16, Math.floor(RING_BUDGET / BLOCK_SIZE / Math.max(1, targets.interfaces.length))),
  );
  const init: WorkerInit = {
    interfaces: targets.interfaces,
    promiscuous: o.promiscuous !== false,
    snaplen,
    filters,
    blockSize: BLOCK_SIZE,
    blocks,
    // A block is handed over when full or after this long: the latency of a quiet link.
    retireMs: 20,
    maxInflight: 8 << 20,
  };
  const maxBacklog = o.maxBacklog ?? 16 << 20;
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  const send = (m: MainMessage) => {
    try {
      worker.postMessage(m);
    } catch {
      // The worker has ended.
    }
  };
  const startNs = nowNs();
  interface Opened {
    ifid: number;
    spec: number;
    ownDrops: number;
    closed: boolean;
  }
  const opened = new Map<number, Opened>();
  let delivered = 0;
  let ownDrops = 0;
  let kernelDrops = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let liveness: NodeJS.Timeout | undefined;
  let failure: string | undefined;
  let denied: string | undefined;
  let resolveDone!: (s: CaptureSummary) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<CaptureSummary>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let resolveReady!: (open: number) => void;
  const ready = new Promise<number>((res) => {
    resolveReady = res;
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    if (liveness) clearInterval(liveness);
    send({ type: 'stop' });
  };

  const closedNetns = new Set<number>();
  const checkLiveness = () => {
    const open = targets.namespaces.filter((n) => !closedNetns.has(n.netns));
    const unsure = open.filter((n) => !heldByPath(n));
    if (unsure.length === 0) return;
    const live = liveNetns(
      '/proc',
      unsure.flatMap((n) => n.refs),
    );
    for (const n of unsure) {
      if (live.has(n.netns)) continue;
      closedNetns.add(n.netns);
      send({
        type: 'close-netns',
        netns: n.netns,
        reason: `network namespace ${n.netns}${n.name ? ` (${n.name})` : ''} is gone: no process or mount holds it any more`,
      });
    }
  };

  /** The length of the first `n` Enhanced Packet Blocks of a batch, and their count per interface. */
  const cut = (buf: Buffer, n: number, ifaces: number): { bytes: number; counts: number[] } => {
    const counts = new Array<number>(ifaces).fill(0);
    let at = 0;
    for (let i = 0; i < n && at + 12 <= buf.length; i++) {
      const ifid = buf.readUInt32LE(at + 8);
      counts[ifid] = (counts[ifid] ?? 0) + 1;
      at += buf.readUInt32LE(at + 4);
    }
    return { bytes: at, counts };
  };

  worker.on('message', (m: WorkerMessage) => {
    switch (m.type) {
      case 'opened': {
        const spec = targets.interfaces[m.spec];
        if (!spec) return;
        if (opened.size === 0)
          sink.write(
            sectionHeader({
              comment: sectionComment(targets, o),
              os: 'Linux',
              application: o.application ?? 'wirescope',
            }),
          );
        opened.set(m.ifid, { ifid: m.ifid, spec: m.spec, ownDrops: 0, closed: false });
        sink.write(
          interfaceDescription({
            linktype: m.linktype,
            snaplen,
            name: spec.label,
            description: spec.description,
            filter: o.filter,
          }),
        );
        return;
      }
      case 'open-failed': {
        // No CAP_NET_RAW: every interface fails the same way; the capture says it once.
        if (m.denied) {
          denied = m.message;
          return;
        }
        const spec = targets.interfaces[m.spec];
        o.onWarning?.(`cannot capture on ${spec?.label ?? '?'}: ${m.message}`);
        failure = m.message;
        return;
      }
      case 'ready':
        resolveReady(opened.size);
        if (opened.size === 0) {
          stop();
          return;
        }
        if (denied) o.onWarning?.(denied);
        if (o.seconds !== undefined) timer = setTimeout(stop, o.seconds * 1000);
        liveness = setInterval(checkLiveness, o.livenessMs ?? 1000);
        return;
      case 'batch': {
        send({ type: 'ack', bytes: m.len });
        let buf = Buffer.from(m.buf, 0, m.len);
        let counts = m.packets;
        let n = counts.reduce((a, b) => a + b, 0);
        if (o.maxPackets !== undefined) {
          const room = o.maxPackets - delivered;
          if (room <= 0) return;
          if (n > room) {
            const c = cut(buf, room, counts.length);
            buf = buf.subarray(0, c.bytes);
            counts = c.counts;
            n = room;
          }
        }
        if (sink.backlog() > maxBacklog) {
          ownDrops += n;
          counts.forEach((c, ifid) => {
            const e = opened.get(ifid);
            if (e) e.ownDrops += c;
          });
        } else {
          sink.write(buf);
          delivered += n;
        }
        if (o.maxPackets !== undefined && delivered >= o.maxPackets) stop();
        return;
      }
      case 'gone': {
        const e = opened.get(m.ifid);
        if (!e) return;
        e.closed = true;
        kernelDrops += m.drops;
        const spec = targets.interfaces[e.spec];
        o.onWarning?.(`${spec?.label ?? '?'}: ${m.reason}`);
        sink.write(
          interfaceStatistics(m.ifid, {
            startNs,
            endNs: nowNs(),
            received: m.packets,
            kernelDrops: m.drops,
            ownDrops: e.ownDrops,
            comment: `capture ended on this interface: ${m.reason}`,
          }),
        );
        // Every part ended: so does the capture.
        if ([...opened.values()].every((x) => x.closed)) stop();
        return;
      }
      case 'stats': {
        const end = nowNs();
        for (const s of m.stats) {
          const e = opened.get(s.ifid);
          if (!e || e.closed) continue;
          kernelDrops += s.drops;
          sink.write(
            interfaceStatistics(s.ifid, {
              startNs,
              endNs: end,
              received: s.packets,
              kernelDrops: s.drops,
              ownDrops: e.ownDrops,
            }),
          );
        }
        return;
      }
      case 'fatal':
        failure = m.message;
        o.onWarning?.(`capture failed: ${m.message}`);
        stop();
        void worker.terminate();
        return;
    }
  });
  worker.on('error', (e) => {
    failure = e.message;
  });
  worker.on('exit', () => {
    // Ended before every socket was open: nothing is capturing any more.
    resolveReady(0);
    stopped = true;
    if (timer) clearTimeout(timer);
    if (liveness) clearInterval(liveness);
    if (opened.size === 0)
      rejectDone(
        new CaptureError(denied ?? `no interface could be opened: ${failure ?? 'the capture ended first'}`),
      );
    else resolveDone({ interfaces: opened.size, packets: delivered, kernelDrops, ownDrops });
  });
  return { stop, ready, done };
}
