/**
 * The pure parts of the check: which names are put on the wire (hostile
 * container names and /etc/hosts lines are not), resolv.conf's search order,
 * the ICMP codec, the /mobydig frame and the terminal text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inetChecksum, ipv6Bytes, parseEchoDatagram } from '../kernel/icmp.js';
import type { Discovery, NetworkNamespace } from '../model/types.js';
import { mobydigFrame } from '../service/mobydig.js';
import { canonicalAddress } from './engine.js';
import { isQueryableName, MAX_CHECKS_PER_PLAN, planCheck } from './names.js';
import { findNeighbours, portsFor } from './neighbours.js';
import { candidates } from './resolve.js';
import { formatVerdict } from './text.js';

/**
 * Two namespaces on one veth pair; B holds a container with the given name and
 * labels; `network` names the pair as an engine network with a name service.
 */
function pair(
  name: string,
  labels: Record<string, string>,
  hosts: { address: string; names: string[] }[],
  network?: string,
): Discovery {
  const iface = (netns: number, peer: number, address: string) => ({
    ...(network !== undefined && netns === 2 ? { network: { engine: 'docker', name: network } } : {}),
    netns,
    index: 2,
    name: 'eth0',
    altnames: [],
    kind: 'veth',
    operstate: 'up',
    flags: [],
    mtu: 1500,
    addresses: [{ family: 'inet', address, prefixlen: 24, scope: 'global', flags: [] }],
    ports: [],
    veth: { peer: { netns: peer, index: 2 } },
  });
  const ns = (ino: number, peer: number, address: string, tenants: unknown[]) => ({
    ino,
    isInitial: false,
    interfaces: [iface(ino, peer, address)],
    routes: [],
    rules: [],
    neighbours: [],
    sockets: [],
    forwardedPorts: [],
    tenants,
    nsids: {},
  });
  const dns = {
    hosts,
    resolvConf: { nameservers: ['127.0.0.11'], search: ['corp.example'], options: ['ndots:2'] },
  };
  return {
    networks: {
      '1': ns(1, 2, '10.0.0.1', [{ pid: 10, starttime: 1, comm: 'sh', container: 'ca', dns }]),
      '2': ns(2, 1, '10.0.0.2', [{ pid: 20, starttime: 1, comm: 'sh', container: 'cb', dns: { hosts: [] } }]),
    },
    containers: {
      ca: {
        id: 'ca',
        name: 'start',
        type: 'docker',
        engine: 'e',
        state: 'running',
        labels: {},
        netns: 1,
        privileged: false,
        groups: [],
      },
      cb: {
        id: 'cb',
        name,
        type: 'docker',
        engine: 'e',
        state: 'running',
        labels,
        netns: 2,
        privileged: false,
        groups: [],
      },
    },
    namespaces: {},
    processes: {},
    initial: {},
  } as unknown as Discovery;
}

describe('names to check', () => {
  it('puts only DNS-shaped names on the wire', () => {
    for (const ok of ['web', 'web.net-1', 'a_b', 'x1.example.org'])
      assert.equal(isQueryableName(ok), true, ok);
    for (const bad of ['', 'a..b', '-x', 'x-', 'evil\x1b[2J', 'a b', 'a;rm -rf', 'x\n', 'é', 'a'.repeat(254)])
      assert.equal(isQueryableName(bad), false, JSON.stringify(bad));
  });

  it('tries the container name, the compose service and /etc/hosts names; skips hostile ones and the boilerplate', () => {
    const d = pair(
      'db',
      { 'com.docker.compose.service': 'data\u202ebase' },
      [
        { address: '127.0.0.1', names: ['localhost'] },
        { address: '::1', names: ['localhost', 'ip6-localhost'] },
        { address: '10.0.0.1', names: ['start-self'] },
        { address: '10.0.0.2', names: ['db-alias', 'bad\x07name'] },
        { address: '192.0.2.7', names: ['elsewhere'] },
      ],
      'n1',
    );
    const hood = findNeighbours(d, 1);
    assert.deepEqual(
      hood.neighbours.map((n) => [n.label, n.addresses]),
      [['db', ['10.0.0.2']]],
    );
    const plan = planCheck(d, hood, '/proc/10/ns/net');
    assert.deepEqual(
      plan.names.map((n) => [n.fqdn, n.source, n.neighbour]),
      [
        ['db', 'container', 2],
        ['db.n1', 'container@n1', 2],
        ['db-alias', 'hosts', 2],
        ['elsewhere', 'hosts', undefined],
      ],
    );
    assert.deepEqual(plan.resolver, {
      nameservers: ['127.0.0.11'],
      search: ['corp.example'],
      ndots: 2,
      hosts: plan.resolver.hosts,
    });
    // The start's own address is no neighbour's, yet a service name covering it is no fault.
    assert.deepEqual(plan.owners, { '10.0.0.2': 2, '10.0.0.1': 1 });
    assert.deepEqual(hood.notes, []);
  });

  it('checks a container by address, with a note, on a segment no engine network with a name service names', () => {
    const d = pair('db', { 'com.docker.compose.service': 'db' }, []);
    const hood = findNeighbours(d, 1);
    const plan = planCheck(d, hood, '/proc/10/ns/net');
    assert.deepEqual(plan.names, [], 'no name is put to a nameserver that cannot know it');
    assert.deepEqual(
      plan.addresses.map((a) => [a.label, a.address, a.source]),
      [['db', '10.0.0.2', 'address']],
    );
    assert.deepEqual(hood.notes, [
      'segment eth0 belongs to no engine network with a name service, so its neighbours are checked by address only',
    ]);
  });

  it('bounds the checks of one plan', () => {
    const many = Array.from({ length: MAX_CHECKS_PER_PLAN + 10 }, (_, i) => ({
      address: '10.0.0.2',
      names: [`h${i}`],
    }));
    const d = pair('db', {}, many, 'n1');
    const hood = findNeighbours(d, 1);
    const plan = planCheck(d, hood, '/proc/10/ns/net');
    assert.equal(plan.names.length + plan.addresses.length, MAX_CHECKS_PER_PLAN);
    // db and db.n1 come first; the last 12 hosts names are left out, and said to be.
    assert.deepEqual(hood.notes, [
      `12 more name(s) or address(es) not checked: at most ${MAX_CHECKS_PER_PLAN} per check`,
    ]);
  });

  it('asks at most the first three nameservers, as libc does (resolv.conf(5) MAXNS)', () => {
    const d = pair('db', {}, [], 'n1');
    // The fixture is ours to change: a Discovery is read-only only to its consumers.
    const rc = d.networks['1']?.tenants[0]?.dns.resolvConf as { nameservers: string[] } | undefined;
    assert.ok(rc);
    rc.nameservers = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
    const plan = planCheck(d, findNeighbours(d, 1), '/proc/10/ns/net');
    assert.deepEqual(plan.resolver.nameservers, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });
});

describe('ports that prove a service', () => {
  it('takes a listener on the wildcard for every address, one bound to an address for that address only', () => {
    const sock = (
      family: string,
      protocol: string,
      macrostate: string,
      localAddress: string,
      localPort: number,
    ) => ({
      family,
      protocol,
      macrostate,
      localAddress,
      localPort,
    });
    const ns = {
      sockets: [
        sock('inet', 'tcp', 'listening', '0.0.0.0', 80),
        sock('inet', 'tcp', 'listening', '10.0.0.2', 5432),
        sock('inet', 'tcp', 'listening', '10.0.0.3', 6379),
        sock('inet', 'tcp', 'listening', '127.0.0.1', 9000),
        sock('inet', 'tcp', 'established', '10.0.0.2', 40000),
        sock('inet', 'udp', 'unconnected', '0.0.0.0', 53),
        sock('inet6', 'tcp', 'listening', '::', 443),
      ],
    } as unknown as NetworkNamespace;
    assert.deepEqual(portsFor(ns, '10.0.0.2'), [80, 5432]);
    assert.deepEqual(portsFor(ns, '10.0.0.3'), [80, 6379]);
    assert.deepEqual(portsFor(ns, 'fd00::2'), [443]);
  });
});

describe('addresses as discovery writes them', () => {
  it('rewrites IPv6 answers and hosts lines to RFC 5952, leaves IPv4 and zoned addresses alone', () => {
    assert.equal(canonicalAddress('FD00:0:0:0:0:0:0:2'), 'fd00::2');
    assert.equal(canonicalAddress('fd00:0001:0::0:2'), 'fd00:1::2');
    assert.equal(canonicalAddress('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(canonicalAddress('10.0.0.2'), '10.0.0.2');
    assert.equal(canonicalAddress('fe80::1%eth0'), 'fe80::1%eth0');
  });
});

describe('resolv.conf search order', () => {
  const cfg = { search: ['a.example', 'b.example.'], ndots: 1 };
  it('tries the search list first for a name with fewer dots than ndots', () => {
    assert.deepEqual(candidates('web', cfg), ['web.a.example', 'web.b.example', 'web']);
  });
  it('tries the name first when it has enough dots, and only the name when it ends in a dot', () => {
    assert.deepEqual(candidates('web.net', cfg), ['web.net', 'web.net.a.example', 'web.net.b.example']);
    assert.deepEqual(candidates('web.net.', cfg), ['web.net']);
  });
});

describe('ICMP codec', () => {
  it('computes the RFC 1071 checksum (a packet with its checksum sums to zero)', () => {
    const pkt = Buffer.from('0800000012340001776972657363', 'hex');
    pkt.writeUInt16BE(inetChecksum(pkt), 2);
    assert.equal(inetChecksum(pkt), 0);
  });
  it('reads IPv6 addresses in every RFC 4291 form', () => {
    assert.equal(ipv6Bytes('::1').toString('hex'), `${'0'.repeat(30)}01`);
    assert.equal(ipv6Bytes('fd00:1::2').toString('hex'), 'fd000001000000000000000000000002');
    assert.equal(ipv6Bytes('::ffff:10.0.0.1').toString('hex'), '00000000000000000000ffff0a000001');
    assert.throws(() => ipv6Bytes('10.0.0.1'));
  });
  it('parses echo replies (raw IPv4 with its header, ping sockets without) and quoted errors', () => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    const reply = Buffer.from('0000000012340007', 'hex');
    assert.deepEqual(parseEchoDatagram(Buffer.concat([ip, reply]), 4, true), { id: 0x1234, seq: 7 });
    assert.deepEqual(parseEchoDatagram(reply, 4, false), { id: 0x1234, seq: 7 });
    const unreach = Buffer.concat([
      ip,
      Buffer.from('0301000000000000', 'hex'),
      ip,
      Buffer.from('0800000012340009', 'hex'),
    ]);
    assert.deepEqual(parseEchoDatagram(unreach, 4, true), {
      id: 0x1234,
      seq: 9,
      error: 'destination unreachable (ICMP code 1)',
    });
    assert.deepEqual(parseEchoDatagram(Buffer.from('8100000012340003', 'hex'), 6, true), {
      id: 0x1234,
      seq: 3,
    });
    // Truncated or unrelated datagrams (an echo request, a router advertisement) are no answer.
    assert.equal(parseEchoDatagram(Buffer.from('00', 'hex'), 4, false), undefined);
    assert.equal(parseEchoDatagram(Buffer.from('0800000012340001', 'hex'), 4, false), undefined);
    assert.equal(parseEchoDatagram(Buffer.from('8600000000000000', 'hex'), 6, true), undefined);
  });
});

describe('output', () => {
  it('writes /mobydig frames as Ghostwire does: empty fields left out, unreachable as invalid', () => {
    assert.equal(
      mobydigFrame({ fqdn: 'web', address: '', quality: 'verifying' }),
      '{"fqdn":"web","quality":"verifying"}',
    );
    assert.equal(
      mobydigFrame({ fqdn: 'db', address: '10.0.0.2', quality: 'unreachable', error: 'icmp: no echo reply' }),
      '{"fqdn":"db","address":"10.0.0.2","quality":"invalid","error":"icmp: no echo reply","verdict":"unreachable"}',
    );
  });
  it('makes names from containers and files inert on the terminal', () => {
    const line = formatVerdict({
      fqdn: 'x\x1b[2J',
      address: '10.0.0.2',
      quality: 'invalid',
      error: 'e\u202e',
    });
    assert.equal(line.includes('\x1b'), false);
    assert.equal(line.includes('\u202e'), false);
  });
});
