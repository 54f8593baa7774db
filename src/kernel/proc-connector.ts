/**
 * The netlink process connector (include/uapi/linux/connector.h,
 * include/uapi/linux/cn_proc.h; drivers/connector/cn_proc.c): a NETLINK_CONNECTOR
 * socket bound to the CN_IDX_PROC group that asked PROC_CN_MCAST_LISTEN gets one
 * message per fork, exec and exit of every task on the host.
 *
 * What the kernel allows (cn_proc_mcast_ctl): the listen request needs
 * CAP_NET_ADMIN (answered by an ack with EPERM otherwise), and is silently
 * ignored — no ack at all — from outside the initial user and PID namespaces;
 * events name tasks by their PIDs in the initial PID namespace. The connector
 * exists only in the initial network namespace (socket() fails elsewhere).
 * Events are multicast: a slow reader loses them (recv says ENOBUFS).
 *
 * Pure parsers first (tested on recorded bytes), then the socket.
 */
import { POLLIN, poll, SyscallError, send, setsockoptInt } from './libc.js';
import { buildMessage, NetlinkSocket, NLMSG_DONE, SOL_SOCKET } from './netlink.js';

export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;
/** struct cn_msg: cb_id {idx, val}, seq, ack, len (u16), flags (u16). */
export const CN_MSG_LEN = 20;
/** struct proc_event up to the event_data union: what, cpu, timestamp_ns. */
const PROC_EVENT_HDR = 16;

export const PROC_EVENT_NONE = 0;
export const PROC_EVENT_FORK = 0x1;
export const PROC_EVENT_EXEC = 0x2;
export const PROC_EVENT_EXIT = 0x80000000;

/** One process event, as much of it as the watcher needs (thread ids beside process ids). */
export type ProcEvent =
  | { what: 'fork'; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { what: 'exec'; pid: number; tgid: number }
  | { what: 'exit'; pid: number; tgid: number }
  /** The answer to a listen or ignore request: `ack` is the request's ack + 1, `err` an errno (0 ok). */
  | { what: 'ack'; err: number; ack: number }
  /** uid, gid, sid, ptrace, comm, coredump and kinds this parser does not know. */
  | { what: 'other'; code: number };

/** Thrown for a connector message too short for what it says it is. */
export class ProcEventError extends Error {}

/**
 * Decodes the payload of one netlink message from the connector (after the
 * 16-byte nlmsghdr): a cn_msg whose data is a struct proc_event. Messages of
 * another connector (cb_id other than CN_IDX_PROC/CN_VAL_PROC) are `undefined`.
 * Pure.
 */
export function parseProcEvent(payload: Buffer): ProcEvent | undefined {
  if (payload.length < CN_MSG_LEN) throw new ProcEventError(`cn_msg of ${payload.length} bytes`);
  const idx = payload.readUInt32LE(0);
  const val = payload.readUInt32LE(4);
  if (idx !== CN_IDX_PROC || val !== CN_VAL_PROC) return undefined;
  const ack = payload.readUInt32LE(12);
  const len = payload.readUInt16LE(16);
  if (CN_MSG_LEN + len > payload.length)
    throw new ProcEventError(`cn_msg says ${len} data bytes, ${payload.length - CN_MSG_LEN} present`);
  const ev = payload.subarray(CN_MSG_LEN, CN_MSG_LEN + len);
  if (ev.length < PROC_EVENT_HDR) throw new ProcEventError(`proc_event of ${ev.length} bytes`);
  const what = ev.readUInt32LE(0);
  const need = (n: number) => {
    if (ev.length < PROC_EVENT_HDR + n)
      throw new ProcEventError(`proc_event 0x${what.toString(16)} of ${ev.length} bytes`);
  };
  const at = (i: number) => ev.readUInt32LE(PROC_EVENT_HDR + 4 * i);
  switch (what) {
    case PROC_EVENT_NONE:
      need(4);
      return { what: 'ack', err: at(0), ack };
    case PROC_EVENT_FORK:
      need(16);
      return { what: 'fork', parentPid: at(0), parentTgid: at(1), childPid: at(2), childTgid: at(3) };
    case PROC_EVENT_EXEC:
      need(8);
      return { what: 'exec', pid: at(0), tgid: at(1) };
    case PROC_EVENT_EXIT:
      need(8);
      return { what: 'exit', pid: at(0), tgid: at(1) };
    default:
      return { what: 'other', code: what };
  }
}

/** The payload (cn_msg + op) of a PROC_CN_MCAST_LISTEN or _IGNORE request. Pure. */
export function buildMcastOp(op: number, seq: number, ack: number): Buffer {
  const b = Buffer.alloc(CN_MSG_LEN + 4);
  b.writeUInt32LE(CN_IDX_PROC, 0);
  b.writeUInt32LE(CN_VAL_PROC, 4);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(ack >>> 0, 12);
  b.writeUInt16LE(4, 16);
  b.writeUInt32LE(op, CN_MSG_LEN);
  return b;
}

const SO_RCVBUFFORCE = 33;
/** The receive queue asked for: a fork storm is thousands of events a second. */
const CONNECTOR_RCVBUF = 8 << 20;

/**
 * A listening process connector socket, non-blocking reads. `open()` waits
 * up to `ackTimeoutMs` for the kernel's ack and throws a SyscallError
 * (EPERM without CAP_NET_ADMIN, ETIMEDOUT when the kernel ignored the request
 * because this process is not in the initial PID and user namespaces,
 * EPROTONOSUPPORT outside the initial network namespace).
 */
export class ProcConnector {
  private constructor(private readonly sock: NetlinkSocket) {}

  get fd(): number {
    return this.sock.fd;
  }

  static open(ackTimeoutMs = 1000): ProcConnector {
    const sock = new NetlinkSocket(NETLINK_CONNECTOR, { groups: CN_IDX_PROC });
    try {
      try {
        setsockoptInt(sock.fd, SOL_SOCKET, SO_RCVBUFFORCE, CONNECTOR_RCVBUF);
      } catch {
        // Without CAP_NET_ADMIN: rmem_max bounds the queue (the listen request fails anyway).
      }
      const c = new ProcConnector(sock);
      const ack = (Math.random() * 0x7fffffff) | 0;
      c.send(PROC_CN_MCAST_LISTEN, ack);
      const deadline = performance.now() + ackTimeoutMs;
      const pfd = Buffer.alloc(8);
      for (;;) {
        let answer: number | undefined;
        c.drain((e) => {
          if (e.what === 'ack' && e.ack === (ack + 1) >>> 0) answer = e.err;
        });
        if (answer !== undefined) {
          if (answer !== 0) throw new SyscallError('PROC_CN_MCAST_LISTEN', answer);
          return c;
        }
        const left = deadline - performance.now();
        if (left <= 0)
          throw new SyscallError(
            'PROC_CN_MCAST_LISTEN',
            110, // ETIMEDOUT
            'no ack from the process connector (not in the initial PID and user namespaces?)',
          );
        pfd.writeInt32LE(sock.fd, 0);
        pfd.writeInt16LE(POLLIN, 4);
        poll(pfd, 1, Math.ceil(left));
      }
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  private send(op: number, ack: number): void {
    // cn_netlink_send's framing: the connector ignores the header's type; NLMSG_DONE as the kernel sends.
    send(this.sock.fd, buildMessage(NLMSG_DONE, 0, 0, buildMcastOp(op, 0, ack)));
  }

  /**
   * Reads every queued event without blocking. Returns whether events were
   * lost (ENOBUFS: the queue overflowed since the last read), in which case the
   * caller knows only that something happened.
   */
  drain(onEvent: (e: ProcEvent) => void): { overflow: boolean } {
    return this.sock.drainData((_type, data) => {
      let e: ProcEvent | undefined;
      try {
        e = parseProcEvent(data);
      } catch {
        return; // a malformed message: nothing to learn from it
      }
      if (e) onEvent(e);
    });
  }

  close(): void {
    try {
      this.send(PROC_CN_MCAST_IGNORE, 0);
    } catch {
      // closing anyway; the kernel counts listeners per request, not per socket
    }
    this.sock.close();
  }
}
