/**
 * ICMP echo sockets, for the neighbourhood check's reachability probes.
 *
 * The socket is created on the calling thread, so in the network namespace that
 * thread is in: a thread that entered a container's namespace pings from there.
 * A raw socket (CAP_NET_RAW) is tried first; without the capability, an
 * unprivileged ping socket (SOCK_DGRAM + IPPROTO_ICMP, icmp(7)), which the
 * namespace's net.ipv4.ping_group_range must allow. Both are non-blocking and
 * polled: a blocking recv would stall the thread's event loop.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { close, EACCES, EAGAIN, EPERM, recv, SyscallError, sendto, socket } from './libc.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const MSG_DONTWAIT = 0x40;

export interface EchoSocket {
  fd: number;
  family: 4 | 6;
  /** Raw sockets see the IPv4 header and keep our identifier; ping sockets do neither. */
  raw: boolean;
}

/** What came back for one probe: an echo reply, or an ICMP error quoting our request. */
export interface EchoAnswer {
  seq: number;
  /** Identifier as received (ping sockets: the kernel's, so only seq is matched there). */
  id: number;
  /** undefined for an echo reply; otherwise e.g. "destination unreachable (code 1)". */
  error?: string;
}

export function openEchoSocket(family: 4 | 6): EchoSocket {
  const domain = family === 4 ? AF_INET : AF_INET6;
  const proto = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  try {
    return { fd: socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), family, raw: true };
  } catch (e) {
    if (!(e instanceof SyscallError) || (e.errno !== EPERM && e.errno !== EACCES)) throw e;
  }
  try {
    return { fd: socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), family, raw: false };
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === EPERM || e.errno === EACCES)) {
      throw new SyscallError(
        'socket',
        e.errno,
        'ICMP echo needs CAP_NET_RAW or a net.ipv4.ping_group_range that includes our group',
      );
    }
    throw e;
  }
}

export function closeEchoSocket(s: EchoSocket): void {
  close(s.fd);
}

/** IPv6 text → 16 bytes (RFC 4291 2.2 forms, incl. "::" and a trailing dotted quad). */
export function ipv6Bytes(text: string): Buffer {
  if (!isIPv6(text)) throw new Error(`not an IPv6 address: ${text}`);
  let s = text.split('%')[0] ?? '';
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const b = v4[1].split('.').map(Number);
    s = `${s.slice(0, -v4[1].length)}${(((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16)}:${(((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

function sockaddr(address: string): Buffer {
  if (isIPv4(address)) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    Buffer.from(address.split('.').map(Number)).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  ipv6Bytes(address).copy(b, 8);
  return b;
}

/** RFC 1071 Internet checksum. */
export function inetChecksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Sends one echo request. Throws a SyscallError for a local refusal (ENETUNREACH, EHOSTUNREACH, EPERM by a firewall). */
export function sendEcho(s: EchoSocket, address: string, id: number, seq: number): void {
  const pkt = Buffer.alloc(16);
  pkt[0] = s.family === 4 ? 8 : 128; // echo request (RFC 792 / RFC 4443)
  pkt.writeUInt16BE(id & 0xffff, 4);
  pkt.writeUInt16BE(seq & 0xffff, 6);
  pkt.write('wirescope', 8, 'latin1');
  // ICMPv6 checksums cover a pseudo-header: the kernel fills them in (RFC 3542 3.1).
  if (s.family === 4) pkt.writeUInt16BE(inetChecksum(pkt), 2);
  sendto(s.fd, pkt, sockaddr(address));
}

const buf = Buffer.alloc(2048);

/** Parses one received datagram into an answer, or undefined when it is not about an echo. */
export function parseEchoDatagram(pkt: Buffer, family: 4 | 6, raw: boolean): EchoAnswer | undefined {
  let off = 0;
  if (family === 4 && raw) off = ((pkt[0] ?? 0) & 0x0f) * 4; // raw IPv4 sockets deliver the IP header
  const type = pkt[off];
  if (pkt.length < off + 8) return undefined;
  const reply = family === 4 ? 0 : 129;
  if (type === reply) return { id: pkt.readUInt16BE(off + 4), seq: pkt.readUInt16BE(off + 6) };
  // Errors quote the offending packet: its IP header, then our echo header.
  const unreach = family === 4 ? type === 3 || type === 11 : type === 1 || type === 3;
  if (!unreach) return undefined;
  const inner = off + 8;
  const innerHdr = family === 4 ? ((pkt[inner] ?? 0) & 0x0f) * 4 : 40;
  const echo = inner + innerHdr;
  if (pkt.length < echo + 8) return undefined;
  const what = (family === 4 ? type === 3 : type === 1) ? 'destination unreachable' : 'time exceeded';
  return {
    id: pkt.readUInt16BE(echo + 4),
    seq: pkt.readUInt16BE(echo + 6),
    error: `${what} (ICMP code ${pkt[off + 1]})`,
  };
}

/** Everything queued on the socket now, without waiting. */
export function drainEcho(s: EchoSocket): EchoAnswer[] {
  const out: EchoAnswer[] = [];
  for (;;) {
    let n: number;
    try {
      n = recv(s.fd, buf, MSG_DONTWAIT);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === EAGAIN) return out;
      throw e;
    }
    const a = parseEchoDatagram(buf.subarray(0, n), s.family, s.raw);
    if (a) out.push(a);
  }
}
