/**
 * sock_diag for TCP and UDP sockets (include/uapi/linux/inet_diag.h, sock_diag.h):
 * SOCK_DIAG_BY_FAMILY requests with struct inet_diag_req_v2, answers as struct
 * inet_diag_msg + INET_DIAG_* attributes. Pure codec; the socket lives elsewhere.
 */
import { parseAttrs, u8 } from './netlink.js';
import { ipOf } from './rtnetlink/format.js';
import type { DecodeIssues } from './rtnetlink/issues.js';

export const SOCK_DIAG_BY_FAMILY = 20;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** enum INET_DIAG_* attribute types. */
export const INET_DIAG_SKV6ONLY = 11;

/** sizeof(struct inet_diag_req_v2) and sizeof(struct inet_diag_msg). */
export const INET_DIAG_REQ_V2_LEN = 56;
export const INET_DIAG_MSG_LEN = 72;

/** TCP_* states (include/net/tcp_states.h), by value; UDP reuses ESTABLISHED and CLOSE. */
export const TCP_STATES = [
  'unknown',
  'established',
  'syn-sent',
  'syn-recv',
  'fin-wait-1',
  'fin-wait-2',
  'time-wait',
  'close',
  'close-wait',
  'last-ack',
  'listen',
  'closing',
  'new-syn-recv',
];
export const TCP_LISTEN = 10;
export const TCP_CLOSE = 7;

/**
 * struct inet_diag_req_v2 { __u8 sdiag_family; __u8 sdiag_protocol; __u8 idiag_ext; __u8 pad;
 * __u32 idiag_states; struct inet_diag_sockid id; } — a zero sockid matches every socket.
 */
export function buildInetDiagReq(family: number, protocol: number, states = 0xffffffff): Buffer {
  const b = Buffer.alloc(INET_DIAG_REQ_V2_LEN);
  b[0] = family;
  b[1] = protocol;
  b.writeUInt32LE(states >>> 0, 4);
  return b;
}

/** TCPDIAG_GETSOCK (inet_diag.h): the original request type, still served by inet_diag_rcv_msg_compat. */
export const TCPDIAG_GETSOCK = 18;
export const INET_DIAG_REQ_V1_LEN = 60;

/**
 * struct inet_diag_req { __u8 idiag_family, idiag_src_len, idiag_dst_len, idiag_ext;
 * struct inet_diag_sockid id; __u32 idiag_states; __u32 idiag_dbs; } for TCPDIAG_GETSOCK.
 * The kernel turns it into a v2 request with sdiag_family = AF_UNSPEC
 * (inet_diag_dump_compat), so one walk of the global TCP hash answers for
 * IPv4 and IPv6 at once — half the cost of two SOCK_DIAG_BY_FAMILY dumps.
 */
export function buildTcpDiagCompatReq(states = 0xffffffff): Buffer {
  const b = Buffer.alloc(INET_DIAG_REQ_V1_LEN);
  b.writeUInt32LE(states >>> 0, 52);
  return b;
}

export interface RawInetSocket {
  family: 'inet' | 'inet6';
  state: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** idiag_if: SO_BINDTODEVICE ifindex, 0 when unbound. */
  boundDev: number;
  uid: number;
  inode: number;
  /** INET_DIAG_SKV6ONLY, IPv6 sockets only (the kernel always sends it for them). */
  v6only?: boolean;
}

/**
 * struct inet_diag_msg { __u8 idiag_family, idiag_state, idiag_timer, idiag_retrans;
 * struct inet_diag_sockid { __be16 sport, dport; __be32 src[4], dst[4]; __u32 if; __u32 cookie[2]; };
 * __u32 idiag_expires, idiag_rqueue, idiag_wqueue, idiag_uid, idiag_inode; }
 */
export function decodeInetDiag(data: Buffer, issues?: DecodeIssues): RawInetSocket | undefined {
  if (data.length < INET_DIAG_MSG_LEN) {
    if (issues) issues.malformed++;
    return undefined;
  }
  const f = data[0];
  const family = f === 2 ? 'inet' : f === 10 ? 'inet6' : undefined;
  if (!family) return undefined;
  const s: RawInetSocket = {
    family,
    state: data[1] as number,
    localPort: data.readUInt16BE(4),
    remotePort: data.readUInt16BE(6),
    localAddress: ipOf(family, data, 8),
    remoteAddress: ipOf(family, data, 24),
    boundDev: data.readUInt32LE(40),
    uid: data.readUInt32LE(64),
    inode: data.readUInt32LE(68),
  };
  if (data.length > INET_DIAG_MSG_LEN) {
    const a = parseAttrs(data, INET_DIAG_MSG_LEN);
    if (a.truncated && issues) issues.truncated++;
    const v6 = u8(a.map.get(INET_DIAG_SKV6ONLY));
    if (v6 !== undefined && family === 'inet6') s.v6only = v6 !== 0;
  }
  return s;
}
