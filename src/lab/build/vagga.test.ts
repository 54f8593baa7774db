/**
 * The vagga-style example on the real kernel: host -- gateway -- bridge --
 * guests, with a split partition.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cli,
  driftOf,
  footprint,
  perturbationTests,
  ping,
  reaches,
  uniqueLab,
  useExampleLab,
} from '../testing/fixtures.js';

describe('lab: vagga-style example (host, gateway, bridge, guests, partition)', () => {
  const lab = useExampleLab('vagga.yaml');

  it('a second up changes nothing', async () => {
    const r = await cli('lab', 'up', lab().file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date, nothing to do/);
  });

  it('--dry-run on a lab that is up prints an empty plan; status lists its nodes', async () => {
    const r = await cli('lab', 'up', '--dry-run', '--json', lab().file);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { steps: unknown[] }).steps, []);
    const s = await cli('lab', 'status', '--json');
    const mine = (JSON.parse(s.stdout) as { name: string; nodes: { name: string; alive: boolean }[] }[]).find(
      (l) => l.name === lab().name,
    );
    assert.ok(mine, 'status lists the lab');
    assert.ok(
      mine.nodes.filter((n) => ['gateway', 'bridge', 'guest1'].includes(n.name)).every((n) => n.alive),
    );
  });

  it('carries traffic where declared: host to guests through gateway and bridge, guest to guest', () => {
    const n = lab().name;
    assert.ok(reaches(n, 'guest1', '172.18.0.2'), 'guest1 -> guest2 on the bridge');
    assert.ok(reaches(n, 'guest1', '172.18.255.1'), 'guest1 -> host through bridge and gateway');
    assert.ok(reaches(n, 'guest3', '172.18.255.1'), 'guest3 -> host');
  });

  it('blocks traffic across the partition', () => {
    const n = lab().name;
    assert.ok(!ping(n, 'guest1', '172.18.0.3'), 'guest1 -> guest3 is cut');
    assert.ok(!ping(n, 'guest3', '172.18.0.2'), 'guest3 -> guest2 is cut');
  });

  it('verify is clean, and the reachability matrix agrees with the partition', async () => {
    const r = await cli('verify', '--reach', '--json', lab().file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(driftOf(r), []);
  });

  it('reconciles after an edit: a declared MTU and a new route are applied, nothing else', async () => {
    const t0 = lab();
    const edited = uniqueLab('vagga.yaml');
    // Same lab, same host names; only the edit differs.
    edited.decl.name = t0.name;
    const src = (await import('node:fs')).readFileSync(t0.file, 'utf8');
    const { parse, stringify } = await import('yaml');
    const d = parse(src) as typeof t0.decl;
    const g1 = d.links?.[2]?.endpoints?.[1];
    if (typeof g1 === 'object') g1.mtu = 1400;
    d.nodes.guest1?.routes?.push({ dst: '10.99.0.0/16', via: '172.18.0.254' });
    (await import('node:fs')).writeFileSync(edited.file, stringify(d));
    const plan = await cli('lab', 'up', '--dry-run', edited.file);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /set guest1:eth0: mtu 1500 -> 1400/);
    assert.match(plan.stdout, /add route 10\.99\.0\.0\/16 via 172\.18\.0\.254 in guest1/);
    assert.equal(plan.stdout.split('\n').filter((l) => /^ {2}[-+~] /.test(l)).length, 2, plan.stdout);
    const up = await cli('lab', 'up', edited.file);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await cli('verify', edited.file)).code, 0);
    // Measured against the original file, only the extra route is drift: it declares no MTU.
    const v = await cli('verify', '--json', t0.file);
    assert.equal(v.code, 1);
    assert.deepEqual(
      driftOf(v).map((x) => `${x.op} ${x.message}`),
      ['+ route 10.99.0.0/16 via 172.18.0.254 dev eth0 in guest1: present, undeclared'],
    );
    const back = await cli('lab', 'up', t0.file);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /delete route 10\.99\.0\.0\/16 via 172\.18\.0\.254 in guest1/);
    assert.equal((await cli('verify', t0.file)).code, 0);
    (await import('node:fs')).rmSync(edited.dir, { recursive: true, force: true });
  });

  perturbationTests(
    lab,
    {
      veth: {
        node: 'guest2',
        ifname: 'eth0',
        expect: /^- br0:g2 <-> guest2:eth0 \(veth\): declared, missing/,
      },
      address: {
        node: 'guest1',
        ifname: 'eth0',
        from: '172.18.0.1/24',
        to: '172.18.0.9/24',
        expect: /^~ guest1:eth0\.ipv4: declared 172\.18\.0\.1\/24, found 172\.18\.0\.9\/24/,
      },
      route: {
        node: 'gateway',
        dst: '172.18.0.0/24',
        expect: /^- route 172\.18\.0\.0\/24 via 172\.18\.192\.2 in gateway: declared, missing/,
      },
      partition: {
        node: 'guest1',
        expect: /^- partition rule partition:guest3 in guest1: declared, missing/,
      },
      kill: { node: 'bridge', expect: /^- node bridge \(netns\): declared, not running/ },
    },
    it,
    assert,
  );

  it('down removes exactly what the lab owns and leaves nothing behind', async () => {
    const r = await cli('lab', 'down', lab().file);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await footprint(lab().name), []);
    const again = await cli('lab', 'down', lab().name);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /is not up/);
  });
});
