/**
 * One capture: many interfaces of many namespaces merged into one pcapng
 * stream. The section header names the targets; interfaces are numbered
 * across all of them in the order they opened; packets follow in the order
 * the worker drained them. The stream goes to a sink whose backlog is
 * bounded: what a slow reader cannot take is dropped and counted
 * (isb_osdrop), never buffered without end.
 */
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { stringify } from 'yaml';
import { compileFilters } from './filter.js';
import { interfaceDescription, interfaceStatistics, nowNs, sectionHeader } from './pcapng.js';
import type { ResolvedTargets } from './targets.js';
import type { MainMessage, WorkerInit, WorkerMessage } from './types.js';

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
  /** Stop after this many seconds. */
  seconds?: number;
  /** Backlog beyond which batches are dropped (bytes). */
  maxBacklog?: number;
  /** Ring per interface: block size and count. */
  blockSize?: number;
  blocks?: number;
  application?: string;
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
  done: Promise<CaptureSummary>;
}

export const DEFAULT_SNAPLEN = 262144;

/** The section comment: what was captured, as Packetflix's YAML comment does. */
export function sectionComment(t: ResolvedTargets, o: CaptureOptions): string {
  return stringify({
    targets: t.namespaces.map((n) => ({ name: n.name || `netns ${n.netns}`, netns: n.netns, interfaces: n.interfaces })),
    'node-name': hostname(),
    'capture-filter': o.filter ?? '',
    promiscuous: o.promiscuous !== false,
    engine: o.application ?? 'wirescope',
  });
}

/**
 * Starts a capture. Throws before anything is written when the filter does
 * not compile; interfaces that fail to open are warnings, all of them failing
 * is an error (the promise rejects).
 */
export function startCapture(targets: ResolvedTargets, sink: CaptureSink, o: CaptureOptions = {}): CaptureHandle {
  const snaplen = o.snaplen ?? DEFAULT_SNAPLEN;
  const filters = compileFilters(o.filter, snaplen);
  const init: WorkerInit = {
    interfaces: targets.interfaces,
    promiscuous: o.promiscuous !== false,
    snaplen,
    filters,
    blockSize: o.blockSize ?? 1 << 20,
    blocks: o.blocks ?? 4,
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
  const opened: { ifid: number; spec: number; ownDrops: number; delivered: number; closed: boolean }[] = [];
  let delivered = 0;
  let ownDrops = 0;
  let kernelDrops = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: (s: CaptureSummary) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<CaptureSummary>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    send({ type: 'stop' });
  };
  let failure: string | undefined;

  worker.on('message', (m: WorkerMessage) => {
    switch (m.type) {
      case 'opened': {
        const spec = targets.interfaces[m.spec];
        if (!spec) return;
        opened.push({ ifid: m.ifid, spec: m.spec, ownDrops: 0, delivered: 0, closed: false });
        if (opened.length === 1)
          sink.write(
            sectionHeader({
              comment: sectionComment(targets, o),
              os: 'Linux',
              application: o.application ?? 'wirescope',
            }),
          );
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
        const spec = targets.interfaces[m.spec];
        o.onWarning?.(`cannot capture on ${spec?.label ?? '?'}: ${m.message}`);
        failure = m.message;
        return;
      }
      case 'ready':
        if (opened.length === 0) {
          failure = `no interface could be opened: ${failure ?? 'unknown error'}`;
          stop();
        } else if (o.seconds !== undefined) timer = setTimeout(stop, o.seconds * 1000);
        return;
      case 'batch': {
        send({ type: 'ack', bytes: m.len });
        if (stopped && o.maxPackets !== undefined && delivered >= o.maxPackets) return;
        let buf = Buffer.from(m.buf, 0, m.len);
        let counts = m.packets;
        if (o.maxPackets !== undefined && delivered + counts.reduce((a, b) => a + b, 0) > o.maxPackets) {
          // Cut the batch at the packet that reaches the limit: walk the blocks' total lengths.
          let at = 0;
          counts = counts.map(() => 0);
          while (delivered + counts.reduce((a, b) => a + b, 0) < o.maxPackets) {
            const ifid = buf.readUInt32LE(at + 8);
            counts[ifid] = (counts[ifid] ?? 0) + 1;
            at += buf.readUInt32LE(at + 4);
          }
          buf = buf.subarray(0, at);
        }
        const n = counts.reduce((a, b) => a + b, 0);
        if (sink.backlog() > maxBacklog) {
          ownDrops += n;
          counts.forEach((c, ifid) => {
            const e = opened.find((x) => x.ifid === ifid);
            if (e) e.ownDrops += c;
          });
        } else {
          sink.write(buf);
          delivered += n;
          counts.forEach((c, ifid) => {
            const e = opened.find((x) => x.ifid === ifid);
            if (e) e.delivered += c;
          });
        }
        if (o.maxPackets !== undefined && delivered >= o.maxPackets) stop();
        return;
      }
      case 'gone': {
        const e = opened.find((x) => x.ifid === m.ifid);
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
        return;
      }
      case 'stats': {
        const end = nowNs();
        for (const s of m.stats) {
          const e = opened.find((x) => x.ifid === s.ifid);
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
    if (timer) clearTimeout(timer);
    stopped = true;
    if (opened.length === 0 || (failure !== undefined && delivered === 0 && opened.length === 0))
      rejectDone(new Error(failure ?? 'capture ended before any interface opened'));
    else resolveDone({ interfaces: opened.length, packets: delivered, kernelDrops, ownDrops });
  });
  return { stop, done };
}
