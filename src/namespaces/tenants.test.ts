import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Draft } from '../model/types.js';
import { parseNameFile } from './hosts.js';
import { scanNamespaces } from './scan.js';
import { collectTenants } from './tenants.js';
import {
  Fixtures,
  gethostnameHere,
  nsIno,
  prefix,
  starttimeOf,
  token,
  waitForSleep,
} from './testing/fixtures.js';

describe('tenants of a container-like process', () => {
  const fx = new Fixtures();
  const host = `${prefix()}-box`;
  let leader = 0;
  let init = 0;
  let netns = 0;

  before(async () => {
    const root = fx.busyboxRoot({
      hostname: `# written by the test\n${host}\n`,
      domainname: 'wst.example\n',
      'resolv.conf':
        '# test resolver\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch a.example b.example\noptions ndots:2 edns0\n',
      hosts: '127.0.0.1 localhost\n192.0.2.10 db db.wst.example # the database\n',
    });
    const t = token();
    // The leader of the new namespaces is unshare itself, left in the host's
    // root; its child chroots into the rootfs, becomes PID 1 of the new PID
    // namespace and names the UTS namespace: a container in all but name.
    fx.start([
      'unshare',
      '--mount',
      '--uts',
      '--net',
      '--pid',
      '--fork',
      'chroot',
      root,
      '/bin/sh',
      '-c',
      `hostname ${host}-uts && mount -t proc proc /proc && echo nis.example > /proc/sys/kernel/domainname && exec sleep ${t}`,
    ]);
    [init = 0] = await waitForSleep(t);
    const scan = scanNamespaces({ namespaceTypes: ['net', 'pid'] });
    leader = scan.processes[init]?.ppid ?? 0;
    netns = nsIno(init, 'net');
  });
  after(() => fx.cleanup());

  it('reports the leader of the network namespace with its UTS names and the /etc files of its own root', () => {
    const scan = scanNamespaces();
    const { byNetns, warnings } = collectTenants(scan, {}, { dns: true });
    const tenants = byNetns.get(netns);
    assert.ok(tenants, `tenants of ${netns}; warnings: ${JSON.stringify(warnings)}`);
    assert.deepEqual(
      tenants.map((t) => t.pid),
      [leader],
    );
    const t = tenants[0];
    assert.ok(t);
    assert.equal(t.starttime, starttimeOf(leader));
    assert.equal(t.comm, 'unshare');
    assert.equal(t.dns.utsHostname, `${host}-uts`);
    assert.equal(t.dns.utsDomainname, 'nis.example');
    // unshare did not chroot: it sees the host's files, not the rootfs.
    assert.notEqual(t.dns.etcHostname, host);
    assert.equal(t.dns.etcHostname, parseNameFile(readFileSync('/etc/hostname', 'utf8')));
    // Entering the tenant's UTS namespace must not leave us in it.
    assert.notEqual(gethostnameHere(), `${host}-uts`);
  });

  it("adds a container's initial process as a tenant, tagged with the container", () => {
    const scan = scanNamespaces();
    const container: Draft.Container = {
      id: 'wst-container',
      name: 'wst',
      type: 'test',
      engine: 'test',
      state: 'running',
      labels: {},
      pid: init,
      starttime: starttimeOf(init),
      netns,
      privileged: false,
      groups: [],
    };
    const { byNetns } = collectTenants(scan, { [container.id]: container }, { dns: true });
    const tenants = byNetns.get(netns) ?? [];
    assert.deepEqual(
      tenants.map((t) => [t.pid, t.container]),
      [
        [leader, undefined],
        [init, 'wst-container'],
      ].sort((a, b) => Number(a[0]) - Number(b[0])),
    );
    const t = tenants.find((x) => x.pid === init);
    assert.ok(t);
    assert.equal(t.dns.utsHostname, `${host}-uts`);
    assert.equal(t.dns.utsDomainname, 'nis.example');
    assert.equal(t.dns.etcHostname, host);
    assert.equal(t.dns.etcDomainname, 'wst.example');
    assert.deepEqual(t.dns.resolvConf, {
      nameservers: ['192.0.2.53', '2001:db8::53'],
      search: ['a.example', 'b.example'],
      options: ['ndots:2', 'edns0'],
    });
    assert.deepEqual(t.dns.hosts, [
      { address: '127.0.0.1', names: ['localhost'] },
      { address: '192.0.2.10', names: ['db', 'db.wst.example'] },
    ]);
  });

  it('finds the chrooted process as the leader of its PID namespace', () => {
    const scan = scanNamespaces({ namespaceTypes: ['pid'] });
    const pidns = scan.namespaces[nsIno(init, 'pid')];
    assert.deepEqual(pidns?.leaders, [init]);
    assert.deepEqual(scan.processes[init]?.nspid, [init, 1]);
  });

  it('ignores a container whose process was replaced (same PID, other starttime)', () => {
    const scan = scanNamespaces();
    const stale: Draft.Container = {
      id: 'wst-stale',
      name: 'stale',
      type: 'test',
      engine: 'test',
      state: 'running',
      labels: {},
      pid: init,
      starttime: starttimeOf(init) - 1,
      netns,
      privileged: false,
      groups: [],
    };
    const { byNetns, warnings } = collectTenants(scan, { [stale.id]: stale }, { dns: false });
    assert.ok(!(byNetns.get(netns) ?? []).some((t) => t.container === 'wst-stale'));
    assert.ok(warnings.some((w) => w.code === 'tenant-missing' && w.pid === init));
  });

  it('leaves DNS empty when asked not to read it', () => {
    const { byNetns } = collectTenants(scanNamespaces(), {}, { dns: false });
    assert.deepEqual(byNetns.get(netns)?.[0]?.dns, { hosts: [] });
  });
});
