/**
 * The views over a real topology built in the kernel: a hub namespace (held
 * only by its bind mount) with a bridge, two guest namespaces wired to it by
 * veths, addresses, routes in two tables, and a process listening on TCP.
 * Asserts the exact v1 content (validated against the v1 schema), the text
 * tree, and `wirescope discover` end to end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { Fixtures, starttimeOf } from '../namespaces/testing/fixtures.js';
import { closeNetworkDiscovery } from '../network/discover.js';
import { eventually, poll } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { mobyshark } from './ghostwire-v1/mobyshark.js';
import type { DiscoveryResult, Netns, NetworkInterface } from './ghostwire-v1/schema.js';
import { toGhostwireV1 } from './ghostwire-v1/transform.js';
import { v1Errors, validateTargets } from './ghostwire-v1/validate.js';
import { renderTextTree } from './text-tree.js';

const ifindex = (ns: string, dev: string): number =>
  (JSON.parse(ip('-j', '-n', ns, 'link', 'show', 'dev', dev)) as { ifindex: number }[])[0]?.ifindex ?? -1;

/**
 * Waits until `pid` (in its own netns) listens on TCP `port`: busybox nc
 * binds a dual-stack IPv6 socket, so /proc/PID/net/tcp6 (state 0A = LISTEN).
 */
async function waitListening(pid: number, port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  await eventually(
    `process ${pid} to listen on ${port}`,
    () => {
      try {
        const lines = ['tcp', 'tcp6'].flatMap((f) =>
          readFileSync(`/proc/${pid}/net/${f}`, 'utf8').split('\n'),
        );
        return lines.some((l) => l.includes(hex) && l.trim().split(/\s+/)[3] === '0A');
      } catch {
        return false; // not yet there
      }
    },
    { timeoutMs: 10_000, intervalMs: 20 },
  );
}

/** The name /etc/services gives 8080/tcp here ("http-alt" on Debian), or "". */
const service8080 = (() => {
  try {
    const line = readFileSync('/etc/services', 'utf8')
      .split('\n')
      .find((l) => /^\S+\s+8080\/tcp\b/.test(l));
    return line?.split(/\s+/)[0] ?? '';
  } catch {
    return '';
  }
})();

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

describe('views of a real topology', () => {
  const fx = new Fixtures();
  const p = uniquePrefix();
  const [H, A, B] = [`${p}h`, `${p}a`, `${p}b`];
  let hub = 0;
  let nsA = 0;
  let nsB = 0;
  let ncPid = 0;
  let tapPid = 0;
  let d: Discovery;
  let doc: DiscoveryResult;

  before(async () => {
    try {
      hub = fx.netnsAdd(H);
      nsA = fx.netnsAdd(A);
      nsB = fx.netnsAdd(B);
      ip('-n', H, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', H, 'addr', 'add', '10.77.0.1/24', 'dev', 'br0');
      ip('-n', H, 'link', 'set', 'br0', 'up');
      for (const [guest, port, addr] of [
        [A, 'va', '10.77.0.2/24'],
        [B, 'vb', '10.77.0.3/24'],
      ] as const) {
        ip('-n', H, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guest);
        ip('-n', H, 'link', 'set', port, 'master', 'br0', 'up');
        ip('-n', guest, 'addr', 'add', addr, 'dev', 'eth0');
        ip('-n', guest, 'link', 'set', 'eth0', 'up');
        ip('-n', guest, 'link', 'set', 'lo', 'up');
      }
      ip('-n', A, 'route', 'add', 'default', 'via', '10.77.0.1');
      ip('-n', A, 'route', 'add', '192.168.55.0/24', 'via', '10.77.0.1', 'table', '100');
      // `ip netns exec` execs the command: the child's PID is the listener's.
      const nc = fx.start(['ip', 'netns', 'exec', A, 'busybox', 'nc', '-l', '-p', '8080']);
      ncPid = nc.pid ?? 0;
      await waitListening(ncPid, 8080);
      // A macvlan on A's veth; a vxlan created in the hub over br0 and moved
      // into B, so its underlay stays behind in another namespace.
      ip('-n', A, 'link', 'add', 'mv0', 'link', 'eth0', 'type', 'macvlan', 'mode', 'bridge');
      ip(
        '-n',
        H,
        'link',
        'add',
        'vx42',
        'type',
        'vxlan',
        'id',
        '42',
        'dev',
        'br0',
        'remote',
        '10.77.0.3',
        'dstport',
        '4789',
      );
      ip('-n', H, 'link', 'set', 'vx42', 'netns', B);
      // A tap in A, held open by a process (TUNSETIFF = 0x400454ca; IFF_TAP | IFF_NO_PI).
      const tap = fx.start([
        'ip',
        'netns',
        'exec',
        A,
        'python3',
        '-c',
        "import fcntl,os,struct,time\nfd=os.open('/dev/net/tun',os.O_RDWR)\n" +
          "fcntl.ioctl(fd,0x400454ca,struct.pack('16sH',b'tap0',0x1002))\ntime.sleep(1e6)",
      ]);
      tapPid = tap.pid ?? 0;
      await poll(() => ip('-n', A, 'link', 'show').includes('tap0'), Boolean, {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      d = await discover();
      doc = toGhostwireV1(d);
    } catch (err) {
      fx.cleanup();
      throw err;
    }
  });

  after(async () => {
    fx.cleanup();
    await closeNetworkDiscovery();
  });

  const netns = (ino: number): Netns => {
    const n = doc['network-namespaces'].find((x) => x.netnsid === ino);
    assert.ok(n, `netns ${ino} is in the v1 document`);
    return n;
  };
  const nif = (ino: number, name: string): NetworkInterface => {
    const i = netns(ino)['network-interfaces'].find((x) => x.name === name);
    assert.ok(i, `${name} is in netns ${ino}`);
    return i;
  };

  it('produces a v1 document that validates against the v1 schema', () => {
    assert.deepEqual(v1Errors(doc), []);
  });

  it('shows the veth wires between guests and the hub bridge from both ends', () => {
    const va = ifindex(H, 'va');
    const ethA = ifindex(A, 'eth0');
    assert.deepEqual(nif(nsA, 'eth0').peer, {
      'peer-idref': `nif-${hub}-${va}`,
      'peer-index': va,
      'peer-name': 'va',
    });
    assert.deepEqual(nif(hub, 'va').peer, {
      'peer-idref': `nif-${nsA}-${ethA}`,
      'peer-index': ethA,
      'peer-name': 'eth0',
    });
    const br = ifindex(H, 'br0');
    assert.deepEqual(nif(hub, 'va').master, { idref: `nif-${hub}-${br}`, index: br, name: 'br0' });
    assert.deepEqual(
      nif(hub, 'br0').slaves?.map((s) => s.name),
      ['va', 'vb'].sort((x, y) => ifindex(H, x) - ifindex(H, y)),
    );
    assert.equal(nif(hub, 'vb').peer?.['peer-idref'], `nif-${nsB}-${ifindex(B, 'eth0')}`);
    assert.equal(nif(hub, 'br0').kind, 'bridge');
    assert.equal(nif(nsA, 'eth0').kind, 'veth');
    assert.equal(nif(nsA, 'eth0').operstate, 'UP');
  });

  it('lists the addresses with numeric family and scope', () => {
    const ethA = ifindex(A, 'eth0');
    const [v4] = nif(nsA, 'eth0').addresses.ipv4;
    assert.deepEqual(
      { ...v4, 'preferred-lifetime': undefined, 'valid-lifetime': undefined },
      {
        address: '10.77.0.2',
        family: 2,
        index: ethA,
        prefixlen: 24,
        scope: 0,
        'preferred-lifetime': undefined,
        'valid-lifetime': undefined,
      },
    );
    assert.equal(v4?.['valid-lifetime'], 4294967295, 'a permanent address lives forever');
  });

  it('carries routes of every table with their next hop under both names', () => {
    const ethA = ifindex(A, 'eth0');
    const routes = netns(nsA).routes.ipv4;
    const def = routes.find((r) => r.table === 254 && r['destination-prefixlen'] === 0);
    assert.deepEqual(def, {
      family: 2,
      type: 'unicast',
      destination: '0.0.0.0',
      'destination-prefixlen': 0,
      preference: '00',
      priority: 0,
      table: 254,
      index: ethA,
      'network-interface-idref': `nif-${nsA}-${ethA}`,
      'next-hop': '10.77.0.1',
      nexthop: '10.77.0.1',
    });
    const t100 = routes.filter((r) => r.table === 100);
    assert.deepEqual(
      t100.map((r) => [r.destination, r['destination-prefixlen'], r['next-hop']]),
      [['192.168.55.0', 24, '10.77.0.1']],
    );
    assert.ok(
      routes.some((r) => r.table === 255 && r.type === 'local' && r.destination === '10.77.0.2'),
      'the local table is there too',
    );
  });

  it('lists the dual-stack listening port with its owning process, and its synthetic IPv4 twin', () => {
    const owners = [{ pid: ncPid, cmdline: 'busybox nc -l -p 8080', 'container-idref': `cont-${ncPid}` }];
    const ethA = ifindex(A, 'eth0');
    // A wildcard address is carried by every interface of the namespace.
    const all = (JSON.parse(ip('-j', '-n', A, 'link', 'show')) as { ifindex: number }[])
      .map((l) => `nif-${nsA}-${l.ifindex}`)
      .sort();
    assert.ok(all.includes(`nif-${nsA}-${ethA}`));
    const v6 = netns(nsA)['transport-ports'].ipv6.filter((x) => x['local-port'] === 8080);
    assert.deepEqual(
      v6.map((x) => ({ ...x, 'network-interface-idrefs': [...x['network-interface-idrefs']].sort() })),
      [
        {
          family: 10,
          protocol: 'tcp',
          'local-address': '::',
          'local-port': 8080,
          'local-servicename': service8080,
          'remote-address': '::',
          'remote-port': 0,
          'remote-servicename': '',
          state: 'listening',
          macrostate: 'listening',
          owners,
          'network-interface-idrefs': all,
        },
      ],
    );
    const v4 = netns(nsA)['transport-ports'].ipv4.filter((x) => x['local-port'] === 8080);
    assert.deepEqual(
      v4.map((x) => [x['local-address'], x.state, x.v4mapped, x.owners]),
      [['0.0.0.0', 'listening', true, owners]],
    );
    const tenant = netns(nsA).containers.find((c) => c.id === `cont-${ncPid}`);
    assert.equal(tenant?.type, 'proc');
    assert.equal(tenant?.name, `busybox(${ncPid})`);
    assert.equal(tenant?.cmdline, 'busybox nc -l -p 8080');
    assert.match(tenant?.capbnd ?? '', /^0x[0-9a-f]+$/);
    assert.ok(Array.isArray(tenant?.dns['etc-hosts']));
  });

  it('shows the process-less hub as a bind mount named after its path, with empty port lists', () => {
    const n = netns(hub);
    assert.deepEqual(
      n.containers.map((c) => [c.id, c.type, c.name, c.pid]),
      [[`bmnt-${hub}`, 'bindmount', `/run/netns/${H}`, 0]],
    );
    assert.deepEqual(n['forwarded-ports'], { ipv4: [], ipv6: [] });
    assert.deepEqual(n['transport-ports'], { ipv4: [], ipv6: [] });
  });

  it('offers the guest and the hub as capture targets', () => {
    const t = mobyshark(d);
    assert.deepEqual(validateTargets(t), []);
    const mine = t.containers.filter((x) => x.netns === nsA || x.netns === hub);
    const expected: [number, unknown[]][] = [
      [hub, ['bindmount', `/run/netns/${H}`, 0, 0, ['br0', 'va', 'vb']]],
      [nsA, ['proc', `busybox(${ncPid})`, ncPid, starttimeOf(ncPid), ['lo', 'eth0']]],
      [nsA, ['proc', `python3(${tapPid})`, tapPid, starttimeOf(tapPid), ['lo', 'eth0']]],
    ];
    assert.deepEqual(
      mine.map((x) => [x.type, x.name, x.pid, x.starttime, x['network-interfaces']]),
      expected.sort((x, y) => x[0] - y[0]).map((x) => x[1]),
      'DOWN interfaces (the hub lo, mv0, tap0) are no capture targets',
    );
  });

  it('spells the wires out in the text tree', () => {
    const text = renderTextTree(d, { netns: A });
    assert.match(text, new RegExp(`^netns ${nsA} \\(busybox\\(${ncPid}\\), python3\\(${tapPid}\\)\\)$`, 'm'));
    assert.match(text, new RegExp(`eth0 ⇄ va in netns ${hub} \\(/run/netns/${H}\\)`));
    assert.match(text, /10\.77\.0\.2\/24/);
    assert.match(text, /default via 10\.77\.0\.1 dev eth0/);
    assert.match(text, /table 100\n.*192\.168\.55\.0\/24 via 10\.77\.0\.1 dev eth0/);
    const svc = service8080 ? ` \\(${service8080}\\)` : '';
    assert.match(text, new RegExp(`tcp6 \\[::\\]:8080${svc} ← busybox\\(${ncPid}\\)`));
    assert.match(
      text,
      new RegExp(`tcp 0\\.0\\.0\\.0:8080${svc} \\[via dual-stack IPv6 socket\\] ← busybox\\(${ncPid}\\)`),
    );
    const hubText = renderTextTree(d, { netns: H });
    assert.match(hubText, /bind mount \/run\/netns\//);
    assert.match(
      hubText,
      new RegExp(
        `ports \\(2\\): va \\(⇄ eth0 in netns ${nsA} \\(busybox\\(${ncPid}\\), python3\\(${tapPid}\\)\\)\\), vb \\(⇄ eth0 in netns ${nsB}`,
      ),
    );
  });

  it('relates a macvlan to its parent, a vxlan to its underlay in another namespace, a tap to its holder', () => {
    const ethA = ifindex(A, 'eth0');
    const br = ifindex(H, 'br0');
    assert.deepEqual(nif(nsA, 'mv0').macvlan, { idref: `nif-${nsA}-${ethA}`, index: ethA, name: 'eth0' });
    assert.deepEqual(
      nif(nsA, 'eth0').macvlans?.map((m) => m.name),
      ['mv0'],
    );
    const vx = nif(nsB, 'vx42');
    assert.equal(vx.kind, 'vxlan');
    assert.deepEqual(vx.vxlan, {
      idref: `nif-${hub}-${br}`,
      vid: 42,
      'arp-proxy': false,
      'source-portrange': { low: 0, high: 0 },
      'remote-port': 4789,
      remote: { remote_ipv4: '10.77.0.3' },
    });
    assert.ok(
      !nif(hub, 'br0').slaves?.some((s) => s.name === 'vx42'),
      'a bridge underlay does not list its vxlan among its ports',
    );
    const tap = nif(nsA, 'tap0');
    assert.equal(tap.kind, 'tuntap');
    assert.equal(tap.tuntap?.mode, 'tap');
    assert.deepEqual(
      tap.tuntap?.processors.map((x) => [x.pid, x['container-idref']]),
      [[tapPid, `cont-${tapPid}`]],
    );
    assert.ok(netns(nsA).containers.some((c) => c.id === `cont-${tapPid}` && c.type === 'proc'));
  });

  it('wirescope discover --json prints the same topology, valid v1', () => {
    const r = spawnSync(process.execPath, [cli, 'discover', '--json', '--no-engines'], {
      encoding: 'utf8',
      maxBuffer: 256 * 2 ** 20,
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as DiscoveryResult;
    assert.deepEqual(v1Errors(out), []);
    const a = out['network-namespaces'].find((n) => n.netnsid === nsA);
    assert.equal(a?.['network-interfaces'].find((i) => i.name === 'eth0')?.peer?.['peer-name'], 'va');
  });

  it('wirescope discover --netns prints the tree of one namespace, and fails for an unknown one', () => {
    const r = spawnSync(process.execPath, [cli, 'discover', '--no-engines', '--netns', A], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`eth0 ⇄ va in netns ${hub}`));
    assert.equal(r.stdout.includes('\u001b['), false, 'no colour when stdout is not a terminal');
    const none = spawnSync(process.execPath, [cli, 'discover', '--no-engines', '--netns', `${p}-none`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(none.status, 1);
    assert.match(none.stdout, /no network namespace matches/);
  });
});
