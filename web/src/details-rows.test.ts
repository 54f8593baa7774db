import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../../src/model/types.js';
import { GUEST, HOST, POD, sampleDiscovery } from '../../src/views/fixtures.js';
import { forwardedRow, processOf, routingRows, ruleRow, servingSockets, sharedDns } from './details-rows.js';
import { buildGraph } from './graph.js';

const rule = (over: Partial<Draft.Rule>): Draft.Rule => ({
  family: 'inet',
  priority: 100,
  action: 'to_tbl',
  table: 100,
  invert: false,
  ...over,
});

describe('a namespace’s routing in its details', () => {
  it('shows a fwmark’s mask, and no mask when it is all ones (the kernel’s default)', () => {
    assert.deepEqual(ruleRow(rule({ fwmark: 0x10, fwmask: 0xff })), [
      '100',
      'inet',
      'from all fwmark 0x10/0xff',
      'lookup 100',
    ]);
    assert.equal(ruleRow(rule({ fwmark: 0x10, fwmask: 0xffffffff }))[2], 'from all fwmark 0x10');
    assert.equal(ruleRow(rule({ src: '10.0.2.0/24', invert: true, table: 254 }))[2], 'not from 10.0.2.0/24');
    assert.equal(ruleRow(rule({ table: 254 }))[3], 'lookup main');
  });

  it('names tables and devices, and lists every gateway of a multipath route', () => {
    const g = buildGraph(sampleDiscovery());
    const net = g.nets.get(HOST);
    assert.ok(net);
    const { routes } = routingRows(g, net, true);
    assert.deepEqual(routes[0], [
      'main',
      '0.0.0.0/0',
      '10.0.2.2',
      'eth0',
      'unicast',
      'dhcp',
      'universe',
      '100',
      '',
    ]);
    assert.deepEqual(routes.find((r) => r[1] === '192.168.99.0/24')?.slice(0, 4), [
      '100',
      '192.168.99.0/24',
      '10.0.2.2, 172.20.0.2',
      '',
    ]);
    assert.equal(routes.find((r) => r[1] === '10.0.2.15/32')?.[0], 'local');
  });

  it('shows IPv6 routes, rules and neighbours only with the IPv6 setting', () => {
    const d = sampleDiscovery();
    const host = d.networks[`${HOST}`];
    assert.ok(host);
    host.rules.push(rule({ family: 'inet6', priority: 5 }), rule({ priority: 6 }));
    host.neighbours.push(
      {
        family: 'inet',
        address: '10.0.2.2',
        mac: '52:54:00:12:35:02',
        dev: 2,
        state: ['reachable'],
        flags: [],
      },
      { family: 'inet6', address: 'fe80::2', dev: 2, state: ['stale'], flags: [] },
    );
    const g = buildGraph(d);
    const net = g.nets.get(HOST);
    assert.ok(net);
    const v4 = routingRows(g, net, false);
    const all = routingRows(g, net, true);
    assert.ok(v4.routes.every((r) => !r[1]?.includes(':')));
    assert.ok(all.routes.some((r) => r[1] === 'fe80::/64'));
    assert.deepEqual(
      v4.rules.map((r) => r[0]),
      ['6'],
    );
    assert.deepEqual(
      all.rules.map((r) => r[0]),
      ['5', '6'],
    );
    assert.deepEqual(v4.neighbours, [['10.0.2.2', '52:54:00:12:35:02', 'eth0', 'reachable']]);
    assert.equal(all.neighbours.length, 2);
  });
});

describe('what a namespace serves', () => {
  it('lists listening and unbound UDP sockets by port, a dual-stack IPv6 one even without the IPv6 setting', () => {
    const g = buildGraph(sampleDiscovery());
    const host = g.nets.get(HOST);
    const guest = g.nets.get(GUEST);
    assert.ok(host && guest);
    assert.deepEqual(
      servingSockets(host, false).map((s) => [s.family, s.localPort, s.state]),
      [
        ['inet', 22, 'listen'],
        ['inet6', 22, 'listen'],
        ['inet', 22, 'listen'],
      ],
      'the established ssh connection is not served',
    );
    assert.deepEqual(
      servingSockets(guest, true).map((s) => [s.protocol, s.localPort]),
      [
        ['tcp', 80],
        ['udp', 5353],
      ],
    );
  });

  it('shows a forwarded port range and the rule that forwards it', () => {
    const row = forwardedRow({
      protocol: 'tcp',
      family: 'inet',
      hostAddress: '0.0.0.0',
      hostPort: 8080,
      hostPortEnd: 8090,
      destAddress: '172.20.0.2',
      destPort: 80,
      source: 'nftables',
      chain: 'nat/DOCKER',
      netns: HOST,
      owners: [],
    });
    assert.deepEqual(row, ['tcp', '0.0.0.0:8080-8090', '172.20.0.2:80', 'nftables nat/DOCKER']);
  });

  it('lists a DNS configuration its tenants share once, naming each tenant (a container by its name)', () => {
    const d = sampleDiscovery();
    const g = buildGraph(d);
    const pod = g.nets.get(POD);
    const host = g.nets.get(HOST);
    assert.ok(pod && host);
    assert.deepEqual(
      sharedDns(g.discovery, pod).map((e) => e.who),
      [['k8s_POD_mypod', 'nginx']],
    );
    assert.deepEqual(
      sharedDns(g.discovery, host).map((e) => e.who),
      [['init (1)'], ['kthreadd (2)']],
    );
    assert.equal(processOf(g.discovery, 1000)?.comm, 'sleep');
    assert.equal(processOf(g.discovery, undefined), undefined);
  });
});
