import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { closeDiscovery, discover } from '../discover.js';
import type { Draft } from '../model/types.js';
import { poll } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { TreeContext } from '../views/text-tree.js';
import { STEP_MS } from './etc-reader.js';
import { parseNameFile } from './hosts.js';
import { scanNamespaces } from './scan.js';
import { collectTenants } from './tenants.js';
import { Fixtures, gethostnameHere, nsIno, starttimeOf, token, waitForSleep } from './testing/fixtures.js';

describe('tenants of a chrooted workload (unshare … chroot ROOTFS CMD)', () => {
  const fx = new Fixtures();
  const host = `${uniquePrefix()}-box`;
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
    // The UTS name is set before the exec of sleep; make sure it is there.
    assert.equal(readFileSync(`/proc/${init}/comm`, 'utf8').trim(), 'sleep');
  });
  after(async () => {
    fx.cleanup();
    await closeDiscovery();
  });

  it('makes the chrooted child a tenant of its own that sees the rootfs, while the launcher sees the host', async () => {
    const { byNetns, warnings } = await collectTenants(scanNamespaces(), {}, { dns: true });
    const tenants = byNetns.get(netns);
    assert.ok(tenants, `tenants of ${netns}; warnings: ${JSON.stringify(warnings)}`);
    assert.deepEqual(
      tenants.map((t) => [t.pid, t.comm]),
      [
        [leader, 'unshare'],
        [init, 'sleep'],
      ],
    );
    const [launcher, child] = tenants;
    assert.ok(launcher && child);
    assert.equal(launcher.starttime, starttimeOf(leader));
    // unshare did not chroot: it sees the host's files, not the rootfs.
    assert.equal(launcher.dns.etcHostname, parseNameFile(readFileSync('/etc/hostname', 'utf8')));
    assert.equal(launcher.dns.utsHostname, `${host}-uts`);
    // The chrooted child reads its hostname, resolv.conf and hosts from the rootfs.
    assert.equal(child.starttime, starttimeOf(init));
    assert.equal(child.container, undefined);
    assert.equal(child.dns.utsHostname, `${host}-uts`);
    assert.equal(child.dns.utsDomainname, 'nis.example');
    assert.equal(child.dns.etcHostname, host);
    assert.equal(child.dns.etcDomainname, 'wst.example');
    assert.deepEqual(child.dns.resolvConf, {
      nameservers: ['192.0.2.53', '2001:db8::53'],
      search: ['a.example', 'b.example'],
      options: ['ndots:2', 'edns0'],
    });
    assert.deepEqual(child.dns.hosts, [
      { address: '127.0.0.1', names: ['localhost'] },
      { address: '192.0.2.10', names: ['db', 'db.wst.example'] },
    ]);
    // Entering the tenants' UTS namespace must not leave us in it.
    assert.notEqual(gethostnameHere(), `${host}-uts`);
  });

  it('names the network namespace after the chrooted child, not its launcher', async () => {
    const d = await discover();
    assert.equal(new TreeContext(d).netnsName(netns), `sleep(${init})`);
  });

  it("tags a container's initial process with the container (one tenant, not two)", async () => {
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
    const { byNetns } = await collectTenants(scan, { [container.id]: container }, { dns: true });
    assert.deepEqual(
      (byNetns.get(netns) ?? []).map((t) => [t.pid, t.container]),
      [
        [leader, undefined],
        [init, 'wst-container'],
      ],
    );
  });

  it('finds the chrooted process as the leader of its PID namespace', () => {
    const scan = scanNamespaces({ namespaceTypes: ['pid'] });
    const pidns = scan.namespaces[nsIno(init, 'pid')];
    assert.deepEqual(pidns?.leaders, [init]);
    assert.deepEqual(scan.processes[init]?.nspid, [init, 1]);
  });

  it('ignores a container whose process was replaced (same PID, other starttime)', async () => {
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
    const { byNetns, warnings } = await collectTenants(scan, { [stale.id]: stale }, { dns: false });
    assert.ok(!(byNetns.get(netns) ?? []).some((t) => t.container === 'wst-stale'));
    assert.ok(warnings.some((w) => w.code === 'tenant-missing' && w.pid === init));
  });

  it('leaves DNS empty when asked not to read it, and still finds the chrooted tenant', async () => {
    const { byNetns } = await collectTenants(scanNamespaces(), {}, { dns: false });
    assert.deepEqual(
      byNetns.get(netns)?.map((t) => [t.pid, t.dns]),
      [
        [leader, { hosts: [] }],
        [init, { hosts: [] }],
      ],
    );
  });
});

describe('DNS files a container shaped against the reader', () => {
  const fx = new Fixtures();
  let hostile = 0;
  let linked = 0;
  let netnsA = 0;
  let netnsB = 0;
  let hostDir = '';
  const secret = `${uniquePrefix()}-host-secret`;

  before(async () => {
    hostDir = fx.tempDir();
    writeFileSync(`${hostDir}/secret`, `${secret}\n`);

    // Root A: /etc/hosts a FIFO, /etc/resolv.conf 2 GB of hole, /etc/domainname
    // a device node, /etc/hostname a link to a host file.
    const a = fx.busyboxRoot({});
    fx.fifo(`${a}/etc/hosts`);
    const fd = openSync(`${a}/etc/resolv.conf`, 'w');
    writeSync(fd, 'nameserver 192.0.2.77\n');
    closeSync(fd);
    execFileSync('truncate', ['-s', '2G', `${a}/etc/resolv.conf`]);
    execFileSync('mknod', [`${a}/etc/domainname`, 'c', '1', '3']);
    symlinkSync(`${hostDir}/secret`, `${a}/etc/hostname`);
    const ta = token();
    // unshare chroots (--root) and execs sleep: one process, the namespace's
    // leader, with the rootfs as its root.
    fx.start(['unshare', '--net', `--root=${a}`, '/bin/sleep', ta]);

    // Root B: the host's /proc bind-mounted inside; /etc/hostname a link
    // through it to our own root (a magic link) and on to the host file;
    // resolv.conf and hosts linked as Docker and systemd do, inside the root.
    const b = fx.busyboxRoot({});
    mkdirSync(`${b}/run`);
    writeFileSync(`${b}/run/resolv.conf`, 'nameserver 192.0.2.78\n');
    writeFileSync(`${b}/run/hosts`, '192.0.2.79 inside\n');
    symlinkSync('../run/resolv.conf', `${b}/etc/resolv.conf`);
    symlinkSync('/run/hosts', `${b}/etc/hosts`);
    symlinkSync(`/proc/${process.pid}/root${hostDir}/secret`, `${b}/etc/hostname`);
    const tb = token();
    fx.start([
      'unshare',
      '--net',
      '--mount',
      'sh',
      '-c',
      `mount --bind /proc ${b}/proc && exec unshare --root=${b} /bin/sleep ${tb}`,
    ]);
    [hostile = 0] = await waitForSleep(ta);
    [linked = 0] = await waitForSleep(tb);
    netnsA = nsIno(hostile, 'net');
    netnsB = nsIno(linked, 'net');
  });
  after(() => fx.cleanup());

  it('reads none of them in a way that blocks, bloats or leaves the root, and warns', async () => {
    const t0 = performance.now();
    const { byNetns, warnings } = await collectTenants(scanNamespaces(), {}, { dns: true });
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `took ${ms} ms`);
    const a = byNetns.get(netnsA)?.find((t) => t.pid === hostile);
    assert.ok(a, JSON.stringify(warnings));
    // The link to the host file resolves inside the root, where there is no such file.
    assert.equal(a.dns.etcHostname, undefined);
    assert.equal(a.dns.etcDomainname, undefined);
    assert.deepEqual(a.dns.hosts, []);
    assert.deepEqual(a.dns.resolvConf?.nameservers, ['192.0.2.77']);
    assert.deepEqual(a.dns.truncated, ['/etc/resolv.conf']);
    const about = (pid: number, code: string, file: string) =>
      warnings.find((w) => w.pid === pid && w.code === code && w.message.includes(file));
    assert.match(about(hostile, 'dns-file-refused', '/etc/hosts')?.message ?? '', /a FIFO/);
    assert.match(about(hostile, 'dns-file-refused', '/etc/domainname')?.message ?? '', /a character device/);
    assert.match(about(hostile, 'dns-file-truncated', '/etc/resolv.conf')?.message ?? '', /2147483648 bytes/);

    const b = byNetns.get(netnsB)?.find((t) => t.pid === linked);
    assert.ok(b, JSON.stringify(warnings));
    assert.equal(b.dns.etcHostname, undefined);
    assert.match(about(linked, 'dns-file-refused', '/etc/hostname')?.message ?? '', /link through \/proc/);
    assert.deepEqual(b.dns.resolvConf?.nameservers, ['192.0.2.78']);
    assert.deepEqual(b.dns.hosts, [{ address: '192.0.2.79', names: ['inside'] }]);

    assert.ok(
      !JSON.stringify({ byNetns: [...byNetns], warnings }).includes(secret),
      'host file content leaked',
    );
  });
});

describe("a filesystem below a tenant's root that never answers", () => {
  const fx = new Fixtures();
  let stuck = 0;
  let fuse: { abort(): void } | undefined;
  let netns = 0;

  /** Our child processes that read /etc files (etc-reader-child.js). */
  const readers = (): number[] =>
    readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return (
            ppid === process.pid && readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('etc-reader-child')
          );
        } catch {
          return false;
        }
      })
      .map(Number);

  before(async () => {
    const root = fx.busyboxRoot({});
    const t = token();
    // No mount namespace of its own: the FUSE mount made below in ours is in its root.
    fx.start(['unshare', '--net', `--root=${root}`, '/bin/sleep', t]);
    [stuck = 0] = await waitForSleep(t);
    netns = nsIno(stuck, 'net');
    fuse = fx.fuseNeverAnswering(`${root}/etc`);
  });
  after(() => {
    fuse?.abort();
    fx.cleanup();
  });

  it('gives up on that tenant after a while with a warning, reads the others, and kills the stuck reader', async () => {
    const t0 = performance.now();
    const { byNetns, warnings } = await collectTenants(scanNamespaces(), {}, { dns: true });
    const ms = performance.now() - t0;
    assert.ok(ms < STEP_MS + 8000, `took ${ms} ms`);
    assert.ok(
      warnings.some((w) => w.code === 'dns-timeout' && w.pid === stuck),
      JSON.stringify(warnings),
    );
    const tenants = byNetns.get(netns) ?? [];
    assert.deepEqual(
      tenants.map((t) => t.pid),
      [stuck],
    );
    // Other tenants' files (the host's) were read all the same.
    const host = byNetns.get(nsIno('self', 'net')) ?? [];
    assert.ok(host.some((t) => t.dns.etcHostname === parseNameFile(readFileSync('/etc/hostname', 'utf8'))));
    // Of the stuck one only what the kernel holds: its UTS names, no /etc file.
    const { utsHostname, utsDomainname, ...files } = tenants[0]?.dns ?? { hosts: [] };
    assert.equal(utsHostname, gethostnameHere());
    assert.deepEqual(files, { hosts: [] });
    // The reader that got stuck is gone (SIGKILL ends FUSE's killable wait).
    await poll(readers, (r) => r.length <= 1, { timeoutMs: 5000, intervalMs: 50 });
    assert.ok(readers().length <= 1, `readers still running: ${readers().join(' ')}`);
  });

  it('skips that root in the next discoveries instead of waiting again', async () => {
    const t0 = performance.now();
    const { warnings } = await collectTenants(scanNamespaces(), {}, { dns: true });
    const ms = performance.now() - t0;
    assert.ok(ms < STEP_MS, `took ${ms} ms`);
    assert.ok(
      warnings.some((w) => w.code === 'dns-skipped' && w.pid === stuck),
      JSON.stringify(warnings),
    );
  });
});

describe('a process with only a thread in a namespace (setns on one thread)', () => {
  const fx = new Fixtures();
  after(() => fx.cleanup());

  it('is no tenant there: the namespace keeps its bind mount name, not a visiting thread', async () => {
    // wirescope's own network and capture workers do exactly this: a thread
    // enters a namespace (setns(2) moves only the calling task) to dump or
    // capture. Seen from procfs the process is in that namespace through
    // /proc/PID/task/TID/ns/net only; naming the namespace after it made a
    // capture label read "node(PID)" instead of the namespace's own name.
    const name = `${uniquePrefix('wsv', 5)}-visit`;
    const ino = fx.netnsAdd(name);
    const libc = new URL('../kernel/libc.js', import.meta.url).href;
    const worker = new Worker(
      `import { openSync } from 'node:fs';
       import { parentPort, workerData } from 'node:worker_threads';
       const { setns } = await import(workerData.libc);
       setns(openSync(workerData.path, 'r'), 0x40000000 /* CLONE_NEWNET */);
       parentPort.postMessage('in');
       setInterval(() => {}, 60_000);`,
      { eval: true, workerData: { libc, path: `/run/netns/${name}` } },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      const scan = scanNamespaces();
      assert.ok(scan.namespaces[ino]?.processes.includes(process.pid), 'the scan sees the visiting thread');
      const { byNetns } = await collectTenants(scan, {}, { dns: false });
      assert.deepEqual(
        (byNetns.get(ino) ?? []).map((t) => t.pid),
        [],
        'a process whose main thread is elsewhere is no tenant',
      );
    } finally {
      await worker.terminate();
    }
  });
});
