import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../../model/types.js';
import { addrBytes, Resolver } from './resolve.js';

const HOST = 1;
const A = 2;
const B = 3;

function iface(
  netns: number,
  index: number,
  name: string,
  extra: Partial<Draft.Interface> = {},
): Draft.Interface {
  return {
    netns,
    index,
    name,
    altnames: [],
    kind: 'veth',
    operstate: 'up',
    flags: [],
    mtu: 1500,
    addresses: [],
    ports: [],
    ...extra,
  };
}
const addr = (address: string, prefixlen = 24): Draft.Address => ({
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  prefixlen,
  scope: 'global',
  flags: [],
});
const route = (dst: string, dev: number, table = 254): Draft.Route => ({
  family: 'inet',
  type: 'unicast',
  protocol: 'kernel',
  scope: 'link',
  table,
  dst,
  dev,
  flags: [],
  nexthops: [],
});
const listen = (
  protocol: 'tcp' | 'udp',
  localAddress: string,
  localPort: number,
  pid: number,
  extra: Partial<Draft.Socket> = {},
): Draft.Socket => ({
  protocol,
  family: localAddress.includes(':') ? 'inet6' : 'inet',
  state: protocol === 'tcp' ? 'listen' : 'close',
  macrostate: protocol === 'tcp' ? 'listening' : 'unconnected',
  localAddress,
  localPort,
  remoteAddress: localAddress.includes(':') ? '::' : '0.0.0.0',
  remotePort: 0,
  inode: pid * 10,
  owners: [{ pid, starttime: 1, comm: `p${pid}`, cmdline: [`p${pid}`] }],
  ...extra,
});
function net(
  ino: number,
  interfaces: Draft.Interface[],
  routes: Draft.Route[] = [],
  sockets: Draft.Socket[] = [],
) {
  const n: Draft.NetworkNamespace = {
    ino,
    isInitial: ino === HOST,
    interfaces,
    routes,
    rules: [],
    neighbours: [],
    sockets,
    forwardedPorts: [],
    tenants: [],
    nsids: {},
  };
  return n;
}
function draft(
  networks: Draft.NetworkNamespace[],
  containers: Record<string, Partial<Draft.Container>> = {},
): Draft.Discovery {
  return {
    schema: 'wirescope/native/v1',
    startedAt: '',
    durationMs: 0,
    initial: {},
    namespaces: {},
    processes: {},
    networks: Object.fromEntries(networks.map((n) => [String(n.ino), n])),
    containers: Object.fromEntries(
      Object.entries(containers).map(([k, c]) => [
        k,
        {
          id: k,
          name: k,
          type: 'docker',
          engine: 'e',
          state: 'running',
          labels: {},
          privileged: false,
          groups: [],
          ...c,
        },
      ]),
    ),
    engines: {},
    groups: {},
    warnings: [],
    missingPrivileges: [],
  };
}

/** Host with bridge br0 (index 10, port 11 = veth to A) and a direct veth 20 to B. */
function topology(
  aAddr: string,
  bAddr: string,
  aSockets: Draft.Socket[] = [],
  bSockets: Draft.Socket[] = [],
) {
  return [
    net(
      HOST,
      [
        iface(HOST, 10, 'br0', {
          kind: 'bridge',
          addresses: [addr('10.7.0.1')],
          ports: [{ netns: HOST, index: 11 }],
        }),
        iface(HOST, 11, 'vA', { master: { netns: HOST, index: 10 }, veth: { peer: { netns: A, index: 2 } } }),
        iface(HOST, 20, 'vB', { veth: { peer: { netns: B, index: 2 } } }),
      ],
      [route('10.7.0.0/24', 10), route('10.8.0.0/24', 20)],
    ),
    net(
      A,
      [iface(A, 2, 'eth0', { addresses: [addr(aAddr)], veth: { peer: { netns: HOST, index: 11 } } })],
      [],
      aSockets,
    ),
    net(
      B,
      [iface(B, 2, 'eth0', { addresses: [addr(bAddr)], veth: { peer: { netns: HOST, index: 20 } } })],
      [],
      bSockets,
    ),
  ];
}
const fwd = (destAddress: string, destPort = 80, protocol = 'tcp', netns = HOST) => ({
  netns,
  protocol,
  destAddress,
  destPort,
});

describe('resolving a forward to the namespace, processes and container that serve it', () => {
  it('finds the one namespace holding the address, its listener, and its container', () => {
    const d = draft(
      topology('10.7.0.2', '10.8.0.2', [listen('tcp', '0.0.0.0', 80, 42), listen('tcp', '0.0.0.0', 81, 43)]),
      {
        'e/c1': { netns: A },
      },
    );
    const r = new Resolver(d).resolve(fwd('10.7.0.2'));
    assert.equal(r.destNetns, A);
    assert.deepEqual(
      r.owners.map((o) => o.pid),
      [42],
    );
    assert.equal(r.container, 'e/c1');
    assert.equal(r.warning, undefined);
  });

  it('picks, among namespaces with the same address, the one wired to the route (bridge port or veth)', () => {
    const d = draft(
      topology(
        '10.7.0.2',
        '10.7.0.2',
        [listen('tcp', '10.7.0.2', 80, 42)],
        [listen('tcp', '0.0.0.0', 80, 99)],
      ),
    );
    const r = new Resolver(d).resolve(fwd('10.7.0.2'));
    assert.equal(r.destNetns, A);
    assert.deepEqual(
      r.owners.map((o) => o.pid),
      [42],
    );
  });

  it('leaves an ambiguous destination unresolved, with a warning, when the route does not decide', () => {
    const d = draft(topology('10.9.0.2', '10.9.0.2'));
    // The route leaves through an uplink wired to neither candidate.
    d.networks[String(HOST)]?.interfaces.push(iface(HOST, 30, 'eth0', { kind: 'physical' }));
    d.networks[String(HOST)]?.routes.push(route('10.9.0.0/24', 30));
    const r = new Resolver(d).resolve(fwd('10.9.0.2'));
    assert.equal(r.destNetns, undefined);
    assert.deepEqual(r.owners, []);
    assert.match(r.warning ?? '', /10\.9\.0\.2 is on interfaces in 2 network namespaces/);
  });

  it('does not attach a destination the forwarding namespace has no route to', () => {
    const d = draft(topology('10.7.0.2', '10.8.0.2'));
    const r = new Resolver(d).resolve(fwd('10.8.0.2', 80, 'tcp', A));
    assert.deepEqual(r, { owners: [] });
  });

  it('resolves loopback and own addresses to the forwarding namespace itself', () => {
    const d = draft(topology('10.7.0.2', '10.8.0.2', [listen('tcp', '127.0.0.1', 8080, 7)]));
    assert.equal(new Resolver(d).resolve(fwd('127.0.0.1', 8080, 'tcp', A)).owners[0]?.pid, 7);
    assert.equal(new Resolver(d).resolve(fwd('10.7.0.1')).destNetns, HOST);
  });

  it('matches UDP sockets that are not connected and dual-stack IPv6 listeners for IPv4 forwards', () => {
    const d = draft(
      topology('10.7.0.2', '10.8.0.2', [
        listen('udp', '0.0.0.0', 53, 5),
        listen('udp', '10.7.0.2', 53, 6, { macrostate: 'connected' }),
        listen('tcp', '::', 443, 8, { dualStack: true }),
        listen('tcp', '::', 444, 9),
      ]),
    );
    const res = new Resolver(d);
    assert.deepEqual(
      res.resolve(fwd('10.7.0.2', 53, 'udp')).owners.map((o) => o.pid),
      [5],
    );
    assert.deepEqual(
      res.resolve(fwd('10.7.0.2', 443)).owners.map((o) => o.pid),
      [8],
    );
    assert.deepEqual(res.resolve(fwd('10.7.0.2', 444)).owners, []);
  });

  it('resolves a REDIRECT to the forwarding namespace and its listeners on any local address', () => {
    const d = draft(
      topology('10.7.0.2', '10.8.0.2', [
        listen('tcp', '10.7.0.2', 3128, 11),
        listen('tcp', '::', 3128, 12, { dualStack: true }),
        listen('tcp', '::1', 3128, 13),
      ]),
    );
    const r = new Resolver(d).resolve({ ...fwd('0.0.0.0', 3128, 'tcp', A), redirect: true });
    assert.equal(r.destNetns, A);
    assert.deepEqual(
      r.owners.map((o) => o.pid),
      [11, 12],
    );
  });

  it("prefers the socket owner's container when containers share the namespace", () => {
    const sock = listen('tcp', '0.0.0.0', 80, 42);
    const owner = sock.owners[0];
    if (owner) owner.container = 'e/app';
    const d = draft(topology('10.7.0.2', '10.8.0.2', [sock]), {
      'e/pause': { netns: A },
      'e/app': { netns: A },
    });
    assert.equal(new Resolver(d).resolve(fwd('10.7.0.2')).container, 'e/app');
    const quiet = draft(topology('10.7.0.2', '10.8.0.2'), { 'e/pause': { netns: A }, 'e/app': { netns: A } });
    assert.equal(new Resolver(quiet).resolve(fwd('10.7.0.2')).container, undefined);
  });

  it('parses address text of both families', () => {
    assert.deepEqual(addrBytes('10.1.2.3'), [10, 1, 2, 3]);
    assert.deepEqual(addrBytes('fd00::3')?.slice(0, 2), [0xfd, 0]);
    assert.deepEqual(addrBytes('::ffff:1.2.3.4')?.slice(12), [1, 2, 3, 4]);
    assert.equal(addrBytes('not-an-address'), undefined);
    assert.equal(addrBytes('1.2.3'), undefined);
  });
});
