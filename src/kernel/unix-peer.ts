/**
 * Who listens on a unix socket: connect to it and ask the kernel for the
 * peer's credentials (SO_PEERCRED, unix(7)). For a connected stream socket the
 * kernel reports the credentials the listener had when it called listen(2)
 * (net/unix/af_unix.c copies them to the new connection), which a process
 * cannot forge: a user may name a process `dockerd`, but its socket still
 * answers with that user's uid. For a socket-activated service the listener
 * is the activator (systemd), which called listen(2) for it.
 *
 * The connect is non-blocking (SOCK_NONBLOCK): a listener whose backlog is
 * full answers EAGAIN at once instead of stalling the caller.
 */
import { close, connect, getsockoptBuf, SyscallError, socket } from './libc.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** sizeof(struct sockaddr_un): sa_family_t + sun_path[108]. */
const SOCKADDR_UN_LEN = 110;

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** struct sockaddr_un for a filesystem path; throws when the path does not fit sun_path. */
export function sockaddrUn(path: string): Buffer {
  const p = Buffer.from(path, 'utf8');
  if (p.length === 0 || p.length > SOCKADDR_UN_LEN - 3 || p.includes(0)) {
    throw new Error(`unix socket path does not fit sun_path (${p.length} bytes): ${JSON.stringify(path)}`);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_LEN);
  addr.writeUInt16LE(AF_UNIX, 0);
  p.copy(addr, 2);
  return addr;
}

/** Parses struct ucred {pid_t pid; uid_t uid; gid_t gid;}. */
export function parseUcred(b: Buffer): PeerCred {
  return { pid: b.readInt32LE(0), uid: b.readUInt32LE(4), gid: b.readUInt32LE(8) };
}

/**
 * Connects to the unix stream socket at `path` and returns its listener's
 * credentials. Throws a SyscallError (connect: ECONNREFUSED, ENOENT, EAGAIN…)
 * when nobody listens there.
 */
export function unixPeerCred(path: string): PeerCred {
  const addr = sockaddrUn(path);
  const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  try {
    connect(fd, addr);
    const b = Buffer.alloc(12);
    const n = getsockoptBuf(fd, SOL_SOCKET, SO_PEERCRED, b);
    if (n < 12) throw new SyscallError('getsockopt', 22, 'SO_PEERCRED: short answer');
    return parseUcred(b);
  } finally {
    close(fd);
  }
}
