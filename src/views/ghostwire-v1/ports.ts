/**
 * Native sockets and forwarded ports → v1 `transport-ports` and
 * `forwarded-ports`, each port related to its owning processes (and their
 * tenants) and to the interfaces whose addresses it is bound to.
 */
import { BlockList } from 'node:net';
import type { ForwardedPort, NetworkNamespace, Socket } from '../../model/types.js';
import type { V1Context } from './context.js';
import { nifId } from './ids.js';
import { familyNumber, owner } from './interfaces.js';
import type { IPPort, PortState, ForwardedPort as V1ForwardedPort } from './schema.js';

/**
 * Socket states as Ghostwire's server spells them
 * (network/netstat_on_drugs.go), keyed by normalised TCP state names
 * (include/net/tcp_states.h) and by what `ss` prints.
 */
const STATES: Record<string, PortState> = {
  established: 'connected',
  estab: 'connected',
  connected: 'connected',
  synsent: 'SYN sent',
  synrecv: 'SYN received',
  synreceived: 'SYN received',
  finwait1: 'FIN WAIT1',
  finwait2: 'FIN WAIT2',
  timewait: 'time wait',
  close: 'closed',
  closed: 'closed',
  unconn: 'closed',
  unconnected: 'closed',
  closewait: 'close wait',
  lastack: 'last ACK',
  listen: 'listening',
  listening: 'listening',
  closing: 'closing',
  newsynrecv: 'new SYN received',
  newsynreceived: 'new SYN received',
};

export function v1PortState(s: Socket): PortState {
  const st = STATES[s.state.toLowerCase().replace(/[^a-z0-9]/g, '')];
  if (st !== undefined) return st;
  return s.macrostate === 'connected' ? 'connected' : s.macrostate === 'listening' ? 'listening' : 'closed';
}

/**
 * v1 counts any UDP socket that is not connected to a peer as "listening"
 * (the kernel keeps unconnected UDP sockets in TCP_CLOSE; Ghostwire's
 * `UDP_LISTEN = TCP_CLOSE`).
 */
export function v1Macrostate(s: Socket): IPPort['macrostate'] {
  if (s.protocol === 'udp' && s.macrostate === 'unconnected') return 'listening';
  return s.macrostate;
}

const MACRO_ORDER: Record<IPPort['macrostate'], number> = { listening: 0, connected: 1, unconnected: 2 };

/** "::ffff:10.0.0.1" → "10.0.0.1": IPv4-mapped IPv6 addresses name IPv4 interface addresses. */
const unmap = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

/** Address → ids of the interfaces carrying it; the wildcard addresses map to all interfaces. */
function addressIndex(ns: NetworkNamespace): Map<string, string[]> {
  const sorted = [...ns.interfaces].sort((a, b) => a.index - b.index);
  const all = sorted.map((n) => nifId(ns.ino, n.index));
  const index = new Map<string, string[]>([
    ['0.0.0.0', all],
    ['::', all],
  ]);
  for (const nif of sorted) {
    for (const a of nif.addresses) {
      const ids = index.get(a.address);
      const id = nifId(ns.ino, nif.index);
      if (ids === undefined) index.set(a.address, [id]);
      else if (ids !== all && !ids.includes(id)) ids.push(id);
    }
  }
  return index;
}

/** Well-known service names seen anywhere in the discovery, for ports the native model names only once. */
function serviceIndex(ctx: V1Context): Map<string, string> {
  const services = new Map<string, string>();
  for (const ns of Object.values(ctx.discovery.networks)) {
    for (const s of ns.sockets) {
      if (s.service && !services.has(`${s.protocol}/${s.localPort}`)) {
        services.set(`${s.protocol}/${s.localPort}`, s.service);
      }
    }
  }
  return services;
}

export interface PortViews {
  transport: { ipv4: IPPort[]; ipv6: IPPort[] };
  forwarded: { ipv4: V1ForwardedPort[]; ipv6: V1ForwardedPort[] };
}

export function makePortViews(ctx: V1Context): (ns: NetworkNamespace) => PortViews {
  let services: Map<string, string> | undefined;
  const serviceName = (protocol: string, port: number): string => {
    if (port === 0) return '';
    services ??= serviceIndex(ctx);
    return services.get(`${protocol}/${port}`) ?? '';
  };

  return (ns) => {
    const out: PortViews = { transport: { ipv4: [], ipv6: [] }, forwarded: { ipv4: [], ipv6: [] } };
    if (ns.sockets.length === 0 && ns.forwardedPorts.length === 0) return out;
    const byAddress = addressIndex(ns);
    const nifsFor = (address: string, boundDev?: number): string[] => {
      if (boundDev !== undefined && boundDev > 0) return [nifId(ns.ino, boundDev)];
      return [...(byAddress.get(unmap(address)) ?? [])];
    };

    const sockets = [...ns.sockets].sort(
      (a, b) =>
        MACRO_ORDER[v1Macrostate(a)] - MACRO_ORDER[v1Macrostate(b)] ||
        a.localPort - b.localPort ||
        a.protocol.localeCompare(b.protocol) ||
        a.localAddress.localeCompare(b.localAddress) ||
        a.remotePort - b.remotePort ||
        a.remoteAddress.localeCompare(b.remoteAddress),
    );
    for (const s of sockets) {
      const port: IPPort = {
        family: familyNumber(s.family),
        protocol: s.protocol,
        'local-address': s.localAddress,
        'local-port': s.localPort,
        'local-servicename': s.service ?? serviceName(s.protocol, s.localPort),
        'remote-address': s.remoteAddress,
        'remote-port': s.remotePort,
        'remote-servicename': serviceName(s.protocol, s.remotePort),
        state: v1PortState(s),
        macrostate: v1Macrostate(s),
        owners: s.owners.map((o) => owner(ctx, o.pid, o)),
        'network-interface-idrefs': nifsFor(s.localAddress, s.boundDev),
      };
      if (s.synthetic) port.v4mapped = true;
      (s.family === 'inet' ? out.transport.ipv4 : out.transport.ipv6).push(port);
    }

    // The native model keeps one entry per source (an nftables DNAT rule and
    // the docker-proxy serving the same port, say); v1 has no source, so
    // entries that read the same are one, with their owners merged.
    const seen = new Map<string, V1ForwardedPort>();
    for (const fp of ns.forwardedPorts) {
      const v1 = v1ForwardedPort(ns, fp, serviceName, nifsFor);
      const key = `${v1.protocol}|${v1.ip}/${v1['ip-prefixlen'] ?? ''}|${v1.port}|${v1['port-end'] ?? ''}|${v1['forward-ip']}|${v1['forward-port']}|${v1.netnsid}`;
      const owners = fp.owners.map((o) => owner(ctx, o.pid, o));
      const same = seen.get(key);
      if (same) {
        for (const o of owners) if (!same.owners.some((x) => x.pid === o.pid)) same.owners.push(o);
        continue;
      }
      v1.owners = owners;
      seen.set(key, v1);
      (fp.family === 'inet' ? out.forwarded.ipv4 : out.forwarded.ipv6).push(v1);
    }
    return out;
  };
}

/**
 * A DNAT rule may match a destination prefix ("198.51.100.0/24") rather than
 * one address; v1's `ip` holds an address, so the prefix length travels in
 * `ip-prefixlen`, and the interfaces are those with an address inside it.
 */
export function splitHostMatch(hostAddress: string): { ip: string; prefixlen?: number } {
  const slash = hostAddress.indexOf('/');
  if (slash < 0) return { ip: hostAddress };
  const ip = hostAddress.slice(0, slash);
  const prefixlen = Number.parseInt(hostAddress.slice(slash + 1), 10);
  const full = ip.includes(':') ? 128 : 32;
  return Number.isInteger(prefixlen) && prefixlen < full ? { ip, prefixlen } : { ip };
}

function nifsInPrefix(ns: NetworkNamespace, ip: string, prefixlen: number): string[] {
  const type = ip.includes(':') ? 'ipv6' : 'ipv4';
  const block = new BlockList();
  try {
    block.addSubnet(ip, prefixlen, type);
  } catch {
    return [];
  }
  return [...ns.interfaces]
    .sort((a, b) => a.index - b.index)
    .filter((n) =>
      n.addresses.some(
        (a) => a.family === (type === 'ipv4' ? 'inet' : 'inet6') && block.check(a.address, type),
      ),
    )
    .map((n) => nifId(ns.ino, n.index));
}

function v1ForwardedPort(
  ns: NetworkNamespace,
  fp: ForwardedPort,
  serviceName: (protocol: string, port: number) => string,
  nifsFor: (address: string) => string[],
): V1ForwardedPort {
  const host = splitHostMatch(fp.hostAddress);
  const v1: V1ForwardedPort = {
    family: familyNumber(fp.family),
    protocol: fp.protocol,
    ip: host.ip,
    port: fp.hostPort,
    servicename: serviceName(fp.protocol, fp.hostPort),
    'forward-ip': fp.destAddress,
    'forward-port': fp.destPort,
    'forward-servicename': serviceName(fp.protocol, fp.destPort),
    netnsid: fp.destNetns ?? 0,
    owners: [],
    'network-interface-refs':
      host.prefixlen === undefined ? nifsFor(host.ip) : nifsInPrefix(ns, host.ip, host.prefixlen),
  };
  if (host.prefixlen !== undefined) v1['ip-prefixlen'] = host.prefixlen;
  if (fp.hostPortEnd !== undefined && fp.hostPortEnd !== fp.hostPort) v1['port-end'] = fp.hostPortEnd;
  return v1;
}
