import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Draft } from '../model/types.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { ip, ipBatch } from '../testing/ip.js';
import { closeNetworkDiscovery, discoverNetworks, type NetworkResult } from './discover.js';
import { ifindex, NetFixtures, netnsIno, scanOf } from './testing/fixtures.js';

const fx = new NetFixtures();
const P = fx.prefix;
const N = (n: string) => `${P}-${n}`;
let result: NetworkResult;
let tapPid = 0;
let sockPid = 0;
let outsidePid = 0;

function iface(ns: string, name: string): Draft.Interface {
  const net = result.networks[String(netnsIno(N(ns)))];
  assert.ok(net, `netns ${ns} discovered`);
  const f = net.interfaces.find((i) => i.name === name);
  assert.ok(f, `${name} in ${ns}`);
  return f;
}
const ref = (ns: string, dev: string) => ({ netns: netnsIno(N(ns)), index: ifindex(N(ns), dev) });
const net = (ns: string): Draft.NetworkNamespace => {
  const n = result.networks[String(netnsIno(N(ns)))];
  assert.ok(n);
  return n;
};

/** One more discovery of every fixture namespace: `ns`'s result, which must carry no warning. */
async function warmRun(ns: string): Promise<Draft.NetworkNamespace> {
  const r = await discoverNetworks(scanOf(fx.namespaces));
  const n = r.networks[String(netnsIno(ns))];
  assert.ok(n, ns);
  assert.deepEqual(
    r.warnings.filter((x) => x.ns === n.ino),
    [],
  );
  return n;
}

describe('network discovery on the real kernel', () => {
  before(async () => {
    fx.netns(
      'a',
      'b',
      'c',
      'd',
      'br',
      'e1',
      'e2',
      'v1',
      'v2',
      'v3',
      'm1',
      'm2',
      't1',
      'r1',
      'r2',
      's1',
      's2',
    );
    const n = N;
    ipBatch([
      // A chain of veths across four namespaces; fresh namespaces give both ends ifindex 2, so the
      // kernel omits IFLA_LINK for a→b (same ifindex on both sides).
      `link add ab0 netns ${n('a')} type veth peer name ba0 netns ${n('b')}`,
      `link add bc0 netns ${n('b')} type veth peer name cb0 netns ${n('c')}`,
      `link add cd0 netns ${n('c')} type veth peer name dc0 netns ${n('d')}`,
      `-n ${n('a')} addr add 10.31.0.1/30 dev ab0`,
      `-n ${n('a')} addr add fd31::1/64 dev ab0 nodad`,
      `-n ${n('a')} link set ab0 up`,
      `-n ${n('b')} addr add 10.31.0.2/30 dev ba0`,
      `-n ${n('b')} link set ba0 up`,
      // A bridge whose ports peer into two other namespaces.
      `-n ${n('br')} link add br0 type bridge stp_state 1`,
      `link add p1 netns ${n('br')} type veth peer name eth0 netns ${n('e1')}`,
      `link add p2 netns ${n('br')} type veth peer name eth0 netns ${n('e2')}`,
      `-n ${n('br')} link set p1 master br0`,
      `-n ${n('br')} link set p2 master br0`,
      // VXLAN between v1 and v2 over a veth underlay, enslaved to a bridge; vx3 moved to v3 keeps its underlay in v1.
      `link add u1 netns ${n('v1')} type veth peer name u2 netns ${n('v2')}`,
      `-n ${n('v1')} addr add 10.77.0.1/24 dev u1`,
      `-n ${n('v2')} addr add 10.77.0.2/24 dev u2`,
      `-n ${n('v1')} link set u1 up`,
      `-n ${n('v2')} link set u2 up`,
      `-n ${n('v1')} link add vx1 type vxlan id 42 remote 10.77.0.2 local 10.77.0.1 dev u1 dstport 4789`,
      `-n ${n('v2')} link add vx2 type vxlan id 42 remote 10.77.0.1 local 10.77.0.2 dev u2 dstport 4789`,
      `-n ${n('v1')} link add vbr type bridge`,
      `-n ${n('v1')} link set vx1 master vbr`,
      `-n ${n('v1')} link add vx3 type vxlan id 43 group 239.1.1.1 dev u1 dstport 4790`,
      `-n ${n('v1')} link set vx3 netns ${n('v3')}`,
      // Macvlans on a veth: one beside its parent, one moved into another namespace.
      `link add mv0 netns ${n('m1')} type veth peer name mvp netns ${n('m2')}`,
      `-n ${n('m1')} link add link mv0 name mac0 type macvlan mode bridge`,
      `-n ${n('m1')} link add link mv0 name mac1 type macvlan mode private`,
      `-n ${n('m1')} link set mac1 netns ${n('m2')}`,
      `-n ${n('m1')} link add link mv0 name mtap0 type macvtap mode vepa`,
      // Policy routing: a rule into table 100, a multipath route, a permanent neighbour.
      `link add rv0 netns ${n('r1')} type veth peer name rv1 netns ${n('r2')}`,
      `-n ${n('r1')} addr add 10.88.0.1/24 dev rv0`,
      `-n ${n('r1')} link set rv0 up`,
      `-n ${n('r2')} link set rv1 up`,
      `-n ${n('r1')} route add 10.99.0.0/16 via 10.88.0.2 table 100 metric 7`,
      `-n ${n('r1')} route add 10.66.0.0/16 nexthop via 10.88.0.2 weight 1 nexthop via 10.88.0.3 weight 2`,
      `-n ${n('r1')} route add 10.55.0.0/16 via 10.88.0.2 mtu 1300`,
      `-n ${n('r1')} rule add from 10.88.0.0/24 lookup 100 pref 1000`,
      `-n ${n('r1')} neigh add 10.88.0.9 lladdr 02:00:00:00:00:09 dev rv0 nud permanent`,
      `-n ${n('s1')} link set lo up`,
      `-n ${n('s2')} link set lo up`,
    ]);
    ip('netns', 'exec', N('r1'), 'sysctl', '-qw', 'net.ipv4.conf.all.forwarding=1');
    // New namespaces inherit IPv4 forwarding from the host (net.core.devconf_inherit_init_net = 0): set it.
    ip('netns', 'exec', N('r2'), 'sysctl', '-qw', 'net.ipv4.conf.all.forwarding=0');
    const tap = await fx.tapHolder(`${P}t`, N('t1'));
    tapPid = tap.child.pid as number;
    const s1 = await fx.sockets(
      ['tcp,4,0.0.0.0,8081', 'udp,6,::,5353', 'tcp,6,::,8082,v6only', 'connect,6,::1,8082'],
      {
        netns: N('s1'),
      },
    );
    sockPid = s1.child.pid as number;
    // A process in the host namespace creates sockets inside s2, which no process is attached to.
    const s2 = await fx.sockets(['tcp,4,127.0.0.1,9091', 'udp,4,0.0.0.0,9092'], { inside: N('s2') });
    outsidePid = s2.child.pid as number;
    result = await discoverNetworks(scanOf(fx.namespaces));
  });

  after(async () => {
    await closeNetworkDiscovery();
    fx.cleanup();
  });

  it('reads every namespace without warnings', () => {
    assert.deepEqual(result.warnings, []);
    for (const n of fx.namespaces) assert.ok(result.networks[String(netnsIno(n))], n);
  });

  it('wires a chain of veths across four namespaces, including peers with the same ifindex', () => {
    assert.equal(ifindex(N('a'), 'ab0'), ifindex(N('b'), 'ba0'), 'fixture: same ifindex on both ends');
    assert.deepEqual(iface('a', 'ab0').veth, { peer: ref('b', 'ba0') });
    assert.deepEqual(iface('b', 'ba0').veth, { peer: ref('a', 'ab0') });
    assert.deepEqual(iface('b', 'bc0').veth, { peer: ref('c', 'cb0') });
    assert.deepEqual(iface('c', 'cb0').veth, { peer: ref('b', 'bc0') });
    assert.deepEqual(iface('c', 'cd0').veth, { peer: ref('d', 'dc0') });
    assert.deepEqual(iface('d', 'dc0').veth, { peer: ref('c', 'cd0') });
    assert.deepEqual(iface('a', 'ab0').link, ref('b', 'ba0'));
    assert.equal(iface('a', 'ab0').linkUnresolved, undefined);
    // nsids records what the links reported, as seen from that namespace.
    const a = net('a');
    assert.deepEqual(Object.values(a.nsids), [netnsIno(N('b'))]);
    assert.equal(Number(Object.keys(a.nsids)[0]), iface('a', 'ab0').linkNetnsId);
  });

  it('reads addresses with family, prefix, scope, flags and lifetimes', () => {
    const f = iface('a', 'ab0');
    assert.equal(f.kind, 'veth');
    assert.deepEqual(f.flags.includes('up'), true);
    assert.equal(f.mtu, 1500);
    assert.match(f.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const v4 = f.addresses.find((x) => x.family === 'inet');
    assert.deepEqual(v4, {
      family: 'inet',
      address: '10.31.0.1',
      prefixlen: 30,
      scope: 'global',
      flags: ['permanent'],
      label: 'ab0',
    });
    const v6 = f.addresses.find((x) => x.address === 'fd31::1');
    assert.deepEqual(v6, {
      family: 'inet6',
      address: 'fd31::1',
      prefixlen: 64,
      scope: 'global',
      flags: ['nodad', 'permanent'],
    });
    const lo = iface('a', 'lo');
    assert.equal(lo.kind, 'loopback');
  });

  it('lists bridge ports that peer into other namespaces', () => {
    const br = iface('br', 'br0');
    assert.equal(br.kind, 'bridge');
    assert.equal(br.bridge?.stp, true);
    assert.equal(br.bridge?.vlanFiltering, false);
    assert.deepEqual(
      [...br.ports].sort((x, y) => x.index - y.index),
      [ref('br', 'p1'), ref('br', 'p2')].sort((x, y) => x.index - y.index),
    );
    const p1 = iface('br', 'p1');
    assert.deepEqual(p1.master, ref('br', 'br0'));
    assert.equal(typeof p1.bridgePort?.state, 'string');
    assert.deepEqual(p1.veth?.peer, ref('e1', 'eth0'));
    assert.deepEqual(iface('e1', 'eth0').veth?.peer, ref('br', 'p1'));
    assert.deepEqual(iface('e2', 'eth0').veth?.peer, ref('br', 'p2'));
  });

  it('decodes a vxlan over a veth underlay, enslaved to a bridge, and an underlay in another namespace', () => {
    const vx1 = iface('v1', 'vx1');
    assert.equal(vx1.kind, 'vxlan');
    assert.deepEqual(vx1.vxlan, {
      vni: 42,
      remote: '10.77.0.2',
      local: '10.77.0.1',
      port: 4789,
      ttl: 0,
      learning: true,
      underlay: ref('v1', 'u1'),
    });
    assert.deepEqual(vx1.master, ref('v1', 'vbr'));
    assert.deepEqual(iface('v1', 'vbr').ports, [ref('v1', 'vx1')]);
    assert.deepEqual(iface('v2', 'vx2').vxlan?.underlay, ref('v2', 'u2'));
    assert.deepEqual(iface('v1', 'u1').veth?.peer, ref('v2', 'u2'));
    const vx3 = iface('v3', 'vx3');
    assert.equal(vx3.vxlan?.group, '239.1.1.1');
    assert.equal(vx3.vxlan?.port, 4790);
    assert.deepEqual(vx3.vxlan?.underlay, ref('v1', 'u1'));
  });

  it('finds macvlan and macvtap parents, also across namespaces', () => {
    assert.deepEqual(iface('m1', 'mac0').macvlan, {
      mode: 'bridge',
      macvtap: false,
      parent: ref('m1', 'mv0'),
    });
    assert.deepEqual(iface('m2', 'mac1').macvlan, {
      mode: 'private',
      macvtap: false,
      parent: ref('m1', 'mv0'),
    });
    assert.deepEqual(iface('m2', 'mac1').link, ref('m1', 'mv0'));
    assert.deepEqual(iface('m1', 'mtap0').macvlan, { mode: 'vepa', macvtap: true, parent: ref('m1', 'mv0') });
    assert.equal(iface('m1', 'mtap0').kind, 'macvtap');
  });

  it('finds the process holding a tap', () => {
    const t = iface('t1', `${P}t`);
    assert.equal(t.kind, 'tun');
    assert.equal(t.tuntap?.mode, 'tap');
    assert.deepEqual(t.tuntap?.flags, []);
    assert.deepEqual(
      t.tuntap?.holders.map((h) => [h.pid, h.comm]),
      [[tapPid, 'python3']],
    );
  });

  it('reads routes of all tables, multipath next hops, metrics, policy rules and neighbours', () => {
    const r = net('r1');
    const rv0 = ifindex(N('r1'), 'rv0');
    const t100 = r.routes.filter((x) => x.table === 100);
    assert.deepEqual(t100, [
      {
        family: 'inet',
        type: 'unicast',
        protocol: 'boot',
        scope: 'global',
        table: 100,
        dst: '10.99.0.0/16',
        gateway: '10.88.0.2',
        dev: rv0,
        metric: 7,
        flags: [],
        nexthops: [],
      },
    ]);
    const mp = r.routes.find((x) => x.dst === '10.66.0.0/16');
    assert.deepEqual(mp?.nexthops, [
      { gateway: '10.88.0.2', dev: rv0, weight: 1, flags: [] },
      { gateway: '10.88.0.3', dev: rv0, weight: 2, flags: [] },
    ]);
    assert.equal(r.routes.find((x) => x.dst === '10.55.0.0/16')?.mtu, 1300);
    const connected = r.routes.find((x) => x.dst === '10.88.0.0/24' && x.table === 254);
    assert.deepEqual(
      [connected?.protocol, connected?.scope, connected?.prefsrc, connected?.dev],
      ['kernel', 'link', '10.88.0.1', rv0],
    );
    // The local table is there too (Ghostwire shows only main and local; we show all).
    assert.ok(r.routes.some((x) => x.table === 255 && x.type === 'local' && x.dst === '10.88.0.1/32'));
    const rule = r.rules.find((x) => x.priority === 1000);
    assert.deepEqual(rule, {
      family: 'inet',
      priority: 1000,
      action: 'to_tbl',
      table: 100,
      src: '10.88.0.0/24',
      invert: false,
      protocol: 'unspec',
    });
    assert.ok(r.rules.some((x) => x.priority === 32766 && x.table === 254));
    assert.deepEqual(r.forwarding, { ipv4: true, ipv6: false });
    assert.deepEqual(net('r2').forwarding, { ipv4: false, ipv6: false });
    assert.deepEqual(
      r.neighbours.find((x) => x.address === '10.88.0.9'),
      {
        family: 'inet',
        dev: rv0,
        state: ['permanent'],
        flags: [],
        address: '10.88.0.9',
        mac: '02:00:00:00:00:09',
      },
    );
  });

  it('reads listening TCP and UDP sockets with owners, services and a dual-stack IPv4 entry', () => {
    const socks = net('s1').sockets.map((s) => ({
      protocol: s.protocol,
      family: s.family,
      local: `${s.localAddress}:${s.localPort}`,
      macrostate: s.macrostate,
      state: s.state,
      dual: s.dualStack,
      synthetic: s.synthetic,
      service: s.service,
      owners: s.owners.map((o) => o.pid),
    }));
    const by = (k: string) => socks.filter((s) => `${s.protocol}/${s.family}/${s.local}` === k);
    assert.deepEqual(by('tcp/inet/0.0.0.0:8081'), [
      {
        protocol: 'tcp',
        family: 'inet',
        local: '0.0.0.0:8081',
        macrostate: 'listening',
        state: 'listen',
        dual: undefined,
        synthetic: undefined,
        service: 'tproxy',
        owners: [sockPid],
      },
    ]);
    assert.deepEqual(by('udp/inet6/:::5353'), [
      {
        protocol: 'udp',
        family: 'inet6',
        local: ':::5353',
        macrostate: 'listening',
        state: 'close',
        dual: true,
        synthetic: undefined,
        service: 'mdns',
        owners: [sockPid],
      },
    ]);
    assert.deepEqual(by('udp/inet/0.0.0.0:5353'), [
      {
        protocol: 'udp',
        family: 'inet',
        local: '0.0.0.0:5353',
        macrostate: 'listening',
        state: 'close',
        dual: undefined,
        synthetic: true,
        service: 'mdns',
        owners: [sockPid],
      },
    ]);
    // IPV6_V6ONLY: no synthetic IPv4 twin.
    assert.equal(by('tcp/inet6/:::8082').length, 1);
    assert.equal(by('tcp/inet/0.0.0.0:8082').length, 0);
    // A connection to it: the client end (owned) and the not yet accepted server end (no file, no owner).
    const conn = net('s1').sockets.filter((s) => s.macrostate === 'connected');
    assert.deepEqual(
      conn
        .map((s) => [
          s.family,
          s.state,
          s.localAddress,
          s.remoteAddress,
          s.localPort === 8082 || s.remotePort === 8082,
          s.owners.map((o) => o.pid),
        ])
        .sort(),
      [
        ['inet6', 'established', '::1', '::1', true, []],
        ['inet6', 'established', '::1', '::1', true, [sockPid]],
      ],
    );
    assert.equal(socks.length, 6);
  });

  it('reads sockets of a namespace no process is attached to, owned by a process elsewhere', () => {
    const socks = net('s2').sockets.map((s) => [
      s.protocol,
      s.family,
      s.localAddress,
      s.localPort,
      s.macrostate,
      s.owners.map((o) => o.pid),
    ]);
    assert.deepEqual(
      socks.sort(),
      [
        ['tcp', 'inet', '127.0.0.1', 9091, 'listening', [outsidePid]],
        ['udp', 'inet', '0.0.0.0', 9092, 'listening', [outsidePid]],
      ].sort(),
    );
  });

  it('answers a warm run from cached sockets with the same result', async () => {
    const again = await discoverNetworks(scanOf(fx.namespaces));
    assert.deepEqual(again.warnings, []);
    for (const n of fx.namespaces) {
      const k = String(netnsIno(n));
      // Links coming up meanwhile change operstate, link-local addresses and their routes: compare the rest.
      const volatile = new Set(['stats', 'neighbours', 'operstate', 'flags', 'addresses', 'routes']);
      const strip = (x: Draft.NetworkNamespace | undefined) =>
        JSON.stringify(x, (key, v) => (volatile.has(key) ? undefined : v));
      assert.equal(strip(again.networks[k]), strip(result.networks[k]), n);
    }
  });

  it('sees interfaces created after the previous run (no stale cache)', async () => {
    ip('-n', N('d'), 'link', 'add', 'late0', 'type', 'veth', 'peer', 'name', 'late1', 'netns', N('a'));
    const r = await discoverNetworks(scanOf(fx.namespaces));
    const late = r.networks[String(netnsIno(N('d')))]?.interfaces.find((i) => i.name === 'late0');
    assert.deepEqual(late?.veth?.peer, { netns: netnsIno(N('a')), index: ifindex(N('a'), 'late1') });
  });

  it('sees addresses, routes, rules and forwarding changed between warm runs, and routes a link took down', async () => {
    const [w] = fx.netns('w');
    assert.ok(w);
    // No IPv6 on the devices: their link going down must not bring IPv6 address/route notifications along.
    ip('netns', 'exec', w, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    ipBatch([
      `-n ${w} link add w0 type veth peer name w1`,
      `-n ${w} link set w1 up`,
      `-n ${w} link set w0 up`,
      `-n ${w} addr add 10.88.0.1/24 dev w0`,
    ]);
    const run = () => warmRun(w);
    const addrs = (n: Draft.NetworkNamespace) =>
      n.interfaces.flatMap((i) => i.addresses.map((a) => `${a.address}/${a.prefixlen}`));
    const dsts = (n: Draft.NetworkNamespace) => n.routes.filter((r) => r.table === 254).map((r) => r.dst);
    await run(); // opens and caches the sockets
    let n = await run(); // warm, nothing changed: the tables come from the previous run
    const again = await run(); // and the main thread reuses what the worker sent before
    assert.deepEqual(again.routes, n.routes);
    assert.deepEqual(
      again.interfaces.map((i) => [i.name, i.addresses]),
      n.interfaces.map((i) => [i.name, i.addresses]),
    );
    assert.deepEqual(again.rules, n.rules);
    assert.ok(n.rules.length > 0);
    assert.ok(addrs(n).includes('10.88.0.1/24'));
    assert.ok(dsts(n).includes('10.88.0.0/24'));
    const fwd = n.forwarding?.ipv4;
    assert.equal(typeof fwd, 'boolean');

    ip('-n', w, 'addr', 'add', '10.88.1.1/24', 'dev', 'w0');
    n = await run();
    assert.ok(addrs(n).includes('10.88.1.1/24'), 'new address seen');
    assert.ok(dsts(n).includes('10.88.1.0/24'), 'its prefix route seen');

    ip('-n', w, 'route', 'add', '10.99.0.0/16', 'via', '10.88.0.254');
    n = await run();
    assert.ok(dsts(n).includes('10.99.0.0/16'), 'new route seen');

    ip('-n', w, 'rule', 'add', 'from', '10.88.0.0/24', 'table', '100', 'pref', '1234');
    n = await run();
    assert.ok(
      n.rules.some((r) => r.priority === 1234),
      'new rule seen',
    );

    ip('netns', 'exec', w, 'sysctl', '-qw', `net.ipv4.conf.all.forwarding=${fwd ? 0 : 1}`);
    n = await run();
    assert.equal(n.forwarding?.ipv4, !fwd, 'forwarding change seen');

    // IPv4 flushes the routes of a device going down (fib_sync_down_dev) without RTM_DELROUTE.
    ip('-n', w, 'link', 'set', 'w0', 'down');
    n = await run();
    assert.ok(!dsts(n).includes('10.99.0.0/16'), 'route flushed with its link is gone');

    ip('-n', w, 'rule', 'del', 'pref', '1234');
    ip('-n', w, 'addr', 'del', '10.88.1.1/24', 'dev', 'w0');
    n = await run();
    assert.ok(!n.rules.some((r) => r.priority === 1234), 'deleted rule gone');
    assert.ok(!addrs(n).includes('10.88.1.1/24'), 'deleted address gone');
  });

  it('reuses unchanged links between warm runs and still sees every link change, traffic and relation', async () => {
    const [u] = fx.netns('u');
    assert.ok(u);
    // No IPv6: router solicitations and DAD would move the counters on their own.
    ip('netns', 'exec', u, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    ipBatch([
      `-n ${u} link add u0 type veth peer name u1`,
      `-n ${u} addr add 10.77.0.1/24 dev u0`,
      `-n ${u} link set u0 up`,
      `-n ${u} link set u1 up`,
      `-n ${u} link set lo up`,
    ]);
    const run = () => warmRun(u);
    const dev = (n: Draft.NetworkNamespace, name: string) => {
      const f = n.interfaces.find((i) => i.name === name);
      assert.ok(f, name);
      return f;
    };
    await run();
    const before = await run();
    const again = await run(); // links byte-identical: interfaces reused from the worker's memo
    assert.equal(JSON.stringify(again.interfaces), JSON.stringify(before.interfaces));
    assert.deepEqual(
      dev(again, 'u0').addresses.map((a) => a.address),
      ['10.77.0.1'],
    );

    // Traffic moves the counters without any notification: the link is decoded afresh and its
    // addresses (unchanged, not sent again) are put back.
    ip(
      'netns',
      'exec',
      u,
      'python3',
      '-c',
      "import socket; socket.socket(2, 2).sendto(b'x', ('10.77.0.1', 9))",
    );
    let n = await run();
    assert.ok(
      (dev(n, 'lo').stats?.rxPackets ?? 0) > (dev(before, 'lo').stats?.rxPackets ?? 0),
      'new counters seen',
    );
    assert.deepEqual(dev(n, 'u0').addresses, dev(before, 'u0').addresses, 'addresses kept');

    // A bridge's own timers (IFLA_BR_GC_TIMER…) tick without notifications: only its message is
    // decoded again each run, the others keep theirs.
    ipBatch([`-n ${u} link add ubr type bridge`, `-n ${u} addr add 10.77.1.1/24 dev ubr`]);
    n = await run();
    assert.deepEqual(
      dev(n, 'ubr').addresses.map((a) => a.address),
      ['10.77.1.1'],
    );
    ip('-n', u, 'link', 'set', 'u1', 'mtu', '1400');
    ip('-n', u, 'link', 'set', 'u1', 'master', 'ubr');
    n = await run();
    assert.equal(dev(n, 'u1').mtu, 1400, 'mtu change seen');
    assert.deepEqual(dev(n, 'u1').master, { netns: n.ino, index: dev(n, 'ubr').index }, 'master seen');
    assert.deepEqual(dev(n, 'ubr').ports, [{ netns: n.ino, index: dev(n, 'u1').index }], 'port seen');
    assert.deepEqual(dev(n, 'u0').veth?.peer, { netns: n.ino, index: dev(n, 'u1').index });

    n = await run(); // and again from the memo, relations included
    assert.deepEqual(dev(n, 'ubr').ports, [{ netns: n.ino, index: dev(n, 'u1').index }]);
    assert.deepEqual(dev(n, 'u0').veth?.peer, { netns: n.ino, index: dev(n, 'u1').index });

    ip('-n', u, 'link', 'set', 'u1', 'name', 'u9');
    ip('-n', u, 'link', 'set', 'u0', 'alias', 'uplink');
    n = await run();
    assert.ok(n.interfaces.some((i) => i.name === 'u9') && !n.interfaces.some((i) => i.name === 'u1'));
    assert.equal(dev(n, 'u0').alias, 'uplink');

    ip('-n', u, 'link', 'del', 'u0'); // takes its peer u9 along
    n = await run();
    assert.deepEqual(n.interfaces.map((i) => i.name).sort(), ['lo', 'ubr']);
    assert.deepEqual(dev(n, 'ubr').ports, [], 'port gone with its link');
  });

  it('records a warning for a namespace that cannot be opened and completes the others', async () => {
    const r = await discoverNetworks(scanOf([N('a'), N('b')], [{ ino: 1, ref: `/run/netns/${P}-missing` }]));
    assert.deepEqual(
      r.warnings.map((w) => [w.code, w.ns]),
      [['netns-vanished', 1]],
    );
    assert.equal(r.networks['1'], undefined);
    assert.deepEqual(
      r.networks[String(netnsIno(N('a')))]?.interfaces.find((i) => i.name === 'ab0')?.veth?.peer,
      ref('b', 'ba0'),
    );
  });

  it('reads a namespace held only by an open fd of another process', async () => {
    const [held] = fx.netns('fdheld');
    ip('-n', held as string, 'link', 'add', 'fdv0', 'type', 'veth', 'peer', 'name', 'fdv1', 'netns', N('a'));
    const ino = netnsIno(held as string);
    const { pid, fd } = await fx.holdNetnsFd(held as string);
    // Drop the bind mount: only the fd keeps the namespace alive now.
    ip('netns', 'del', held as string);
    const r = await discoverNetworks(
      scanOf([N('a')], [{ ino, fds: [{ pid, starttime: 0, fd }], processes: [], bindMounts: [] }]),
    );
    assert.deepEqual(r.warnings, []);
    const fdv0 = r.networks[String(ino)]?.interfaces.find((i) => i.name === 'fdv0');
    assert.deepEqual(fdv0?.veth?.peer, ref('a', 'fdv1'));
  });

  it('reads a namespace the namespace scan found held only by an fd opened through its since-deleted bind mount', async () => {
    const [held] = fx.netns('fdmnt');
    ip('-n', held as string, 'link', 'add', 'fmv0', 'type', 'veth', 'peer', 'name', 'fmv1', 'netns', N('a'));
    const ino = netnsIno(held as string);
    // Opens /run/netns/NAME: the fd's link reads as that path, and as "/" once it is unmounted.
    const { pid, fd } = await fx.holdNetnsFd(held as string);
    ip('netns', 'del', held as string);
    const scan = scanNamespaces();
    assert.deepEqual(
      scan.namespaces[String(ino)]?.fds.map((f) => [f.pid, f.fd]),
      [[pid, fd]],
    );
    const r = await discoverNetworks(scan);
    assert.deepEqual(
      r.warnings.filter((w) => w.ns === ino),
      [],
    );
    const fmv0 = r.networks[String(ino)]?.interfaces.find((i) => i.name === 'fmv0');
    assert.deepEqual(fmv0?.veth?.peer, ref('a', 'fmv1'));
  });

  it('never reads a namespace whose path now leads to another as the one the job names', async () => {
    // A is held by a process's fd besides its bind mount; then the bind mount is swapped:
    // the name now opens a new namespace B (ip netns del + add), with other interfaces.
    const [name] = fx.netns('swap');
    const n = name as string;
    ip('-n', n, 'link', 'add', 'swa0', 'type', 'veth', 'peer', 'name', 'swa1', 'netns', N('a'));
    const a = netnsIno(n);
    const { pid, fd } = await fx.holdNetnsFd(n);
    const stale = scanOf([n]);
    const withFd = scanOf([n]);
    const entry = withFd.namespaces[String(a)];
    assert.ok(entry);
    entry.fds = [{ pid, starttime: 0, fd }];
    ip('netns', 'del', n);
    ip('netns', 'add', n);
    ip('-n', n, 'link', 'add', 'swb0', 'type', 'veth', 'peer', 'name', 'swb1', 'netns', N('a'));
    const b = netnsIno(n);
    assert.notEqual(a, b);
    const names = (r: NetworkResult) => r.networks[String(a)]?.interfaces.map((i) => i.name).sort();

    // The path is passed over for the next holder, which still opens A.
    const next = await discoverNetworks(withFd, { cache: false });
    assert.deepEqual(names(next), ['lo', 'swa0']);
    assert.deepEqual(
      next.warnings.filter((w) => w.ns === a),
      [],
    );
    // No other holder: A is skipped with a warning naming it, never reported with B's interfaces.
    const only = await discoverNetworks(stale, { cache: false });
    assert.equal(only.networks[String(a)], undefined);
    const w = only.warnings.filter((x) => x.ns === a);
    assert.deepEqual(
      w.map((x) => x.code),
      ['netns-vanished'],
    );
    assert.match(w[0]?.message ?? '', new RegExp(`network namespace ${a} .*now namespace ${b}, not ${a}`));
    assert.ok(
      !Object.values(only.networks).some((x) => x.interfaces.some((i) => i.name === 'swb0' && x.ino !== b)),
    );
  });

  it('does not hang on a FIFO put at a holder path, and reads the other namespaces', async () => {
    const dir = mkdtempSync(join(tmpdir(), `${P}-`));
    const fifo = join(dir, 'ns');
    execFileSync('mkfifo', [fifo]);
    // A blocking open would wait for this writer: a regression takes 10 s instead of hanging.
    const writer = spawn('sh', ['-c', `sleep 10; echo > ${fifo}`], { stdio: 'ignore' });
    try {
      const t0 = Date.now();
      const r = await discoverNetworks(scanOf([N('c')], [{ ino: 3, ref: fifo }]), { cache: false });
      assert.ok(Date.now() - t0 < 8000, 'did not wait for a writer');
      assert.deepEqual(
        r.warnings.map((w) => [w.code, w.ns]),
        [['netns-enter-failed', 3]],
      );
      assert.match(r.warnings[0]?.message ?? '', /not a namespace file/);
      assert.ok(r.networks[String(netnsIno(N('c')))]);
    } finally {
      writer.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records a warning for a ref that is not a network namespace (setns refuses it)', async () => {
    const r = await discoverNetworks(scanOf([N('c')], [{ ino: 2, ref: '/etc/hostname' }]));
    assert.deepEqual(
      r.warnings.map((w) => [w.code, w.ns]),
      [['netns-enter-failed', 2]],
    );
    assert.match(r.warnings[0]?.message ?? '', /cannot enter network namespace 2: setns/);
    assert.ok(r.networks[String(netnsIno(N('c')))]);
  });

  it('leaves a link unresolved, never guessed, when the peer namespace is not in the scan', async () => {
    const r = await discoverNetworks(scanOf([N('a')]));
    const ab0 = r.networks[String(netnsIno(N('a')))]?.interfaces.find((i) => i.name === 'ab0');
    assert.equal(ab0?.veth?.peer, undefined);
    assert.deepEqual(ab0?.linkUnresolved, { netnsId: ab0?.linkNetnsId, index: ifindex(N('b'), 'ba0') });
  });

  it('with the namespace stage scan: takes owners and tap holders from its fd pass, fresh every run', async () => {
    const s1 = String(netnsIno(N('s1')));
    const owners = (r: NetworkResult, port: number) =>
      r.networks[s1]?.sockets
        .filter((s) => s.localPort === port && !s.synthetic)
        .flatMap((s) => s.owners.map((o) => o.pid));
    const scan = scanNamespaces();
    assert.ok(scan.fdOwners, 'the namespace scan hands over the socket and tun fds it saw');
    const first = await discoverNetworks(scan);
    assert.deepEqual(owners(first, 8081), [sockPid]);
    const none = await discoverNetworks({ ...scan, fdOwners: { sockets: new Map(), tuns: [] } });
    assert.deepEqual(owners(none, 8081), [], 'owners come from the scan alone: no second fd scan');
    // A process started after that scan: the next scan sees it (no stale owner cache).
    const late = await fx.sockets(['tcp,4,0.0.0.0,8090'], { netns: N('s1') });
    const second = await discoverNetworks(scanNamespaces());
    assert.deepEqual(owners(second, 8081), [sockPid]);
    assert.deepEqual(owners(second, 8090), [late.child.pid]);
    assert.deepEqual(
      second.networks[String(netnsIno(N('s2')))]?.sockets.map((s) => s.owners.map((o) => o.pid)),
      [[outsidePid], [outsidePid]],
    );
    const tapOf = (r: NetworkResult) =>
      r.networks[String(netnsIno(N('t1')))]?.interfaces.find((i) => i.name === `${P}t`);
    assert.deepEqual(
      tapOf(second)?.tuntap?.holders.map((h) => [h.pid, h.fd > 2]),
      [[tapPid, true]],
    );
    // A scan made without the fd source carries none: the network stage scans the fds itself, same result.
    const noFds = scanNamespaces({ sources: { fds: false } });
    assert.equal(noFds.fdOwners, undefined);
    const third = await discoverNetworks(noFds);
    assert.deepEqual(owners(third, 8081), [sockPid]);
    assert.deepEqual(owners(third, 8090), [late.child.pid]);
    assert.deepEqual(
      tapOf(third)?.tuntap?.holders.map((h) => h.pid),
      [tapPid],
    );
  });
});
