/**
 * Transport sockets of one namespace as model objects (pure): state names,
 * macrostate, service names, and a synthetic IPv4 entry for dual-stack IPv6
 * sockets (bound to :: without IPV6_V6ONLY, so they accept IPv4 too).
 */
import { type RawInetSocket, TCP_LISTEN, TCP_STATES } from '../kernel/sockdiag.js';
import type { Draft } from '../model/types.js';
import { type ServiceMap, serviceKey } from './services.js';

/**
 * listening: TCP in LISTEN, or UDP bound without a peer (it receives datagrams
 * from anyone, what `ss -l` lists); connected: a peer is set; unconnected: the rest
 * (TCP sockets closing or not yet connected).
 */
export function macrostate(protocol: 'tcp' | 'udp', s: RawInetSocket): Draft.Socket['macrostate'] {
  if (protocol === 'tcp') {
    if (s.state === TCP_LISTEN) return 'listening';
    return s.remotePort !== 0 ? 'connected' : 'unconnected';
  }
  return s.remotePort !== 0 ? 'connected' : 'listening';
}

/** Appends the model sockets for one sock_diag dump (protocol fixed by the request). */
export function addSockets(
  out: Draft.Socket[],
  protocol: 'tcp' | 'udp',
  raw: RawInetSocket,
  services: ServiceMap,
): void {
  const sock: Draft.Socket = {
    protocol,
    family: raw.family,
    state: TCP_STATES[raw.state] ?? String(raw.state),
    macrostate: macrostate(protocol, raw),
    localAddress: raw.localAddress,
    localPort: raw.localPort,
    remoteAddress: raw.remoteAddress,
    remotePort: raw.remotePort,
    inode: raw.inode,
    owners: [],
  };
  if (raw.boundDev) sock.boundDev = raw.boundDev;
  const svc = services.get(serviceKey(raw.localPort, protocol));
  if (svc) sock.service = svc;
  const dual = raw.family === 'inet6' && raw.v6only === false && raw.localAddress === '::';
  if (dual) sock.dualStack = true;
  out.push(sock);
  if (dual) {
    const v4: Draft.Socket = {
      ...sock,
      family: 'inet',
      localAddress: '0.0.0.0',
      remoteAddress: '0.0.0.0',
      synthetic: true,
      owners: [],
    };
    delete v4.dualStack;
    out.push(v4);
  }
}
