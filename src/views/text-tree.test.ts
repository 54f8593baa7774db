import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../model/freeze.js';
import type { Discovery } from '../model/types.js';
import { BLUE, GUEST, HOST, sampleDiscovery, syntheticDiscovery } from './fixtures.js';
import { matchingNetworks, renderTextTree } from './text-tree.js';

const d = deepFreeze(sampleDiscovery()) as Discovery;
const text = renderTextTree(d);
/** The block of one namespace, from its heading to the blank line after it. */
const block = (ino: number): string => {
  const start = text.startsWith(`netns ${ino} `) ? 0 : text.indexOf(`\nnetns ${ino} `) + 1;
  assert.ok(start >= 0 && text.startsWith(`netns ${ino} `, start), `netns ${ino} has a block`);
  return text.slice(start, text.indexOf('\n\n', start));
};

describe('text tree view', () => {
  it('heads each namespace with its inode and who lives there, the host first', () => {
    const heads = text.split('\n').filter((l) => l.startsWith('netns '));
    assert.deepEqual(heads, [
      `netns ${HOST} (host)`,
      `netns ${GUEST} (sleep(1000))`,
      'netns 4026532600 (k8s_POD_mypod, kind-control-plane/nginx)',
      `netns ${BLUE} (/run/netns/blue)`,
    ]);
  });

  it('spells out veth wires across namespaces, from both ends', () => {
    assert.match(block(HOST), new RegExp(`veth12 ⇄ eth0 in netns ${GUEST} \\(sleep\\(1000\\)\\)`));
    assert.match(block(GUEST), new RegExp(`eth0 ⇄ veth12 in netns ${HOST} \\(host\\)`));
  });

  it('shows bridge ports with where they lead, and the port’s master', () => {
    assert.match(
      block(HOST),
      new RegExp(`ports \\(1\\): veth12 \\(⇄ eth0 in netns ${GUEST} \\(sleep\\(1000\\)\\)\\)`),
    );
    assert.match(block(HOST), /port of bridge br0/);
    assert.match(block(HOST), /docker network "backend"/);
  });

  it('shows macvlan parents, vxlan underlays and tap holders, and the reverse relations', () => {
    assert.match(block(GUEST), /macvlan \(bridge\) on eth0/);
    assert.match(block(GUEST), /parent of macvlan mv0/);
    assert.match(
      block(BLUE),
      new RegExp(`vxlan vni 42 remote 10.0.2.99 local 10.0.2.15 port 4789 underlay eth0 in netns ${HOST}`),
    );
    assert.match(block(HOST), new RegExp(`underlay of vxlan vx42 in netns ${BLUE} \\(/run/netns/blue\\)`));
    assert.match(block(BLUE), /tap held by busybox\(1001\)$/m);
  });

  it('lists tenants: processes with DNS, containers with engine and pod, bind mounts', () => {
    assert.match(block(HOST), /process init\(1\) \/sbin\/init/);
    assert.match(
      block(HOST),
      /dns: hostname testhost, nameservers 10\.0\.2\.3, domain example\.org, 2 \/etc\/hosts entries/,
    );
    assert.doesNotMatch(block(HOST), /kthreadd/);
    assert.match(
      text,
      /cri container kind-control-plane\/nginx paused, pid 3100, project shop, pod mypod, privileged/,
    );
    assert.match(block(BLUE), /bind mount \/run\/netns\/blue/);
  });

  it('shows addresses and routes of every table, main first and local last', () => {
    const host = block(HOST);
    assert.match(host, /10\.0\.2\.15\/24/);
    assert.match(host, /default via 10\.0\.2\.2 dev eth0 proto dhcp metric 100/);
    // proto boot is what `ip route add` sets: left out, as ip-route(8) does.
    assert.match(block(GUEST), /default via 172\.20\.0\.1 dev eth0$/m);
    assert.match(
      host,
      /192\.168\.99\.0\/24 scope link nexthop via 10\.0\.2\.2 dev eth0 weight 1 nexthop via 172\.20\.0\.2 dev br0/,
    );
    const tables = host
      .split('\n')
      .filter((l) => /table \S+$/.test(l))
      .map((l) => l.replace(/.*table /, ''));
    assert.deepEqual(tables, ['main', '100', 'local']);
  });

  it('lists listening ports with their owners, counting the other sockets', () => {
    assert.match(block(HOST), /listening ports \(3\), 1 other socket\(s\) not shown/);
    assert.match(block(HOST), /tcp6 \[::\]:22 \(ssh\) ← sshd\(500\)/);
    assert.match(block(GUEST), /udp 172\.20\.0\.2:5353 ← busybox\(1001\)/);
    assert.match(
      renderTextTree(d, { allSockets: true }),
      /tcp 10\.0\.2\.15:22 \(ssh\) ⇄ 10\.0\.2\.2:51000 ← sshd\(500\)/,
    );
  });

  it('shows forwarded ports with the namespace serving them', () => {
    assert.match(
      block(HOST),
      new RegExp(
        `tcp 0\\.0\\.0\\.0:8080 → 172\\.20\\.0\\.2:80 in netns ${GUEST} \\(sleep\\(1000\\)\\) ← busybox\\(1001\\) \\[nftables nat/DOCKER\\]`,
      ),
    );
  });

  it('ends with a summary and the warnings', () => {
    assert.match(
      text,
      /4 network namespace\(s\), 2 container\(s\), discovered in 12\.5 ms\n1 warning\(s\):\n {2}process-vanished: process 4242 vanished during the scan\n$/,
    );
  });

  it('colours only when asked, with the same text underneath', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
    const ansi = /\x1b\[[0-9;]*m/g;
    assert.doesNotMatch(text, ansi);
    const coloured = renderTextTree(d, { color: true });
    assert.match(coloured, ansi);
    assert.equal(coloured.replace(ansi, ''), text);
  });

  it('filters namespaces by inode, process, container, group or bind mount name', () => {
    const only = (f: string) => matchingNetworks(d, f).map((n) => n.ino);
    assert.deepEqual(only(String(GUEST)), [GUEST]);
    assert.deepEqual(only('sleep'), [GUEST]);
    assert.deepEqual(only('nginx'), [4026532600]);
    assert.deepEqual(only('blue'), [BLUE]);
    assert.deepEqual(only('host'), [HOST]);
    assert.deepEqual(only('shop'), [4026532600], 'a compose project');
    assert.deepEqual(only('mypod/nginx'), [4026532600], 'a member of a pod');
    assert.deepEqual(only('shop/k8s_POD_mypod'), [], 'the sandbox is not in the project');
    assert.deepEqual(only('nothing-like-this'), []);
    const t = renderTextTree(d, { netns: 'blue' });
    assert.equal(t.split('\n').filter((l) => l.startsWith('netns ')).length, 1);
    assert.match(
      renderTextTree(d, { netns: 'nothing-like-this' }),
      /no network namespace matches "nothing-like-this"/,
    );
  });

  it('marks a route on a down device linkdown, as ip-route(8) does, next hops too', () => {
    const x = sampleDiscovery();
    const host = x.networks[HOST]!;
    for (const r of host.routes) {
      r.flags = ['linkdown'];
      for (const h of r.nexthops) h.flags = ['linkdown', 'dead'];
    }
    const t = renderTextTree(deepFreeze(x) as Discovery, { netns: 'host' });
    assert.match(t, /default via 10\.0\.2\.2 dev eth0 proto dhcp metric 100 linkdown$/m);
    assert.match(t, /nexthop via 10\.0\.2\.2 dev eth0 weight 1 linkdown dead nexthop/);
  });

  it('counts the local-table routes the kernel derives from addresses unless all routes are asked for', () => {
    assert.match(
      block(HOST),
      /table local\n.*└─ 1 route\(s\) the kernel derives from addresses \(--all-routes lists them\)/,
    );
    assert.doesNotMatch(block(HOST), /local 10\.0\.2\.15\/32/);
    assert.match(renderTextTree(d, { allRoutes: true }), /local 10\.0\.2\.15\/32 dev eth0 scope host/);
  });

  it('says a DNS configuration shared by all tenants of a namespace once', () => {
    const s = sampleDiscovery();
    const host = s.networks[`${HOST}`];
    assert.ok(host);
    const dns = host.tenants[0]?.dns;
    assert.ok(dns);
    host.tenants.push({ pid: 500, starttime: 5000, comm: 'sshd', dns });
    const t = renderTextTree(deepFreeze(s) as Discovery);
    assert.equal(t.match(/nameservers 10\.0\.2\.3/g)?.length, 1);
    assert.match(
      t,
      /dns: hostname testhost, nameservers 10\.0\.2\.3, domain example\.org, 2 \/etc\/hosts entries \(all tenants\)/,
    );
  });

  it('shows policy rules only when there are more than the kernel defaults', () => {
    const rule = (priority: number, table: number, extra = {}) => ({
      family: 'inet' as const,
      priority,
      action: 'to_tbl',
      table,
      invert: false,
      ...extra,
    });
    const withRules = (rules: ReturnType<typeof rule>[]): string => {
      const s = sampleDiscovery();
      const host = s.networks[`${HOST}`];
      assert.ok(host);
      host.rules = rules;
      return renderTextTree(deepFreeze(s) as Discovery);
    };
    const defaults = [rule(0, 255), rule(32766, 254), rule(32767, 253)];
    assert.doesNotMatch(withRules(defaults), /policy rules/);
    const t = withRules([...defaults, rule(100, 100, { src: '192.168.99.0/24' })]);
    assert.match(t, /policy rules \(4\)/);
    assert.match(t, /100: from 192\.168\.99\.0\/24 lookup 100/);
    // A mark is shown with its mask unless the mask is all 32 bits, as ip-rule(8) does.
    const marks = withRules([
      ...defaults,
      rule(200, 100, { fwmark: 0x10, fwmask: 0xff }),
      rule(201, 100, { fwmark: 0x20, fwmask: 0xffffffff }),
    ]);
    assert.match(marks, /200: from all fwmark 0x10\/0xff lookup 100$/m);
    assert.match(marks, /201: from all fwmark 0x20 lookup 100$/m);
  });

  it('shows a few warnings of each kind and counts the rest', () => {
    const s = sampleDiscovery();
    for (let i = 0; i < 12; i++) {
      s.warnings.push({ code: 'netns-enter-failed', message: `cannot enter network namespace ${i}`, ns: i });
    }
    const t = renderTextTree(deepFreeze(s) as Discovery);
    assert.match(t, /13 warning\(s\):\n {2}process-vanished: process 4242 vanished during the scan\n/);
    assert.equal(t.match(/netns-enter-failed: cannot enter/g)?.length, 5);
    assert.match(t, /netns-enter-failed: … and 7 more \(--format native lists all\)\n$/);
  });

  it('names at most 16 ports of a big bridge, counting the rest', () => {
    const t = renderTextTree(deepFreeze(syntheticDiscovery(40)) as Discovery, { netns: 'host' });
    assert.match(
      t,
      /ports \(41\): veth12 \(⇄ eth0 in netns 4026532475 \(sleep\(1000\)\)\), veth0 \(⇄ eth0 in netns 4026540000 \(sleep\(100000\)\)\), /,
    );
    assert.match(t, /veth14 \(⇄ eth0 in netns 4026540014 \(sleep\(100028\)\)\), … \+25 more\n/);
  });
});
