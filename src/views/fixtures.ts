/**
 * A small, hand-built native Discovery for the views' unit tests: the shapes
 * the pipeline produces (every kind of wire the views render), without
 * needing a kernel. Integration tests cover real topologies.
 */
import type { Draft } from '../model/types.js';

export const HOST = 4026531840;
export const GUEST = 4026532475;
export const POD = 4026532600;
export const BLUE = 4026532700;
export const ROOT_PIDNS = 4026531836;
export const POD_PIDNS = 4026532800;
export const INNER_PIDNS = 4026532900;

const noDns = (): Draft.Dns => ({ hosts: [] });

function nif(netns: number, index: number, name: string, kind: string, extra: Partial<Draft.Interface> = {}) {
  const i: Draft.Interface = {
    netns,
    index,
    name,
    altnames: [],
    kind,
    operstate: 'up',
    flags: ['up', 'broadcast', 'multicast', 'lower_up'],
    mtu: 1500,
    mac: `02:00:00:00:${(netns % 256).toString(16).padStart(2, '0')}:${index.toString(16).padStart(2, '0')}`,
    addresses: [],
    ports: [],
    ...extra,
  };
  return i;
}

const lo = (netns: number) =>
  nif(netns, 1, 'lo', 'loopback', {
    operstate: 'unknown',
    flags: ['up', 'loopback', 'lower_up'],
    mac: '00:00:00:00:00:00',
    mtu: 65536,
    addresses: [
      { family: 'inet', address: '127.0.0.1', prefixlen: 8, scope: 'host', flags: ['permanent'] },
      { family: 'inet6', address: '::1', prefixlen: 128, scope: 'host', flags: ['permanent'] },
    ],
  });

const addr = (address: string, prefixlen: number): Draft.Address => ({
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  prefixlen,
  scope: 'global',
  flags: ['permanent'],
});

function route(dst: string, extra: Partial<Draft.Route> = {}): Draft.Route {
  return {
    family: dst.includes(':') ? 'inet6' : 'inet',
    type: 'unicast',
    protocol: 'kernel',
    scope: 'link',
    table: 254,
    dst,
    flags: [],
    nexthops: [],
    ...extra,
  };
}

function proc(pid: number, ppid: number, comm: string, cmdline: string[], ns: Record<string, number>) {
  const p: Draft.Process = {
    pid,
    ppid,
    starttime: pid * 10,
    comm,
    cmdline,
    uid: 0,
    cgroups: [],
    capBnd: '0x000001ffffffffff',
    namespaces: ns,
    nspid: [pid],
  };
  return p;
}

function netnsRecord(ino: number, extra: Partial<Draft.Namespace> = {}): Draft.Namespace {
  return { type: 'net', ino, dev: 4, processes: [], leaders: [], bindMounts: [], fds: [], ...extra };
}

function pidnsRecord(ino: number, parent?: number): Draft.Namespace {
  const ns: Draft.Namespace = {
    type: 'pid',
    ino,
    dev: 4,
    processes: [],
    leaders: [],
    bindMounts: [],
    fds: [],
  };
  if (parent !== undefined) ns.parent = parent;
  return ns;
}

function sock(extra: Partial<Draft.Socket>): Draft.Socket {
  return {
    protocol: 'tcp',
    family: 'inet',
    state: 'listen',
    macrostate: 'listening',
    localAddress: '0.0.0.0',
    localPort: 80,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    inode: 1,
    owners: [],
    ...extra,
  };
}

/** Host ⇄ guest veth into a bridge, a macvlan, a pod, a bind-mounted netns with a vxlan and a tap. */
export function sampleDiscovery(): Draft.Discovery {
  const hostNs = { net: HOST, pid: ROOT_PIDNS, mnt: 4026531841 };
  const processes: Record<string, Draft.Process> = {
    1: proc(1, 0, 'init', ['/sbin/init'], hostNs),
    2: proc(2, 0, 'kthreadd', [], hostNs),
    500: proc(500, 1, 'sshd', ['/usr/sbin/sshd', '-D'], hostNs),
    1000: proc(1000, 1, 'sleep', ['sleep', 'infinity'], { net: GUEST, pid: ROOT_PIDNS, mnt: 4026531841 }),
    1001: proc(1001, 1000, 'busybox', ['busybox', 'nc', '-l', '-p', '80'], {
      net: GUEST,
      pid: ROOT_PIDNS,
      mnt: 4026531841,
    }),
    3000: proc(3000, 1, 'pause', ['/pause'], { net: POD, pid: POD_PIDNS, mnt: 4026532801 }),
    3100: proc(3100, 1, 'nginx', ['nginx', '-g', 'daemon off;'], {
      net: POD,
      pid: INNER_PIDNS,
      mnt: 4026532802,
    }),
  };
  processes[3000]!.container = 'k8s-pause';
  processes[3100]!.container = 'k8s-nginx';

  const host: Draft.NetworkNamespace = {
    ino: HOST,
    isInitial: true,
    interfaces: [
      lo(HOST),
      nif(HOST, 2, 'eth0', 'physical', {
        addresses: [addr('10.0.2.15', 24)],
        physical: { driver: 'virtio_net', bus: 'pci', busAddress: '0000:00:03.0' },
        ports: [],
      }),
      nif(HOST, 3, 'br0', 'bridge', {
        addresses: [addr('172.20.0.1', 16)],
        ports: [{ netns: HOST, index: 4 }],
        bridge: { stp: false, vlanFiltering: false },
        network: { engine: 'docker', name: 'backend', id: 'abc123' },
      }),
      nif(HOST, 4, 'veth12', 'veth', {
        master: { netns: HOST, index: 3 },
        linkNetnsId: 0,
        link: { netns: GUEST, index: 2 },
        veth: { peer: { netns: GUEST, index: 2 } },
        flags: ['up', 'broadcast', 'multicast', 'promisc', 'lower_up'],
      }),
    ],
    routes: [
      route('0.0.0.0/0', { gateway: '10.0.2.2', dev: 2, metric: 100, protocol: 'dhcp', scope: 'universe' }),
      route('10.0.2.0/24', { dev: 2, prefsrc: '10.0.2.15' }),
      route('172.20.0.0/16', { dev: 3 }),
      route('192.168.99.0/24', {
        table: 100,
        nexthops: [
          { gateway: '10.0.2.2', dev: 2, weight: 1, flags: [] },
          { gateway: '172.20.0.2', dev: 3, weight: 1, flags: [] },
        ],
      }),
      route('10.0.2.15/32', { type: 'local', table: 255, dev: 2, scope: 'host' }),
      route('fe80::/64', { dev: 2, pref: 'medium', metric: 256 }),
      route('2001:db8::/32', { type: 'blackhole', table: 254, pref: 'high', metric: 1024 }),
    ],
    rules: [],
    neighbours: [],
    sockets: [
      sock({
        localPort: 22,
        service: 'ssh',
        inode: 10,
        owners: [{ pid: 500, starttime: 5000, comm: 'sshd', cmdline: ['/usr/sbin/sshd', '-D'] }],
      }),
      sock({
        family: 'inet6',
        localAddress: '::',
        remoteAddress: '::',
        localPort: 22,
        service: 'ssh',
        inode: 11,
        dualStack: true,
        owners: [{ pid: 500, starttime: 5000, comm: 'sshd', cmdline: ['/usr/sbin/sshd', '-D'] }],
      }),
      // The network stage's synthetic IPv4 twin of the dual-stack socket above.
      sock({
        localPort: 22,
        service: 'ssh',
        inode: 11,
        synthetic: true,
        owners: [{ pid: 500, starttime: 5000, comm: 'sshd', cmdline: ['/usr/sbin/sshd', '-D'] }],
      }),
      sock({
        state: 'established',
        macrostate: 'connected',
        localAddress: '10.0.2.15',
        localPort: 22,
        remoteAddress: '10.0.2.2',
        remotePort: 51000,
        service: 'ssh',
        inode: 12,
        owners: [{ pid: 500, starttime: 5000, comm: 'sshd', cmdline: ['/usr/sbin/sshd', '-D'] }],
      }),
    ],
    forwardedPorts: [
      {
        protocol: 'tcp',
        family: 'inet',
        hostAddress: '0.0.0.0',
        hostPort: 8080,
        destAddress: '172.20.0.2',
        destPort: 80,
        source: 'nftables',
        chain: 'nat/DOCKER',
        netns: HOST,
        destNetns: GUEST,
        owners: [
          { pid: 1001, starttime: 10010, comm: 'busybox', cmdline: ['busybox', 'nc', '-l', '-p', '80'] },
        ],
      },
    ],
    tenants: [
      {
        pid: 1,
        starttime: 10,
        comm: 'init',
        dns: {
          utsHostname: 'testhost',
          etcHostname: 'testhost',
          resolvConf: { nameservers: ['10.0.2.3'], search: [], domain: 'example.org', options: [] },
          hosts: [
            { address: '127.0.0.1', names: ['localhost'] },
            { address: '::1', names: ['localhost', 'ip6-localhost'] },
          ],
        },
      },
      { pid: 2, starttime: 20, comm: 'kthreadd', dns: noDns() },
    ],
    nsids: { '0': GUEST },
    forwarding: { ipv4: true, ipv6: false },
  };

  const guest: Draft.NetworkNamespace = {
    ino: GUEST,
    isInitial: false,
    interfaces: [
      lo(GUEST),
      nif(GUEST, 2, 'eth0', 'veth', {
        addresses: [addr('172.20.0.2', 16)],
        linkNetnsId: 0,
        link: { netns: HOST, index: 4 },
        veth: { peer: { netns: HOST, index: 4 } },
      }),
      nif(GUEST, 3, 'mv0', 'macvlan', {
        link: { netns: GUEST, index: 2 },
        macvlan: { mode: 'bridge', parent: { netns: GUEST, index: 2 }, macvtap: false },
        addresses: [addr('172.20.1.5', 24)],
      }),
    ],
    routes: [
      route('0.0.0.0/0', { gateway: '172.20.0.1', dev: 2, scope: 'universe', protocol: 'boot' }),
      route('172.20.0.0/16', { dev: 2, prefsrc: '172.20.0.2' }),
    ],
    rules: [],
    neighbours: [],
    sockets: [
      sock({
        localPort: 80,
        service: 'http',
        inode: 20,
        owners: [
          { pid: 1001, starttime: 10010, comm: 'busybox', cmdline: ['busybox', 'nc', '-l', '-p', '80'] },
        ],
      }),
      sock({
        protocol: 'udp',
        state: 'close',
        macrostate: 'unconnected',
        localAddress: '172.20.0.2',
        localPort: 5353,
        inode: 21,
        owners: [
          { pid: 1001, starttime: 10010, comm: 'busybox', cmdline: ['busybox', 'nc', '-l', '-p', '80'] },
        ],
      }),
    ],
    forwardedPorts: [],
    tenants: [
      {
        pid: 1000,
        starttime: 10000,
        comm: 'sleep',
        dns: { utsHostname: 'guest1', hosts: [{ address: 'not-an-ip', names: ['broken'] }] },
      },
    ],
    nsids: { '0': HOST },
  };

  const pod: Draft.NetworkNamespace = {
    ino: POD,
    isInitial: false,
    interfaces: [lo(POD)],
    routes: [],
    rules: [],
    neighbours: [],
    sockets: [],
    forwardedPorts: [],
    tenants: [
      { pid: 3000, starttime: 30000, comm: 'pause', container: 'k8s-pause', dns: noDns() },
      { pid: 3100, starttime: 31000, comm: 'nginx', container: 'k8s-nginx', dns: noDns() },
    ],
    nsids: {},
  };

  const blue: Draft.NetworkNamespace = {
    ino: BLUE,
    isInitial: false,
    interfaces: [
      lo(BLUE),
      nif(BLUE, 5, 'vx42', 'vxlan', {
        vxlan: {
          vni: 42,
          remote: '10.0.2.99',
          local: '10.0.2.15',
          port: 4789,
          underlay: { netns: HOST, index: 2 },
        },
      }),
      nif(BLUE, 6, 'tap0', 'tun', {
        operstate: 'down',
        mac: '02:aa:bb:cc:dd:ee',
        tuntap: {
          mode: 'tap',
          flags: [],
          holders: [
            { pid: 1001, starttime: 10010, comm: 'busybox', fd: 3 },
            { pid: 1001, starttime: 10010, comm: 'busybox', fd: 4 },
          ],
        },
      }),
    ],
    routes: [],
    rules: [],
    neighbours: [],
    sockets: [],
    forwardedPorts: [],
    tenants: [],
    nsids: { '3': HOST },
  };

  return {
    schema: 'wirescope/native/v1',
    startedAt: '2026-11-23T11:00:00.000Z',
    durationMs: 12.5,
    initial: { net: HOST, pid: ROOT_PIDNS, mnt: 4026531841 },
    namespaces: {
      [`${HOST}`]: netnsRecord(HOST, { processes: [1, 2, 500], leaders: [1, 2] }),
      [`${GUEST}`]: netnsRecord(GUEST, { processes: [1000, 1001], leaders: [1000] }),
      [`${POD}`]: netnsRecord(POD, { processes: [3000, 3100], leaders: [3000, 3100] }),
      [`${BLUE}`]: netnsRecord(BLUE, {
        bindMounts: [
          { path: '/run/netns/blue', mntns: 4026531841 },
          { path: '/var/run/netns/blue', mntns: 4026532999 },
        ],
      }),
      [`${ROOT_PIDNS}`]: pidnsRecord(ROOT_PIDNS),
      [`${POD_PIDNS}`]: pidnsRecord(POD_PIDNS, ROOT_PIDNS),
      [`${INNER_PIDNS}`]: pidnsRecord(INNER_PIDNS, POD_PIDNS),
    },
    processes,
    networks: { [`${HOST}`]: host, [`${GUEST}`]: guest, [`${POD}`]: pod, [`${BLUE}`]: blue },
    containers: {
      'k8s-pause': {
        id: 'k8s-pause',
        name: 'k8s_POD_mypod',
        type: 'cri',
        engine: 'containerd-1',
        state: 'RUNNING',
        labels: { 'io.kubernetes.pod.name': 'mypod', 'io.cri-containerd.kind': 'sandbox' },
        pid: 3000,
        starttime: 30000,
        netns: POD,
        privileged: false,
        groups: ['pod-mypod'],
        namespace: 'k8s.io',
      },
      'k8s-nginx': {
        id: 'k8s-nginx',
        name: 'nginx',
        type: 'cri',
        engine: 'containerd-1',
        state: 'paused',
        labels: {
          'io.kubernetes.pod.name': 'mypod',
          'io.cri-containerd.kind': 'container',
          'com.docker.compose.project': 'shop',
        },
        pid: 3100,
        starttime: 31000,
        netns: POD,
        privileged: true,
        prefix: 'kind-control-plane',
        groups: ['compose-shop', 'pod-mypod'],
      },
    },
    engines: {
      'containerd-1': {
        id: 'containerd-1',
        type: 'containerd',
        api: '/proc/77/root/run/containerd/containerd.sock',
        pid: 77,
        starttime: 770,
      },
    },
    groups: {
      'pod-mypod': {
        id: 'pod-mypod',
        name: 'mypod',
        type: 'io.kubernetes.pod',
        containers: ['k8s-pause', 'k8s-nginx'],
        labels: {},
      },
      'compose-shop': {
        id: 'compose-shop',
        name: 'shop',
        type: 'com.docker.compose.project',
        containers: ['k8s-nginx'],
        labels: {},
      },
    },
    warnings: [{ code: 'process-vanished', message: 'process 4242 vanished during the scan', pid: 4242 }],
    missingPrivileges: [],
  };
}

/**
 * A host-sized synthetic discovery: `n` namespaces, each with a veth into one
 * host bridge, an address, routes (main and local tables), a listening socket
 * and a process — the shape of the lab hosts the service must answer for.
 */
export function syntheticDiscovery(n: number): Draft.Discovery {
  const d = sampleDiscovery();
  const host = d.networks[`${HOST}`];
  const br = host?.interfaces.find((i) => i.name === 'br0');
  if (!host || !br) throw new Error('sample discovery lacks the host bridge');
  for (let k = 0; k < n; k++) {
    const ino = 4026540000 + k;
    const pid = 100000 + k * 2;
    const hostIndex = 100 + k;
    const ip = `10.${(k >> 8) & 255}.${k & 255}.2`;
    host.interfaces.push(
      nif(HOST, hostIndex, `veth${k}`, 'veth', {
        master: { netns: HOST, index: br.index },
        link: { netns: ino, index: 2 },
        veth: { peer: { netns: ino, index: 2 } },
      }),
    );
    br.ports.push({ netns: HOST, index: hostIndex });
    d.processes[pid] = proc(pid, 1, 'sleep', ['sleep', 'infinity'], {
      net: ino,
      pid: ROOT_PIDNS,
      mnt: 4026531841,
    });
    d.processes[pid + 1] = proc(pid + 1, pid, 'nc', ['nc', '-l', '-p', '8080'], {
      net: ino,
      pid: ROOT_PIDNS,
      mnt: 4026531841,
    });
    d.namespaces[`${ino}`] = netnsRecord(ino, { processes: [pid, pid + 1], leaders: [pid] });
    d.networks[`${ino}`] = {
      ino,
      isInitial: false,
      interfaces: [
        lo(ino),
        nif(ino, 2, 'eth0', 'veth', {
          addresses: [addr(ip, 16)],
          link: { netns: HOST, index: hostIndex },
          veth: { peer: { netns: HOST, index: hostIndex } },
        }),
      ],
      routes: [
        route('0.0.0.0/0', { gateway: '10.0.0.1', dev: 2, scope: 'universe' }),
        route('10.0.0.0/16', { dev: 2, prefsrc: ip }),
        route(`${ip}/32`, { type: 'local', table: 255, dev: 2, scope: 'host' }),
        route('127.0.0.0/8', { type: 'local', table: 255, dev: 1, scope: 'host' }),
        route('fe80::/64', { dev: 2, metric: 256 }),
        route('::1/128', { type: 'local', table: 255, dev: 1 }),
      ],
      rules: [],
      neighbours: [],
      sockets: [
        sock({
          localPort: 8080,
          inode: 1000000 + k,
          owners: [
            { pid: pid + 1, starttime: (pid + 1) * 10, comm: 'nc', cmdline: ['nc', '-l', '-p', '8080'] },
          ],
        }),
      ],
      forwardedPorts: [],
      tenants: [
        {
          pid,
          starttime: pid * 10,
          comm: 'sleep',
          dns: {
            utsHostname: `guest${k}`,
            resolvConf: { nameservers: ['10.0.0.1'], search: ['lab'], options: [] },
            hosts: [{ address: '127.0.0.1', names: ['localhost'] }],
          },
        },
      ],
      nsids: { '0': HOST },
    };
  }
  return d;
}
