/**
 * Netlink sockets and message framing (RFC 3549; include/uapi/linux/netlink.h).
 *
 * Pure codec functions (header/attribute parsing and building) plus a small
 * synchronous socket wrapper driven through koffi. Dumps are synchronous:
 * the kernel answers a dump request from its own state without waiting on
 * anything, so a blocking recv() returns promptly; SO_RCVTIMEO bounds it anyway.
 * One socket carries one dump at a time: parallel dumps need separate sockets.
 */
import {
  bind,
  close,
  connect,
  EAGAIN,
  EINTR,
  ENOBUFS,
  errno,
  getsockname,
  SyscallError,
  send,
  setsockoptBuf,
  setsockoptInt,
  socket,
  sys,
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
    // nlmsg_len is the kernel's u32: rounded up without align4's 32-bit bit operations, which
    // turn a length past 2^31 negative (and an offset before the buffer).
    const origLen = data.readUInt32LE(4);
    for (const start of [20, 4 + Math.ceil(origLen / 4) * 4]) {
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
 * recvfrom(2) (`sys.recvfrom`) reporting failure by return value: polling an idle multicast socket ends in
 * EAGAIN every time, and a thrown SyscallError (stack trace, strerror) per poll is not free.
 * The sender's struct sockaddr_nl (family u16, pad u16, nl_pid u32, nl_groups u32) lands in
 * `from`, the thread's one address buffer like rbuf.
 */
const SOCKADDR_NL_LEN = 12;
const from = Buffer.alloc(SOCKADDR_NL_LEN);
const fromLen = Buffer.alloc(4);
const MSG_DONTWAIT = 0x40;

/** NETLINK_CAP_ACK: error replies do not echo the request payload. */
const NETLINK_CAP_ACK = 10;

/**
 * What one dump (or request) may return before wirescope gives it up: generous for real
 * hosts — a full Internet routing table in both families is about 1.3 million routes, a
 * C1M server a million sockets — yet far below what would exhaust the heap decoding it.
 * Whoever owns a network namespace (an unprivileged user, in their own user namespace)
 * decides how many routes, neighbours and sockets it holds; the bound keeps one such
 * namespace from taking the whole discovery down with it.
 */
export const DUMP_MAX_MESSAGES = 1 << 21;
export const DUMP_MAX_BYTES = 512 * 1024 * 1024;

/** A dump answered more than the socket's bound allows; the rest was read and discarded. */
export class NetlinkDumpLimitError extends Error {
  constructor(
    readonly request: string,
    readonly limit: string,
  ) {
    super(`netlink ${request}: the kernel's answer exceeds ${limit}, the bound of one dump; it is left out`);
    this.name = 'NetlinkDumpLimitError';
  }
}

export interface DumpStatus {
  /** NLM_F_DUMP_INTR: the kernel's tables changed during the dump (the caller may retry). */
  interrupted: boolean;
  /** A datagram ended in the middle of a message. */
  truncated: boolean;
}

export interface NetlinkSocketOptions {
  /** Multicast groups (bind mask, groups 1..32). */
  groups?: number;
  rcvbuf?: number;
  /** SO_RCVTIMEO of blocking receives (default 5000 ms). */
  timeoutMs?: number;
  /** Bound on the messages of one dump or request (default DUMP_MAX_MESSAGES). */
  maxMessages?: number;
  /** Bound on the bytes of one dump or request (default DUMP_MAX_BYTES). */
  maxBytes?: number;
}

/**
 * A synchronous netlink socket, bound to whatever network namespace it was created in.
 *
 * It hears only the kernel. Inside a network namespace owned by a user namespace, its owner
 * holds CAP_NET_ADMIN there, and that is all netlink_sendmsg asks (netlink_allowed with
 * NL_CFG_F_NONROOT_SEND, which NETLINK_ROUTE does not set) to send to any port id or group of
 * the namespace: to our socket's port id, forged dump answers; to the groups, forged
 * notifications. Two guards (net/netlink/af_netlink.c):
 * - connect() to port id 0: netlink_getsockbyportid refuses a unicast with ECONNREFUSED when
 *   the receiving socket is NETLINK_CONNECTED and its dst_portid differs from the sender's
 *   port id, and the kernel's own sockets are port id 0. Forged unicasts never reach the queue.
 *   Dump parts are queued directly (netlink_dump → __netlink_sendskb) and multicast is not
 *   filtered (do_one_broadcast), so neither is affected.
 * - every datagram is taken with recvfrom, and netlink_recvmsg reports the sender as nl_pid =
 *   NETLINK_CB(skb).portid: 0 for the kernel, the sending socket's port id otherwise (a user
 *   socket can never hold 0, the kernel socket of each protocol is inserted there). Anything
 *   else is dropped, which covers multicast, the one way left in.
 */
export class NetlinkSocket {
  readonly fd: number;
  private closed = false;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  /** Datagrams dropped because a process, not the kernel, sent them. */
  dropped = 0;
  /** The sequence number of the latest request sent. */
  lastSeq = 0;

  /** Creates a socket in the calling thread's current network namespace. */
  constructor(
    readonly protocol: number,
    opts: NetlinkSocketOptions = {},
  ) {
    this.maxMessages = opts.maxMessages ?? DUMP_MAX_MESSAGES;
    this.maxBytes = opts.maxBytes ?? DUMP_MAX_BYTES;
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
      const sa = Buffer.alloc(SOCKADDR_NL_LEN);
      sa.writeUInt16LE(AF_NETLINK, 0);
      sa.writeUInt32LE(opts.groups ?? 0, 8);
      bind(this.fd, sa);
      // The kernel as the only peer (nl_pid 0, no groups: netlink_connect asks no privilege for that).
      sa.writeUInt32LE(0, 8);
      connect(this.fd, sa);
    } catch (e) {
      close(this.fd);
      throw e;
    }
  }

  /** The port id the kernel gave this socket (nl_pid of getsockname). */
  get portid(): number {
    const sa = Buffer.alloc(SOCKADDR_NL_LEN);
    getsockname(this.fd, sa);
    return sa.readUInt32LE(4);
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
   * Past the socket's bound (messages or bytes) the rest of the dump is still read, so the
   * kernel finishes it and the socket stays usable (a socket with a dump running answers
   * the next one EBUSY: netlink_dump_start), but discarded, and NetlinkDumpLimitError is thrown.
   */
  dumpEach(
    type: number,
    payload: Buffer,
    onMessage: (type: number, data: Buffer) => void,
    name = `type ${type}`,
  ): DumpStatus {
    const seq = this.sendRequest(type, NLM_F_REQUEST | NLM_F_DUMP, payload);
    const status: DumpStatus = { interrupted: false, truncated: false };
    let messages = 0;
    let bytes = 0;
    let over: string | undefined;
    const done = (): DumpStatus => {
      if (over) throw new NetlinkDumpLimitError(name, over);
      return status;
    };
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
        if (mtype === NLMSG_DONE) return done();
        if (mtype === NLMSG_ERROR) {
          const e = parseError(data);
          if (e.errno === 0) return done();
          throw new NetlinkError(e.errno, name, e.extAck);
        }
        if (mtype === NLMSG_NOOP || over) continue;
        bytes += len;
        if (++messages > this.maxMessages) over = `${this.maxMessages} messages`;
        else if (bytes > this.maxBytes) over = `${this.maxBytes} bytes`;
        else onMessage(mtype, data);
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
   * (e.g. the answer to RTM_GETNSID). Throws NetlinkError on a negative ACK,
   * NetlinkDumpLimitError past the socket's bound.
   */
  request(type: number, flags: number, payload: Buffer, name = `type ${type}`): NlMsg[] {
    const seq = this.sendRequest(type, NLM_F_REQUEST | NLM_F_ACK | flags, payload);
    const out: NlMsg[] = [];
    let bytes = 0;
    let over: string | undefined;
    for (;;) {
      const n = this.recvOnce(name);
      for (const m of parseMessages(rbuf.subarray(0, n)).messages) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_ERROR) {
          const e = parseError(m.data);
          if (e.errno !== 0) throw new NetlinkError(e.errno, name, e.extAck);
        }
        if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
          if (over) throw new NetlinkDumpLimitError(name, over);
          return out;
        }
        if (over) continue;
        bytes += NLMSG_HDRLEN + m.data.length;
        if (out.length >= this.maxMessages) over = `${this.maxMessages} messages`;
        else if (bytes > this.maxBytes) over = `${this.maxBytes} bytes`;
        else out.push({ ...m, data: Buffer.from(m.data) });
      }
    }
  }

  /** Non-blocking read of pending multicast messages (returns [] when none). */
  drain(): NlMsg[] {
    const out: NlMsg[] = [];
    for (;;) {
      const n = this.recvKernel(MSG_DONTWAIT);
      if (n === -EAGAIN) return out;
      if (n < 0) throw new SyscallError('recv', -n);
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
    return this.drainData(onType);
  }

  /**
   * Like drainTypes, with each message's payload: a view into the thread's shared receive
   * buffer, valid only during the callback.
   */
  drainData(onMessage: (type: number, data: Buffer) => void): { overflow: boolean } {
    let overflow = false;
    for (;;) {
      const n = this.recvKernel(MSG_DONTWAIT);
      if (n < 0) {
        if (n === -EAGAIN) return { overflow };
        if (n === -ENOBUFS) overflow = true;
        else throw new SyscallError('recv', -n);
        continue;
      }
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = rbuf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        onMessage(rbuf.readUInt16LE(off + 4), rbuf.subarray(off + NLMSG_HDRLEN, off + len));
        off += align4(len);
      }
    }
  }

  private sendRequest(type: number, flags: number, payload: Buffer): number {
    const seq = nextSeq++ >>> 0;
    this.lastSeq = seq;
    send(this.fd, buildMessage(type, flags, seq, payload));
    return seq;
  }

  /**
   * One datagram from the kernel into rbuf: its length, or -errno (EINTR retried).
   * A datagram whose sender is not port id 0 is dropped and counted (see the class comment).
   */
  private recvKernel(flags: number): number {
    for (;;) {
      fromLen.writeUInt32LE(SOCKADDR_NL_LEN, 0);
      const n = Number(sys.recvfrom(this.fd, rbuf, rbuf.length, flags, from, fromLen));
      if (n < 0) {
        const e = errno();
        if (e === EINTR) continue;
        return -e;
      }
      if (fromLen.readUInt32LE(0) >= 8 && from.readUInt32LE(4) === 0) return n;
      this.dropped++;
    }
  }

  private recvOnce(name: string): number {
    const n = this.recvKernel(0);
    if (n >= 0) return n;
    if (n === -EAGAIN) {
      throw new SyscallError('recv', EAGAIN, `${name}: no reply from the kernel within the timeout`);
    }
    throw new SyscallError('recv', -n);
  }
}
