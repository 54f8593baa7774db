/**
 * A lean netlink connection for bulk dumps: one receive buffer per thread (not
 * per socket — a thousand cached sockets must not pin a thousand buffers), and
 * replies handed to a callback straight from that buffer, so nothing is copied
 * before it is decoded. The socket stays bound to the network namespace it was
 * created in, so dumps need no setns once it exists.
 */

import {
  bind,
  close,
  EAGAIN,
  recv,
  SyscallError,
  send,
  setsockoptBuf,
  setsockoptInt,
  socket,
} from '../kernel/libc.js';
import {
  buildMessage,
  NetlinkError,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  parseError,
} from '../kernel/netlink.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;
/** NETLINK_CAP_ACK: error replies do not echo the request payload. */
const NETLINK_CAP_ACK = 10;

/**
 * Receive buffer shared by every connection of this thread. The kernel fills a
 * dump datagram up to max(PAGE_SIZE, min(rcvbuf, 32 KiB)) (netlink_dump), so
 * 64 KiB always holds one.
 */
const rbuf = Buffer.allocUnsafe(64 * 1024);
let seqCounter = (Date.now() & 0xffff) << 12;

export interface DumpStatus {
  /** NLM_F_DUMP_INTR: the kernel's tables changed during the dump. */
  interrupted: boolean;
  /** A datagram ended in the middle of a message. */
  truncated: boolean;
}

export class NlConn {
  readonly fd: number;
  private closed = false;

  /** Opens a socket in the calling thread's current network namespace. */
  constructor(
    readonly protocol: number,
    timeoutMs = 5000,
  ) {
    this.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    try {
      const tv = Buffer.alloc(16);
      tv.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
      tv.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
      setsockoptBuf(this.fd, SOL_SOCKET, SO_RCVTIMEO, tv);
      try {
        setsockoptInt(this.fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
        setsockoptInt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      } catch {
        // Optional niceties (Linux >= 4.3 / 4.12).
      }
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(AF_NETLINK, 0);
      bind(this.fd, sa);
    } catch (e) {
      close(this.fd);
      throw e;
    }
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      close(this.fd);
    }
  }

  /**
   * Sends a dump request and calls `onMessage(type, payload)` for every reply
   * until NLMSG_DONE. The payload is a view into the shared receive buffer:
   * valid only during the callback.
   */
  dump(
    type: number,
    payload: Buffer,
    onMessage: (type: number, data: Buffer) => void,
    name: string,
  ): DumpStatus {
    const seq = seqCounter++ >>> 0;
    send(this.fd, buildMessage(type, NLM_F_REQUEST | NLM_F_DUMP, seq, payload));
    const status: DumpStatus = { interrupted: false, truncated: false };
    for (;;) {
      const n = this.recv(name);
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = rbuf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) {
          status.truncated = true;
          break;
        }
        const mtype = rbuf.readUInt16LE(off + 4);
        const flags = rbuf.readUInt16LE(off + 6);
        const mseq = rbuf.readUInt32LE(off + 8);
        const data = rbuf.subarray(off + NLMSG_HDRLEN, off + len);
        off += (len + 3) & ~3;
        if (mseq !== seq) continue; // a late reply to an earlier, abandoned request
        if (flags & NLM_F_DUMP_INTR) status.interrupted = true;
        if (mtype === NLMSG_DONE) return status;
        if (mtype === NLMSG_ERROR) {
          const e = parseError(data);
          if (e.errno === 0) return status;
          throw new NetlinkError(e.errno, name, e.extAck);
        }
        if (mtype === NLMSG_NOOP) continue;
        onMessage(mtype, data);
      }
    }
  }

  /** Sends a request with NLM_F_ACK; returns copies of the replies before the ACK. */
  request(type: number, payload: Buffer, name: string): { type: number; data: Buffer }[] {
    const seq = seqCounter++ >>> 0;
    send(this.fd, buildMessage(type, NLM_F_REQUEST | NLM_F_ACK, seq, payload));
    const out: { type: number; data: Buffer }[] = [];
    for (;;) {
      const n = this.recv(name);
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = rbuf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        const mtype = rbuf.readUInt16LE(off + 4);
        const mseq = rbuf.readUInt32LE(off + 8);
        const data = rbuf.subarray(off + NLMSG_HDRLEN, off + len);
        off += (len + 3) & ~3;
        if (mseq !== seq) continue;
        if (mtype === NLMSG_ERROR) {
          const e = parseError(data);
          if (e.errno === 0) return out;
          throw new NetlinkError(e.errno, name, e.extAck);
        }
        if (mtype === NLMSG_DONE) return out;
        out.push({ type: mtype, data: Buffer.from(data) });
      }
    }
  }

  private recv(name: string): number {
    try {
      return recv(this.fd, rbuf);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === EAGAIN) {
        throw new SyscallError('recv', e.errno, `${name}: no reply from the kernel within the timeout`);
      }
      throw e;
    }
  }
}
