/**
 * Netlink sockets and message framing (RFC 3549; include/uapi/linux/netlink.h).
 *
 * Pure codec functions (header/attribute parsing and building) plus a small
 * synchronous socket wrapper driven through koffi. Dumps are synchronous:
 * the kernel answers a dump request from its own state without waiting on
 * anything, so a blocking recv() returns promptly; SO_RCVTIMEO bounds it anyway.
 * One socket carries one dump at a time: parallel dumps need separate sockets.
 */
import koffi from 'koffi';
import {
  bind,
  close,
  EAGAIN,
  EINTR,
  ENOBUFS,
  errno,
  recv,
  SyscallError,
  send,
  setsockoptBuf,
  setsockoptInt,
  socket,
} from './libc.js';

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_NETFILTER = 12;

export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVTIMEO = 20;
export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_DUMP_INTR = 0x10;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const align4 = (n: number): number => (n + 3) & ~3;

/** One netlink message: header fields and the payload after the 16-byte header. */
export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Payload (family header + attributes); a view into the receive buffer copy. */
  data: Buffer;
}

/** Splits a datagram into netlink messages; stops at a truncated header (never throws). */
export function parseMessages(buf: Buffer): { messages: NlMsg[]; truncated: boolean } {
  const messages: NlMsg[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) return { messages, truncated: true };
    messages.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      data: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return { messages, truncated: off < buf.length && buf.length - off >= NLMSG_HDRLEN };
}

/**
 * Attributes (struct nlattr) found in `buf` from `offset`, keyed by type
 * (flags masked off). A later duplicate wins, as in the kernel's nla_parse.
 * A truncated attribute ends parsing; `truncated` tells the caller.
 */
export interface Attrs {
  map: Map<number, Buffer>;
  truncated: boolean;
}

export function parseAttrs(buf: Buffer, offset = 0): Attrs {
  const map = new Map<number, Buffer>();
  let off = offset;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) return { map, truncated: true };
    map.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return { map, truncated: false };
}

/** Attributes as an ordered list, for attributes that repeat (e.g. IFLA_PROP_LIST altnames). */
export function parseAttrList(buf: Buffer, offset = 0): { type: number; value: Buffer }[] {
  const out: { type: number; value: Buffer }[] = [];
  let off = offset;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 2) & NLA_TYPE_MASK,
      value: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

// Attribute value decoders (netlink attributes are host byte order = LE on x86_64).
export const u8 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 1 ? b.readUInt8(0) : undefined;
export const u16 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 2 ? b.readUInt16LE(0) : undefined;
export const u16be = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 2 ? b.readUInt16BE(0) : undefined;
export const u32 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readUInt32LE(0) : undefined;
export const u32be = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readUInt32BE(0) : undefined;
export const s32 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readInt32LE(0) : undefined;
export const u64 = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 8 ? Number(b.readBigUInt64LE(0)) : undefined;
/** NUL-terminated string attribute. */
export const str = (b: Buffer | undefined): string | undefined => {
  if (!b) return undefined;
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
};

/** Builds attributes for requests. */
export class AttrBuilder {
  private parts: Buffer[] = [];

  private push(type: number, value: Buffer): this {
    const len = NLA_HDRLEN + value.length;
    const b = Buffer.alloc(align4(len));
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
    value.copy(b, NLA_HDRLEN);
    this.parts.push(b);
    return this;
  }
  raw(type: number, value: Buffer): this {
    return this.push(type, value);
  }
  u8(type: number, v: number): this {
    return this.push(type, Buffer.from([v & 0xff]));
  }
  u16(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v, 0);
    return this.push(type, b);
  }
  u16be(type: number, v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v, 0);
    return this.push(type, b);
  }
  u32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0, 0);
    return this.push(type, b);
  }
  u32be(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0, 0);
    return this.push(type, b);
  }
  s32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    return this.push(type, b);
  }
  str(type: number, v: string): this {
    return this.push(type, Buffer.concat([Buffer.from(v, 'utf8'), Buffer.from([0])]));
  }
  flag(type: number): this {
    return this.push(type, Buffer.alloc(0));
  }
  nested(type: number, inner: AttrBuilder): this {
    return this.push(type | NLA_F_NESTED, inner.build());
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Frames one request message. */
export function buildMessage(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const len = NLMSG_HDRLEN + payload.length;
  const b = Buffer.alloc(align4(len));
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(0, 12);
  payload.copy(b, NLMSG_HDRLEN);
  return b;
}

/** Error from an NLMSG_ERROR reply (errno is positive here). */
export class NetlinkError extends Error {
  constructor(
    readonly errno: number,
    readonly request: string,
    readonly extAck?: string,
  ) {
    super(
      `netlink ${request}: ${new SyscallError('netlink', errno).message.replace(/^netlink: /, '')}${extAck ? ` (${extAck})` : ''}`,
    );
    this.name = 'NetlinkError';
  }
}

const NLMSGERR_ATTR_MSG = 1;

/** Decodes an NLMSG_ERROR payload: errno (0 = ACK) and the extended-ack text if any. */
export function parseError(data: Buffer): { errno: number; extAck?: string } {
  const err = data.length >= 4 ? -data.readInt32LE(0) : 0;
  let extAck: string | undefined;
  // struct nlmsgerr = error (4) + the original nlmsghdr (16) [+ payload unless capped]; TLVs follow.
  if (data.length > 20) {
    const origLen = data.readUInt32LE(4);
    for (const start of [20, 4 + align4(origLen)]) {
      if (start >= data.length) continue;
      const a = parseAttrs(data, start);
      const m = str(a.map.get(NLMSGERR_ATTR_MSG));
      if (!a.truncated && m) {
        extAck = m;
        break;
      }
    }
  }
  return extAck !== undefined ? { errno: err, extAck } : { errno: err };
}

let nextSeq = (Date.now() & 0xffff) << 8;

/**
 * One receive buffer per thread (module state is per worker thread), shared by
 * every socket of that thread: wirescope caches sockets for a thousand
 * namespaces, which must not pin a thousand buffers. The kernel fills a dump
 * datagram up to max(PAGE_SIZE, min(rcvbuf, 32 KiB)) (netlink_dump), so
 * 64 KiB always holds one. Replies are decoded or copied before the next recv.
 */
const rbuf = Buffer.allocUnsafe(64 * 1024);

/**
 * recv(2) reporting failure by return value: polling an idle multicast socket ends in EAGAIN
 * every time, and a thrown SyscallError (stack trace, strerror) per poll is not free.
 */
const recvRaw = koffi.load('libc.so.6').func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)');
const MSG_DONTWAIT = 0x40;

/** NETLINK_CAP_ACK: error replies do not echo the request payload. */
const NETLINK_CAP_ACK = 10;

export interface DumpStatus {
  /** NLM_F_DUMP_INTR: the kernel's tables changed during the dump (the caller may retry). */
  interrupted: boolean;
  /** A datagram ended in the middle of a message. */
  truncated: boolean;
}

/** A synchronous netlink socket, bound to whatever network namespace it was created in. */
export class NetlinkSocket {
  readonly fd: number;
  private closed = false;

  /** Creates a socket in the calling thread's current network namespace. */
  constructor(
    readonly protocol: number,
    opts: { groups?: number; rcvbuf?: number; timeoutMs?: number } = {},
  ) {
    this.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    try {
      const tv = Buffer.alloc(16);
      const ms = opts.timeoutMs ?? 5000;
      tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
      tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
      setsockoptBuf(this.fd, SOL_SOCKET, SO_RCVTIMEO, tv);
      if (opts.rcvbuf) setsockoptInt(this.fd, SOL_SOCKET, SO_RCVBUF, opts.rcvbuf);
      try {
        setsockoptInt(this.fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
        setsockoptInt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      } catch {
        // Niceties (Linux >= 4.3 / 4.12); errors still arrive without them.
      }
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(AF_NETLINK, 0);
      sa.writeUInt32LE(opts.groups ?? 0, 8);
      bind(this.fd, sa);
    } catch (e) {
      close(this.fd);
      throw e;
    }
  }

  /** Joins a multicast group by number (for groups > 32, which the bind mask cannot express). */
  addMembership(group: number): void {
    setsockoptInt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      close(this.fd);
    }
  }

  /**
   * Sends a dump request and calls `onMessage(type, payload)` for every reply
   * until NLMSG_DONE. The payload is a view into the thread's shared receive
   * buffer, valid only during the callback: decode it there, nothing is copied.
   */
  dumpEach(
    type: number,
    payload: Buffer,
    onMessage: (type: number, data: Buffer) => void,
    name = `type ${type}`,
  ): DumpStatus {
    const seq = nextSeq++ >>> 0;
    send(this.fd, buildMessage(type, NLM_F_REQUEST | NLM_F_DUMP, seq, payload));
    const status: DumpStatus = { interrupted: false, truncated: false };
    for (;;) {
      const n = this.recvOnce(name);
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
        off += align4(len);
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

  /** Like dumpEach, but collects copies of the replies (with their header fields). */
  dump(type: number, payload: Buffer, name = `type ${type}`): { messages: NlMsg[] } & DumpStatus {
    const messages: NlMsg[] = [];
    const status = this.dumpEach(
      type,
      payload,
      (mtype, data) => {
        // Header fields other than the type are not needed by callers of a dump.
        messages.push({ type: mtype, flags: 0, seq: 0, pid: 0, data: Buffer.from(data) });
      },
      name,
    );
    return { messages, ...status };
  }

  /**
   * Sends a request with NLM_F_ACK and returns the replies before the ACK
   * (e.g. the answer to RTM_GETNSID). Throws NetlinkError on a negative ACK.
   */
  request(type: number, flags: number, payload: Buffer, name = `type ${type}`): NlMsg[] {
    const seq = nextSeq++ >>> 0;
    send(this.fd, buildMessage(type, NLM_F_REQUEST | NLM_F_ACK | flags, seq, payload));
    const out: NlMsg[] = [];
    for (;;) {
      const n = this.recvOnce(name);
      for (const m of parseMessages(rbuf.subarray(0, n)).messages) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_ERROR) {
          const e = parseError(m.data);
          if (e.errno === 0) return out;
          throw new NetlinkError(e.errno, name, e.extAck);
        }
        if (m.type === NLMSG_DONE) return out;
        out.push({ ...m, data: Buffer.from(m.data) });
      }
    }
  }

  /** Non-blocking read of pending multicast messages (returns [] when none). */
  drain(): NlMsg[] {
    const out: NlMsg[] = [];
    const MSG_DONTWAIT = 0x40;
    for (;;) {
      let n: number;
      try {
        n = recv(this.fd, rbuf, MSG_DONTWAIT);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === EAGAIN) return out;
        throw e;
      }
      for (const m of parseMessages(rbuf.subarray(0, n)).messages)
        out.push({ ...m, data: Buffer.from(m.data) });
    }
  }

  /**
   * Non-blocking read of pending multicast messages, passing each message type to `onType`.
   * Returns whether the kernel reported ENOBUFS: notifications were dropped because the
   * receive queue was full (netlink_overrun), so what changed is no longer known.
   */
  drainTypes(onType: (type: number) => void): { overflow: boolean } {
    let overflow = false;
    for (;;) {
      const n = Number(recvRaw(this.fd, rbuf, rbuf.length, MSG_DONTWAIT));
      if (n < 0) {
        const e = errno();
        if (e === EAGAIN) return { overflow };
        if (e === ENOBUFS) overflow = true;
        else if (e !== EINTR) throw new SyscallError('recv', e);
        continue;
      }
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = rbuf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        onType(rbuf.readUInt16LE(off + 4));
        off += align4(len);
      }
    }
  }

  private recvOnce(name: string): number {
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
