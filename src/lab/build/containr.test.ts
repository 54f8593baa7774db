/**
 * The containr-style example on the real kernel: a minimal container (own
 * mount, UTS, PID, IPC and network namespaces, busybox rootfs tarball,
 * pivot_root, hostname, resolv.conf and hosts, cgroup limits) on a host
 * bridge with NAT (masquerade and a port forward from the host).
 */
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { describe, it } from 'node:test';
import { buildRootfsTar } from '../../engines/testing/image.js';
import type { Discovery } from '../../model/types.js';
import { ip, tryIp } from '../../testing/ip.js';
import { cli, driftOf, footprint, perturbationTests, reaches, useExampleLab } from '../testing/fixtures.js';
import { readState } from './state.js';

/** HTTP GET from the host (in-process; the host's busybox wget cannot resolve without NSS). */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

describe('lab: containr-style example (minimal container on a host bridge with NAT)', () => {
  let rootfs: { tar: string; dir: string } | undefined;
  const bridgeAddr = '10.42.0.1';
  const lab = useExampleLab('containr.yaml', {
    setup: () => {
      rootfs = buildRootfsTar();
    },
    edit: (d) => {
      const box = d.nodes.box;
      if (box && rootfs) box.rootfs = rootfs.tar;
    },
    teardown: () => {
      if (rootfs) rmSync(rootfs.dir, { recursive: true, force: true });
    },
  });

  it('a second up changes nothing', async () => {
    const r = await cli('lab', 'up', lab().file);
    assert.match(r.stdout, /up to date, nothing to do/);
  });

  it('runs the command in its own mount, UTS, PID, IPC and network namespaces, under cgroup limits', () => {
    const st = readState(lab().name)?.nodes.box;
    assert.ok(st, 'state records the container');
    // The marked process is unshare; the container's init is its only child.
    const children = readFileSync(`/proc/${st.pid}/task/${st.pid}/children`, 'utf8').trim().split(/\s+/);
    const init = Number(children[0]);
    assert.ok(init > 0, 'the container has an init process');
    for (const ns of ['mnt', 'uts', 'pid', 'ipc', 'net']) {
      assert.notEqual(
        readlinkSync(`/proc/${init}/ns/${ns}`),
        readlinkSync(`/proc/self/ns/${ns}`),
        `${ns} namespace is its own`,
      );
    }
    assert.match(
      readFileSync(`/proc/${init}/status`, 'utf8'),
      /NSpid:\s+\d+\s+1\n/,
      'it is PID 1 in its PID namespace',
    );
    assert.equal(readFileSync(`/proc/${init}/root/etc/hostname`, 'utf8').trim(), 'box');
    const resolv = readFileSync(`/proc/${init}/root/etc/resolv.conf`, 'utf8');
    assert.match(resolv, /nameserver 10\.42\.0\.1/);
    assert.match(resolv, /search lab\.internal/);
    assert.match(readFileSync(`/proc/${init}/root/etc/hosts`, 'utf8'), /10\.42\.0\.2\tbox/);
    // pivot_root: its root is the rootfs, where the host's /usr/bin does not exist.
    assert.throws(() => readFileSync(`/proc/${init}/root/usr/bin/node`));
    const cg = readFileSync(`/proc/${init}/cgroup`, 'utf8');
    assert.match(cg, new RegExp(`wirescope-lab-${lab().name}-box`));
  });

  it('carries traffic host <-> container, and the port forward reaches the container web server', async () => {
    assert.ok(reaches(lab().name, 'box', bridgeAddr), 'container -> host bridge address');
    // busybox httpd serves /etc of the container: its hostname file says "box".
    const r = await httpGet(`http://${bridgeAddr}:8080/hostname`);
    assert.equal(r.status, 200, 'port 8080 on the host is forwarded');
    assert.equal(r.body.trim(), 'box');
  });

  it('is seen by discover as a lab node with the DNS its command sees, owning the command', async () => {
    const n = lab().name;
    const st = readState(n)?.nodes.box;
    assert.ok(st);
    const r = await cli('discover', '--format', 'native');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as Discovery;
    const key = `wirescope-lab:${n}:box`;
    const box = d.containers[key];
    assert.equal(box?.type, 'lab');
    assert.equal(box?.name, 'box');
    assert.equal(box?.netns, st.netns);
    assert.deepEqual(box?.groups, [`lab/${n}`]);
    const owned = Object.values(d.processes).filter((p) => p.container === key);
    assert.deepEqual(owned.map((p) => p.comm).sort(), ['httpd', 'unshare']);
    const t = d.networks[String(st.netns)]?.tenants.find((x) => x.container === key);
    assert.equal(t?.dns.utsHostname, 'box');
    assert.deepEqual(t?.dns.resolvConf?.nameservers, ['10.42.0.1']);
  });

  it('verify is clean', async () => {
    const r = await cli('verify', '--json', lab().file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(driftOf(r), []);
  });

  it('reports a removed NAT rule once, and up restores it', async () => {
    const table = (await import('../../model/lab-marks.js')).nftTable(lab().name);
    const { spawnSync } = await import('node:child_process');
    try {
      assert.equal(spawnSync('nft', ['flush', 'chain', 'ip', table, 'postrouting']).status, 0);
      const r = await cli('verify', '--json', lab().file);
      assert.equal(r.code, 1);
      assert.deepEqual(
        driftOf(r).map((x) => `${x.op} ${x.message}`),
        ['- nat rule masquerade:10.42.0.0/24 in host: declared, missing'],
      );
    } finally {
      assert.equal((await cli('lab', 'up', lab().file)).code, 0);
    }
    assert.equal((await cli('verify', lab().file)).code, 0);
  });

  it('reports a foreign interface plugged into the lab bridge, and up leaves it alone', async () => {
    const br = lab().hostIf.get('cbr0') as string;
    const foreign = `${br.slice(0, 10)}f`;
    ip('link', 'add', foreign, 'type', 'veth', 'peer', 'name', `${foreign}p`);
    try {
      ip('link', 'set', foreign, 'master', br);
      const r = await cli('verify', '--json', lab().file);
      assert.equal(r.code, 1);
      assert.deepEqual(
        driftOf(r).map((x) => `${x.op} ${x.message}`),
        [`+ host:${foreign} (veth): present, undeclared`],
      );
      // Not the lab's to delete: up changes nothing, the interface stays.
      assert.match((await cli('lab', 'up', lab().file)).stdout, /nothing to do/);
      assert.ok(tryIp('link', 'show', foreign));
    } finally {
      tryIp('link', 'del', foreign);
    }
    assert.equal((await cli('verify', lab().file)).code, 0);
  });

  perturbationTests(
    lab,
    {
      veth: { node: 'box', ifname: 'eth0', expect: /^- cbr0:\w+ <-> box:eth0 \(veth\): declared, missing/ },
      address: {
        node: 'box',
        ifname: 'eth0',
        from: '10.42.0.2/24',
        to: '10.42.0.7/24',
        expect: /^~ box:eth0\.ipv4: declared 10\.42\.0\.2\/24, found 10\.42\.0\.7\/24/,
      },
      route: {
        node: 'box',
        dst: 'default',
        expect: /^- route default via 10\.42\.0\.1 in box: declared, missing/,
      },
      kill: { node: 'box', expect: /^- node box \(container\): declared, not running/ },
    },
    it,
    assert,
  );

  it('down leaves nothing behind: no interface, NAT table, process, cgroup or unpacked rootfs', async () => {
    assert.equal((await cli('lab', 'down', lab().file)).code, 0);
    assert.deepEqual(await footprint(lab().name), []);
  });
});
