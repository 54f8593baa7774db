import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../model/freeze.js';
import type { Discovery, Draft } from '../../model/types.js';
import { BLUE, GUEST, HOST, INNER_PIDNS, POD, POD_PIDNS, ROOT_PIDNS, sampleDiscovery } from '../fixtures.js';
import type { DiscoveryResult, Netns, NetworkInterface } from './schema.js';
import { toGhostwireV1 } from './transform.js';
import { v1Errors, validateV1 } from './validate.js';

/** Every v1 document a test produces must validate; this is the one way tests get one. */
function v1(d: Draft.Discovery = sampleDiscovery()): DiscoveryResult {
  const doc = toGhostwireV1(deepFreeze(d) as Discovery);
  assert.deepEqual(v1Errors(doc), [], 'the v1 document validates against the v1 schema');
  return doc;
}

const netns = (doc: DiscoveryResult, ino: number): Netns => {
  const n = doc['network-namespaces'].find((x) => x.netnsid === ino);
  assert.ok(n, `netns ${ino} is in the document`);
  return n;
};
const nif = (doc: DiscoveryResult, ino: number, name: string): NetworkInterface => {
  const i = netns(doc, ino)['network-interfaces'].find((x) => x.name === name);
  assert.ok(i, `${name} is in netns ${ino}`);
  return i;
};

/** Collects document ids and every reference, so a test can assert that none dangles. */
function danglingRefs(doc: DiscoveryResult): string[] {
  const ids = new Set<string>();
  const refs: string[] = [];
  const walk = (v: unknown, key = ''): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x, key);
      return;
    }
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'string' && v !== '' && /idrefs?$|-refs$|^idref$|^group$/.test(key)) refs.push(v);
      if (typeof v === 'string' && key === 'id') ids.add(v);
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(doc);
  return refs.filter((r) => !ids.has(r));
}

describe('Ghostwire v1 view of a native discovery', () => {
  it('names objects by kernel identity: netns-<ino>, nif-<netns>-<ifindex>, cont-<pid>, pidns-<ino>', () => {
    const doc = v1();
    assert.equal(netns(doc, HOST).id, `netns-${HOST}`);
    assert.equal(nif(doc, GUEST, 'eth0').id, `nif-${GUEST}-2`);
    assert.deepEqual(
      netns(doc, POD).containers.map((c) => c.id),
      ['cont-3000', 'cont-3100'],
    );
    assert.equal(doc['pid-namespaces'][0]?.id, `pidns-${ROOT_PIDNS}`);
  });

  it('leaves no reference dangling', () => {
    assert.deepEqual(danglingRefs(v1()), []);
  });

  it('puts the initial namespace first and the others by inode', () => {
    assert.deepEqual(
      v1()['network-namespaces'].map((n) => n.netnsid),
      [HOST, GUEST, POD, BLUE],
    );
  });

  it('gives every network namespace forwarded-ports with ipv4 and ipv6 lists', () => {
    for (const n of v1()['network-namespaces']) {
      assert.ok(Array.isArray(n['forwarded-ports'].ipv4) && Array.isArray(n['forwarded-ports'].ipv6));
    }
  });

  it('spells out a veth pair across namespaces as mutual peers', () => {
    const doc = v1();
    assert.deepEqual(nif(doc, HOST, 'veth12').peer, {
      'peer-idref': `nif-${GUEST}-2`,
      'peer-index': 2,
      'peer-name': 'eth0',
    });
    assert.deepEqual(nif(doc, GUEST, 'eth0').peer, {
      'peer-idref': `nif-${HOST}-4`,
      'peer-index': 4,
      'peer-name': 'veth12',
    });
  });

  it('relates bridge and port as slaves and master', () => {
    const doc = v1();
    assert.deepEqual(nif(doc, HOST, 'br0').slaves, [{ idref: `nif-${HOST}-4`, index: 4, name: 'veth12' }]);
    assert.deepEqual(nif(doc, HOST, 'veth12').master, { idref: `nif-${HOST}-3`, index: 3, name: 'br0' });
    assert.equal(nif(doc, HOST, 'veth12').promisc, true);
  });

  it('relates a macvlan and its parent', () => {
    const doc = v1();
    assert.deepEqual(nif(doc, GUEST, 'mv0').macvlan, { idref: `nif-${GUEST}-2`, index: 2, name: 'eth0' });
    assert.deepEqual(nif(doc, GUEST, 'eth0').macvlans, [{ idref: `nif-${GUEST}-3`, index: 3, name: 'mv0' }]);
  });

  it('gives a vxlan its underlay in another namespace and lists it as a slave of the underlay', () => {
    const doc = v1();
    assert.deepEqual(nif(doc, BLUE, 'vx42').vxlan, {
      idref: `nif-${HOST}-2`,
      vid: 42,
      'arp-proxy': false,
      'source-portrange': { low: 0, high: 0 },
      'remote-port': 4789,
      source: { source_ipv4: '10.0.2.15' },
      remote: { remote_ipv4: '10.0.2.99' },
    });
    assert.deepEqual(nif(doc, HOST, 'eth0').slaves, [{ idref: `nif-${BLUE}-5`, index: 5, name: 'vx42' }]);
  });

  it('reports a tap as kind tuntap with each holding process once, related to its tenant', () => {
    const tap = nif(v1(), BLUE, 'tap0');
    assert.equal(tap.kind, 'tuntap');
    assert.equal(tap.operstate, 'DOWN');
    assert.deepEqual(tap.tuntap, {
      mode: 'tap',
      processors: [{ pid: 1001, cmdline: 'busybox nc -l -p 80', 'container-idref': 'cont-1000' }],
    });
  });

  it('reports kind-less devices with an empty kind, physical only when not the loopback', () => {
    const doc = v1();
    assert.equal(nif(doc, HOST, 'lo').kind, '');
    assert.equal(nif(doc, HOST, 'lo').physical, false);
    assert.equal(nif(doc, HOST, 'eth0').kind, '');
    assert.equal(nif(doc, HOST, 'eth0').physical, true);
    assert.deepEqual(nif(doc, HOST, 'eth0').driverinfo, { driver: 'virtio_net', businfo: '0000:00:03.0' });
  });

  it('splits addresses by family with numeric family and scope and forever lifetimes', () => {
    const lo = nif(v1(), HOST, 'lo');
    assert.deepEqual(lo.addresses.ipv4, [
      {
        address: '127.0.0.1',
        family: 2,
        index: 1,
        'preferred-lifetime': 4294967295,
        prefixlen: 8,
        scope: 254,
        'valid-lifetime': 4294967295,
      },
    ]);
    assert.equal(lo.addresses.ipv6[0]?.family, 10);
    assert.equal(lo.addresses.mac, '00:00:00:00:00:00');
  });

  it('emits route next hops as both next-hop and nexthop, for every table', () => {
    const routes = netns(v1(), HOST).routes;
    const def = routes.ipv4.find((r) => r.destination === '0.0.0.0' && r['destination-prefixlen'] === 0);
    assert.deepEqual(def, {
      family: 2,
      type: 'unicast',
      destination: '0.0.0.0',
      'destination-prefixlen': 0,
      preference: '00',
      priority: 100,
      table: 254,
      index: 2,
      'network-interface-idref': `nif-${HOST}-2`,
      'next-hop': '10.0.2.2',
      nexthop: '10.0.2.2',
    });
    assert.deepEqual(
      [...new Set(routes.ipv4.map((r) => r.table))].sort((a, b) => a - b),
      [100, 254, 255],
    );
  });

  it('turns a multipath route into one route per path', () => {
    const mp = netns(v1(), HOST).routes.ipv4.filter((r) => r.destination === '192.168.99.0');
    assert.deepEqual(
      mp.map((r) => [r.table, r.index, r['next-hop']]),
      [
        [100, 2, '10.0.2.2'],
        [100, 3, '172.20.0.2'],
      ],
    );
  });

  it('gives device-less routes index 0 and an empty interface reference, and keeps the IPv6 preference', () => {
    const bh = netns(v1(), HOST).routes.ipv6.find((r) => r.type === 'blackhole');
    assert.equal(bh?.index, 0);
    assert.equal(bh?.['network-interface-idref'], '');
    assert.equal(bh?.preference, '01');
    assert.equal(bh?.['next-hop'], undefined);
  });

  it('lists transport ports with owners, their tenant and the interfaces carrying their address', () => {
    const doc = v1();
    const [listen] = netns(doc, GUEST)['transport-ports'].ipv4;
    assert.deepEqual(listen, {
      family: 2,
      protocol: 'tcp',
      'local-address': '0.0.0.0',
      'local-port': 80,
      'local-servicename': 'http',
      'remote-address': '0.0.0.0',
      'remote-port': 0,
      'remote-servicename': '',
      state: 'listening',
      macrostate: 'listening',
      // busybox(1001) is a child of the tenant sleep(1000).
      owners: [{ pid: 1001, cmdline: 'busybox nc -l -p 80', 'container-idref': 'cont-1000' }],
      'network-interface-idrefs': [`nif-${GUEST}-1`, `nif-${GUEST}-2`, `nif-${GUEST}-3`],
    });
  });

  it('shows an unconnected UDP socket as v1 does: state closed, macrostate listening', () => {
    const udp = netns(v1(), GUEST)['transport-ports'].ipv4.find((p) => p.protocol === 'udp');
    assert.equal(udp?.state, 'closed');
    assert.equal(udp?.macrostate, 'listening');
    assert.deepEqual(udp?.['network-interface-idrefs'], [`nif-${GUEST}-2`]);
  });

  it('marks the synthetic IPv4 twin of a dual-stack socket as v4mapped and orders listening first', () => {
    const ports = netns(v1(), HOST)['transport-ports'];
    assert.deepEqual(
      ports.ipv4.map((p) => [p['local-address'], p.macrostate, p.v4mapped ?? false]),
      [
        ['0.0.0.0', 'listening', false],
        ['0.0.0.0', 'listening', true],
        ['10.0.2.15', 'connected', false],
      ],
    );
    assert.equal(ports.ipv6.length, 1);
  });

  it('passes forwarded ports on with their destination namespace and serving process', () => {
    assert.deepEqual(netns(v1(), HOST)['forwarded-ports'].ipv4, [
      {
        family: 2,
        protocol: 'tcp',
        ip: '0.0.0.0',
        port: 8080,
        servicename: '',
        'forward-ip': '172.20.0.2',
        'forward-port': 80,
        'forward-servicename': 'http',
        netnsid: GUEST,
        owners: [{ pid: 1001, cmdline: 'busybox nc -l -p 80', 'container-idref': 'cont-1000' }],
        'network-interface-refs': [`nif-${HOST}-1`, `nif-${HOST}-2`, `nif-${HOST}-3`, `nif-${HOST}-4`],
      },
    ]);
  });

  it('shows stand-alone processes as proc containers with cmdline, 0x capbnd and DNS, hiding kthreadd', () => {
    const [init, ...rest] = netns(v1(), HOST).containers;
    assert.equal(rest.length, 0, 'kthreadd is not shown');
    assert.deepEqual(init, {
      id: 'cont-1',
      pid: 1,
      pidns: ROOT_PIDNS,
      'pidns-idref': `pidns-${ROOT_PIDNS}`,
      cmdline: '/sbin/init',
      dns: {
        'uts-hostname': 'testhost',
        'etc-hostname': 'testhost',
        domainname: '',
        nameservers: ['10.0.2.3'],
        searchlist: ['example.org'],
        'etc-hosts': [
          { name: 'localhost', address: '127.0.0.1' },
          { name: 'localhost', address: '::1' },
          { name: 'ip6-localhost', address: '::1' },
        ],
      },
      name: 'init(1)',
      type: 'proc',
      'type-text': 'Process',
      status: 'running',
      capbnd: '0x1ffffffffff',
    });
  });

  it('drops /etc/hosts lines without a valid address rather than emitting an invalid document', () => {
    const [c] = netns(v1(), GUEST).containers;
    assert.deepEqual(c?.dns['etc-hosts'], []);
    assert.equal(c?.dns['uts-hostname'], 'guest1');
  });

  it('describes engine containers with type, labels, prefix, api path, status and their pod', () => {
    const n = netns(v1(), POD);
    const nginx = n.containers.find((c) => c.pid === 3100);
    assert.deepEqual(
      {
        name: nginx?.name,
        type: nginx?.type,
        typeText: nginx?.['type-text'],
        status: nginx?.status,
        prefix: nginx?.prefix,
        api: nginx?.['api-path'],
        cid: nginx?.['container-id'],
        group: nginx?.group,
        pidnsRef: nginx?.['pidns-idref'],
      },
      {
        name: 'nginx',
        type: 'CRI',
        typeText: 'CRI',
        status: 'paused',
        prefix: 'kind-control-plane',
        api: '/proc/77/root/run/containerd/containerd.sock',
        cid: 'k8s-nginx',
        group: `group-${POD}-pod-mypod`,
        pidnsRef: `pidns-${INNER_PIDNS}`,
      },
    );
    assert.equal(
      nginx?.labels?.['gostwire/container/privileged'],
      '',
      'privileged containers carry the label',
    );
    assert.equal(nginx?.labels?.['com.docker.compose.project'], 'shop');
    assert.equal(
      n.containers.find((c) => c.pid === 3000)?.status,
      'running',
      'containerd RUNNING is running',
    );
    // Only pods are v1 container groups; compose projects travel as labels.
    assert.deepEqual(n['container-groups'], [
      {
        id: `group-${POD}-pod-mypod`,
        name: 'mypod',
        type: 'pod',
        'type-text': 'Pod',
        'container-idrefs': ['cont-3000', 'cont-3100'],
      },
    ]);
  });

  it('shows a namespace without processes as one bindmount container named after its mount path', () => {
    assert.deepEqual(netns(v1(), BLUE).containers, [
      {
        id: `bmnt-${BLUE}`,
        name: '/run/netns/blue',
        type: 'bindmount',
        'type-text': 'Bind-mounted',
        pid: 0,
        pidns: 0,
        'pidns-idref': '',
        status: 'running',
        cmdline: '',
        dns: { 'etc-hosts': [], nameservers: [], searchlist: [] },
      },
    ]);
  });

  it('nests PID namespaces as a tree listing the containers started in each', () => {
    assert.deepEqual(v1()['pid-namespaces'], [
      {
        id: `pidns-${ROOT_PIDNS}`,
        pidnsid: ROOT_PIDNS,
        'container-idrefs': [],
        children: [
          {
            id: `pidns-${POD_PIDNS}`,
            pidnsid: POD_PIDNS,
            'container-idrefs': ['cont-3000'],
            children: [
              {
                id: `pidns-${INNER_PIDNS}`,
                pidnsid: INNER_PIDNS,
                'container-idrefs': ['cont-3100'],
                children: [],
              },
            ],
          },
        ],
      },
    ]);
  });

  it('takes the metadata from the discovery, the host name from the initial namespace', () => {
    assert.deepEqual(v1().metadata, {
      creator: 'wirescope Linux virtual networking discovery',
      'creator-id': 'wirescope',
      'creator-version': '0.1.0',
      'creation-timestamp': '2026-11-23T11:00:00.000Z',
      hostname: 'testhost',
      'container-engines': [
        {
          id: 'containerd-1',
          type: 'containerd',
          pid: 77,
          api: '/proc/77/root/run/containerd/containerd.sock',
        },
      ],
    });
  });

  it('describes the host as Ghostwire does: name, OS, kernel, CPUs and every engine', () => {
    const d = sampleDiscovery();
    d.host = {
      hostname: 'edge1',
      os: {
        prettyName: 'Debian GNU/Linux 12 (bookworm)',
        name: 'Debian GNU/Linux',
        version: '12 (bookworm)',
        id: 'debian',
        versionId: '12',
        source: '/proc/1/root/etc/os-release',
      },
      kernelRelease: '6.1.0-18-amd64',
      cpus: {
        online: [
          [0, 3],
          [8, 8],
        ],
        count: 5,
      },
    };
    d.engines['docker-9'] = {
      id: 'docker-9',
      type: 'docker',
      version: '24.0.7',
      api: '/proc/9/root/run/docker.sock',
      pid: 9,
      starttime: 90,
    };
    const doc = v1(d);
    assert.deepEqual(v1Errors(doc), []);
    const { 'creation-timestamp': _, ...md } = doc.metadata ?? {};
    assert.deepEqual(md, {
      creator: 'wirescope Linux virtual networking discovery',
      'creator-id': 'wirescope',
      'creator-version': '0.1.0',
      hostname: 'edge1',
      'osrel-name': 'Debian GNU/Linux',
      'osrel-version': '12 (bookworm)',
      'osrel-pretty-name': 'Debian GNU/Linux 12 (bookworm)',
      'kernel-version': '6.1.0-18-amd64',
      cpus: [
        [0, 3],
        [8, 8],
      ],
      'cpu-count': 5,
      'container-engines': [
        {
          id: 'containerd-1',
          type: 'containerd',
          pid: 77,
          api: '/proc/77/root/run/containerd/containerd.sock',
        },
        { id: 'docker-9', type: 'docker', version: '24.0.7', pid: 9, api: '/proc/9/root/run/docker.sock' },
      ],
    });
  });

  it('is deterministic: the same discovery in another record order gives the same document', () => {
    const d = sampleDiscovery();
    const shuffled = sampleDiscovery();
    shuffled.networks = Object.fromEntries(Object.entries(shuffled.networks).reverse());
    shuffled.namespaces = Object.fromEntries(Object.entries(shuffled.namespaces).reverse());
    for (const n of Object.values(shuffled.networks)) n.interfaces.reverse();
    assert.deepEqual(v1(shuffled), v1(d));
  });

  it('omits a wire whose far end was not discovered instead of pointing nowhere', () => {
    const d = sampleDiscovery();
    delete d.networks[GUEST];
    const doc = v1(d);
    assert.equal(nif(doc, HOST, 'veth12').peer, undefined);
    assert.deepEqual(danglingRefs(doc), []);
  });

  it('names an fd-held namespace after the fd when no bind mount holds it', () => {
    const d = sampleDiscovery();
    const rec = d.namespaces[`${BLUE}`];
    assert.ok(rec);
    rec.bindMounts = [];
    rec.fds = [{ pid: 1000, starttime: 10000, fd: 7 }];
    assert.equal(netns(v1(d), BLUE).containers[0]?.name, '/proc/1000/fd/7');
  });

  it('has a validator that rejects what v1 clients would trip over', () => {
    const doc = JSON.parse(JSON.stringify(v1())) as Record<string, unknown>;
    const first = (doc['network-namespaces'] as Record<string, unknown>[])[0];
    assert.ok(first);
    delete first['forwarded-ports'];
    assert.equal(validateV1(doc), false, 'a namespace without forwarded-ports is invalid');
    const again = JSON.parse(JSON.stringify(v1())) as DiscoveryResult;
    const c = again['network-namespaces'][0]?.containers[0];
    assert.ok(c);
    c.capbnd = '1ffffffffff';
    assert.match(v1Errors(again).join('\n'), /capbnd/);
  });

  it('marks a CRI pod sandbox as such, from the runtime labels', () => {
    const n = netns(v1(), POD);
    assert.deepEqual(
      n.containers.map((c) => [c.name, c.sandbox]),
      [
        ['k8s_POD_mypod', true],
        ['nginx', false],
      ],
    );
  });

  it('keeps group ids unique when a group spans namespaces', () => {
    const d = sampleDiscovery();
    const pod = d.networks[`${POD}`];
    const nginx = pod?.tenants.pop();
    assert.ok(nginx);
    const other = { ...pod, ino: 4026533000, tenants: [nginx], interfaces: [] } as Draft.NetworkNamespace;
    d.networks[`${other.ino}`] = other;
    const doc = v1(d);
    const ids = doc['network-namespaces'].flatMap((n) => n['container-groups'].map((g) => g.id));
    assert.deepEqual(ids, [`group-${POD}-pod-mypod`, 'group-4026533000-pod-mypod']);
    assert.deepEqual(danglingRefs(doc), []);
  });

  it('merges forwarded ports that read the same in v1 (one per source natively)', () => {
    const d = sampleDiscovery();
    const host = d.networks[`${HOST}`];
    const fp = host?.forwardedPorts[0];
    assert.ok(host && fp);
    host.forwardedPorts.push({
      ...fp,
      source: 'docker-proxy',
      owners: [{ pid: 500, starttime: 5000, comm: 'docker-proxy', cmdline: ['docker-proxy'] }],
    });
    const fwd = netns(v1(d), HOST)['forwarded-ports'].ipv4;
    assert.equal(fwd.length, 1);
    assert.deepEqual(
      fwd[0]?.owners.map((o) => o.pid),
      [1001, 500],
    );
  });

  it('does not list a vxlan among the ports of a bridge it runs over', () => {
    const d = sampleDiscovery();
    const vx = d.networks[`${BLUE}`]?.interfaces.find((i) => i.name === 'vx42');
    assert.ok(vx?.vxlan);
    vx.vxlan.underlay = { netns: HOST, index: 3 };
    const doc = v1(d);
    assert.deepEqual(
      nif(doc, HOST, 'br0').slaves?.map((s) => s.name),
      ['veth12'],
    );
    assert.equal(nif(doc, BLUE, 'vx42').vxlan?.idref, `nif-${HOST}-3`);
    assert.equal(nif(doc, HOST, 'eth0').slaves, undefined);
  });

  it('passes a forwarded destination prefix on as address plus prefix length, with the interfaces inside it', () => {
    const d = sampleDiscovery();
    const host = d.networks[`${HOST}`];
    const fp = host?.forwardedPorts[0];
    assert.ok(host && fp);
    fp.hostAddress = '172.20.0.0/16';
    const [f] = netns(v1(d), HOST)['forwarded-ports'].ipv4;
    assert.equal(f?.ip, '172.20.0.0');
    assert.equal(f?.['ip-prefixlen'], 16);
    assert.deepEqual(f?.['network-interface-refs'], [`nif-${HOST}-3`], 'br0 carries 172.20.0.1/16');
  });

  it('shows a tenant listed twice once', () => {
    const d = sampleDiscovery();
    const guest = d.networks[`${GUEST}`];
    const t = guest?.tenants[0];
    assert.ok(guest && t);
    guest.tenants.push({ ...t });
    assert.deepEqual(
      netns(v1(d), GUEST).containers.map((c) => c.id),
      ['cont-1000'],
    );
  });

  it('gives a vlan its id, EtherType and parent (as master, like Ghostwire), and lists it under the parent', () => {
    const d = sampleDiscovery();
    const host = d.networks[`${HOST}`];
    const eth0 = host?.interfaces.find((i) => i.name === 'eth0');
    assert.ok(host && eth0);
    host.interfaces.push({
      ...eth0,
      index: 7,
      name: 'eth0.100',
      kind: 'vlan',
      physical: undefined,
      addresses: [],
      link: { netns: HOST, index: 2 },
      vlan: { id: 100, protocol: '802.1ad', parent: { netns: HOST, index: 2 } },
    });
    const doc = v1(d);
    const vlan = nif(doc, HOST, 'eth0.100');
    assert.deepEqual(vlan.vlan, { vid: 100, 'vlan-protocol': 0x88a8 });
    assert.deepEqual(vlan.master, { idref: `nif-${HOST}-2`, index: 2, name: 'eth0' });
    assert.deepEqual(
      nif(doc, HOST, 'eth0').slaves?.map((x) => x.name),
      ['eth0.100', 'vx42'],
    );
  });

  it('relates bond slaves to their bond and an ipvlan to its parent', () => {
    const d = sampleDiscovery();
    const guest = d.networks[`${GUEST}`];
    const eth0 = guest?.interfaces.find((i) => i.name === 'eth0');
    assert.ok(guest && eth0);
    const base = { ...eth0, addresses: [], veth: undefined, link: undefined, linkNetnsId: undefined };
    guest.interfaces.push(
      {
        ...base,
        index: 10,
        name: 'bond0',
        kind: 'bond',
        bond: { mode: 'active-backup' },
        ports: [{ netns: GUEST, index: 11 }],
      },
      { ...base, index: 11, name: 'dummy0', kind: 'dummy', master: { netns: GUEST, index: 10 } },
      {
        ...base,
        index: 12,
        name: 'ipv0',
        kind: 'ipvlan',
        ipvlan: { mode: 'l2', flags: [], parent: { netns: GUEST, index: 10 } },
      },
    );
    const doc = v1(d);
    assert.deepEqual(
      nif(doc, GUEST, 'bond0').slaves?.map((x) => x.name),
      ['dummy0'],
    );
    assert.deepEqual(nif(doc, GUEST, 'dummy0').master?.name, 'bond0');
    assert.deepEqual(nif(doc, GUEST, 'ipv0').macvlan?.name, 'bond0');
    assert.deepEqual(
      nif(doc, GUEST, 'bond0').macvlans?.map((x) => x.name),
      ['ipv0'],
    );
    assert.equal(nif(doc, GUEST, 'ipv0').peer, undefined);
  });

  it('names engine networks on their bridges as Ghostwire does: alias and gostwire/ labels', () => {
    const br = nif(v1(), HOST, 'br0');
    assert.equal(br.alias, 'backend');
    assert.deepEqual(br.labels, { 'gostwire/network/name': 'backend' });
    const d = sampleDiscovery();
    const b = d.networks[`${HOST}`]?.interfaces.find((i) => i.name === 'br0');
    assert.ok(b?.network);
    b.alias = 'my own alias';
    b.network = { ...b.network, internal: true, default: true };
    const again = nif(v1(d), HOST, 'br0');
    assert.equal(again.alias, 'my own alias', 'an alias of its own is kept');
    assert.deepEqual(again.labels, {
      'gostwire/network/name': 'backend',
      'gostwire/bridge/internal': 'true',
      'gostwire/network/default-bridge': 'true',
    });
  });

  it('still emits a valid document from odd native data: unknown states and types, vanished processes, dangling ids', () => {
    const d = sampleDiscovery();
    const host = d.networks[`${HOST}`];
    const guest = d.networks[`${GUEST}`];
    assert.ok(host && guest);
    const eth0 = host.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0);
    eth0.operstate = '7';
    eth0.mac = 'AA:BB:CC:DD:EE:FF:00:11';
    host.routes.push({ ...host.routes[0]!, type: 'RouteType(42)', pref: 'invalid', metric: undefined });
    host.sockets.push({
      ...host.sockets[0]!,
      state: 'bogus',
      macrostate: 'unconnected',
      owners: [{ pid: 99999, starttime: 1, comm: 'gone', cmdline: [] }],
    });
    delete d.processes[1000]; // the guest tenant vanished between the scans
    guest.tenants[0]!.container = 'no-such-container';
    const pod = d.containers['k8s-nginx'];
    assert.ok(pod);
    pod.engine = 'no-such-engine';
    pod.groups = ['no-such-group', 'pod-mypod'];
    pod.state = 'weird';
    d.processes[3000]!.capBnd = 'garbage';
    const doc = v1(d);
    assert.deepEqual(danglingRefs(doc), []);
    const e = nif(doc, HOST, 'eth0');
    assert.equal(e.operstate, 'UNKNOWN');
    assert.equal(e.addresses.mac, 'aa:bb:cc:dd:ee:ff:00:11');
    const odd = netns(doc, HOST).routes.ipv4.at(-1);
    assert.deepEqual([odd?.type, odd?.preference, odd?.priority], ['unspec', '10', 0]);
    const gone = netns(doc, HOST)['transport-ports'].ipv4.find((p) => p.owners[0]?.pid === 99999);
    assert.deepEqual(
      gone?.owners,
      [{ pid: 99999, cmdline: 'gone' }],
      'an unknown owner keeps its name, with no tenant',
    );
    assert.equal(gone?.state, 'closed');
    const [sleeper] = netns(doc, GUEST).containers;
    assert.deepEqual(
      [sleeper?.type, sleeper?.name, sleeper?.cmdline, sleeper?.capbnd],
      ['proc', 'sleep(1000)', 'sleep', undefined],
    );
    const nginx = netns(doc, POD).containers.find((c) => c.pid === 3100);
    assert.deepEqual(
      [nginx?.status, nginx?.['api-path'], nginx?.group],
      ['running', undefined, `group-${POD}-pod-mypod`],
    );
    assert.equal(
      netns(doc, POD).containers.find((c) => c.pid === 3000)?.capbnd,
      undefined,
      'unreadable, not zero',
    );
  });
});
