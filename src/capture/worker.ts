/**
 * The packet-source thread: opens one AF_PACKET socket per interface inside
 * its network namespace (withNetns: enter, open, return at once — no other
 * JavaScript runs while the thread is away), then polls all rings and ships
 * Enhanced Packet Blocks to the session in batches. A dedicated thread may
 * block in poll(2); messages (ack, stop) are taken between rounds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { POLLERR, POLLHUP, POLLIN, poll, SyscallError } from '../kernel/libc.js';
import { NetnsRestoreError, withNetns } from '../kernel/netns.js';
import {
  CaptureDeniedError,
  closePacketSocket,
  drain,
  interfaceGone,
  openPacketSocket,
  type PacketSocket,
  packetStats,
  socketError,
} from '../kernel/packet.js';
import { epbSize, writeEpb } from './pcapng.js';
import type { MainMessage, WorkerInit, WorkerMessage } from './types.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('capture worker started outside a worker thread');
const post = (m: WorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

interface Open {
  ifid: number;
  netns: number;
  sock: PacketSocket;
  packets: number;
  drops: number;
}

const open: Open[] = [];
const filters = init.filters
  ? { ethernet: Buffer.from(init.filters.ethernet), raw: Buffer.from(init.filters.raw) }
  : undefined;

for (const [i, spec] of init.interfaces.entries()) {
  let lastErr: unknown;
  let sock: PacketSocket | undefined;
  for (const ref of spec.refs) {
    try {
      sock = withNetns(
        ref,
        () =>
          openPacketSocket({
            ifindex: spec.ifindex,
            ifname: spec.ifname,
            promiscuous: init.promiscuous,
            filters,
            blockSize: init.blockSize,
            blocks: init.blocks,
            retireMs: init.retireMs,
          }),
        spec.netns,
      );
      break;
    } catch (e) {
      // Stuck in a foreign namespace: nothing more may be opened from this thread. End it; the
      // session reports the fatal error (and, with no socket open, fails the capture).
      if (e instanceof NetnsRestoreError) {
        for (const o of open) closePacketSocket(o.sock);
        post({ type: 'fatal', message: e.message });
        process.exit(1);
      }
      lastErr = e;
      if (!(e instanceof SyscallError && e.vanished)) break;
    }
  }
  if (!sock) {
    let message = lastErr instanceof Error ? lastErr.message : String(lastErr);
    // withNetns failing with EPERM is setns(2), which asks for CAP_SYS_ADMIN; the packet socket's own
    // refusal (CAP_NET_RAW) comes as CaptureDeniedError.
    if (lastErr instanceof SyscallError && lastErr.denied && lastErr.call === 'setns')
      message = `entering network namespace ${spec.netns} needs CAP_SYS_ADMIN: ${message}`;
    post({ type: 'open-failed', spec: i, message, denied: lastErr instanceof CaptureDeniedError });
    continue;
  }
  const ifid = open.length;
  open.push({ ifid, netns: spec.netns, sock, packets: 0, drops: 0 });
  post({ type: 'opened', ifid, spec: i, linktype: sock.linktype });
}
post({ type: 'ready' });

const BATCH = 1 << 20;
// One batch buffer for the thread's life: each flush copies what it holds into the transferred message.
const out = Buffer.allocUnsafe(BATCH);
let used = 0;
let counts: number[] = open.map(() => 0);
let inflight = 0;
let stopAt: number | undefined;

function flush(): void {
  if (used === 0) return;
  const ab = out.buffer.slice(out.byteOffset, out.byteOffset + used) as ArrayBuffer;
  inflight += used;
  post({ type: 'batch', buf: ab, len: used, packets: counts }, [ab]);
  used = 0;
  counts = open.map(() => 0);
}

let current = 0;
const sink = (
  ring: Uint8Array,
  start: number,
  snaplen: number,
  len: number,
  sec: number,
  nsec: number,
  insert: Uint8Array | undefined,
  insertAt: number,
) => {
  const cap = Math.min(snaplen, init.snaplen);
  const need = epbSize(cap + (insert ? insert.length : 0));
  if (used + need > out.length) flush();
  used = writeEpb(out, used, current, sec, nsec, ring, start, cap, len, insert, insertAt);
  counts[current] = (counts[current] ?? 0) + 1;
};

port.on('message', (m: MainMessage) => {
  if (m.type === 'ack') inflight -= m.bytes;
  // The block the kernel is filling is handed over only when its retire timer fires
  // (retire_blk_tov): packets of the last moments are there, so the rings are read for two
  // more timer periods before the end.
  else if (m.type === 'stop' && stopAt === undefined) stopAt = Date.now() + 2 * init.retireMs + 10;
  else if (m.type === 'close-netns') closing.set(m.netns, m.reason);
});

const live = new Set(open);
const pollfds = Buffer.alloc(8 * Math.max(open.length, 1));
/** Namespaces the session found dead (no holder but these sockets), with the reason to record. */
const closing = new Map<number, string>();

function collectStats(o: Open): void {
  try {
    const s = packetStats(o.sock);
    o.packets += s.packets;
    o.drops += s.drops;
  } catch {
    // The socket is being closed; its last counts were taken before.
  }
}

function drainOne(o: Open, maxBlocks?: number): void {
  current = o.ifid;
  drain(o.sock, sink, maxBlocks);
}

/** Ends one interface's part of the capture: what its ring still holds, its counts, then the socket. */
function retire(o: Open, reason: string): void {
  drainOne(o);
  flush();
  collectStats(o);
  closePacketSocket(o.sock);
  live.delete(o);
  post({ type: 'gone', ifid: o.ifid, reason, packets: o.packets, drops: o.drops });
}

function finish(): void {
  for (const o of live) {
    drainOne(o);
    collectStats(o);
  }
  flush();
  post({ type: 'stats', stats: open.map((o) => ({ ifid: o.ifid, packets: o.packets, drops: o.drops })) });
  for (const o of live) closePacketSocket(o.sock);
  port?.close();
}

function round(): void {
  for (const [netns, reason] of closing) {
    for (const o of [...live]) if (o.netns === netns) retire(o, reason);
    closing.delete(netns);
  }
  if ((stopAt !== undefined && Date.now() >= stopAt) || live.size === 0) {
    finish();
    return;
  }
  // Flow control: while the session has not taken what was sent, leave packets in the rings
  // (when the rings fill the kernel drops and counts them — reported as isb_ifdrop).
  if (inflight < init.maxInflight) {
    const list = [...live];
    list.forEach((o, i) => {
      pollfds.writeInt32LE(o.sock.fd, i * 8);
      pollfds.writeInt16LE(POLLIN, i * 8 + 4);
      pollfds.writeInt16LE(0, i * 8 + 6);
    });
    // A short timeout: ack and stop messages are only read between rounds.
    poll(pollfds, list.length, 50);
    for (const [i, o] of list.entries()) {
      drainOne(o, 4);
      const rev = pollfds.readInt16LE(i * 8 + 6);
      if (rev & (POLLERR | POLLHUP) && socketError(o.sock) !== 0 && interfaceGone(o.sock))
        retire(o, `interface ${o.sock.ifname} went away`);
    }
    flush();
  }
  setTimeout(safeRound, inflight < init.maxInflight ? 0 : 5);
}

function safeRound(): void {
  try {
    round();
  } catch (e) {
    post({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
    port?.close();
  }
}

safeRound();
