/**
 * Failing `up`s on the real kernel: a clear one-line error naming the step,
 * and nothing left behind — what the run created is rolled back; what was
 * there before (another lab's objects, the host's own) is never touched.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ip, tryIp } from '../../testing/ip.js';
import { uniquePrefix } from '../../testing/names.js';
import type { LabDecl } from '../file/schema.js';
import { cleanup, cli, footprint, type TestLab, uniqueLab } from '../testing/fixtures.js';
import { withLabLock } from './state.js';

describe('lab up: failures roll back and say what failed', () => {
  const labs: TestLab[] = [];
  const make = (edit: (d: LabDecl) => void): TestLab => {
    const t = uniqueLab('vagga.yaml', edit);
    labs.push(t);
    return t;
  };
  after(async () => {
    for (const t of labs) await cleanup(t);
  });

  it('netem on a kernel without sch_netem fails with a clear error after building, and rolls everything back', async () => {
    const t = make((d) => {
      const l = d.links?.[2];
      if (l) l.netem = { delay: '10ms' };
    });
    const r = await cli('lab', 'up', t.file);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('wirescope:')).length,
      1,
      r.stderr,
    );
    assert.match(r.stderr, /netem on br0:g1 .*failed: netem on br0:g1: this kernel has no sch_netem/);
    assert.match(r.stderr, /rolled back \d+ object\(s\) this run created/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await footprint(t.name), []);
  });

  it('a route the kernel refuses half-way rolls back nodes, links and addresses', async () => {
    const t = make((d) => {
      d.nodes.guest2?.routes?.push({ dst: '10.123.0.0/16', via: '198.51.100.1' });
    });
    const r = await cli('lab', 'up', t.file);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /"add route 10\.123\.0\.0\/16 via 198\.51\.100\.1 in guest2" failed: .*Network is unreachable/,
    );
    assert.deepEqual(await footprint(t.name), []);
  });

  it('refuses, before changing anything, a host interface name it does not own', async () => {
    const t = make(() => {});
    const squatter = t.hostIf.get('vagga') as string;
    assert.ok(squatter);
    ip('link', 'add', squatter, 'type', 'veth', 'peer', 'name', `${squatter}p`);
    try {
      const r = await cli('lab', 'up', t.file);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        new RegExp(`host already has an interface "${squatter}" \\(veth\\) that lab ${t.name} does not own`),
      );
      assert.deepEqual(await footprint(t.name), []);
      // The squatter is untouched.
      assert.ok(tryIp('link', 'show', squatter));
      // And down never touches it either.
      assert.equal((await cli('lab', 'down', t.name)).code, 0);
      assert.ok(tryIp('link', 'show', squatter));
    } finally {
      tryIp('link', 'del', squatter);
    }
  });

  it('a failing edit of a running lab rolls back only what that run created; the lab stays as it was', async () => {
    const t = make(() => {});
    assert.equal((await cli('lab', 'up', t.file)).code, 0);
    const broken = {
      ...t.decl,
      nodes: {
        ...t.decl.nodes,
        extra: { kind: 'netns' as const, routes: [{ dst: '10.9.0.0/16', via: '198.51.100.1' }] },
      },
    };
    const file = join(t.dir, `broken-${uniquePrefix('', 5)}.yaml`);
    writeFileSync(file, stringify(broken));
    const r = await cli('lab', 'up', file);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /in extra" failed/);
    const v = await cli('verify', t.file);
    assert.equal(v.code, 0, `the running lab is intact: ${v.stdout}`);
    assert.equal((await cli('lab', 'up', t.file)).stdout.includes('nothing to do'), true);
    rmSync(file);
    assert.equal((await cli('lab', 'down', t.name)).code, 0);
  });

  it('refuses an up or down of a lab that another run is changing', async () => {
    const t = make(() => {});
    // Hold the lab's lock as a running `up` would.
    await withLabLock(t.name, async () => {
      for (const args of [
        ['lab', 'up', t.file],
        ['lab', 'down', t.name],
      ]) {
        const r = await cli(...args);
        assert.equal(r.code, 2);
        assert.match(
          r.stderr,
          new RegExp(`lab ${t.name} is being changed by another wirescope \\(pid ${process.pid}\\)`),
        );
      }
    });
    assert.deepEqual(await footprint(t.name), []);
  });

  it('--dry-run on a new lab prints the plan and creates nothing', async () => {
    const t = make(() => {});
    const r = await cli('lab', 'up', '--dry-run', t.file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\+ start netns node gateway/);
    assert.match(r.stdout, /\+ create veth br0:g1 <-> guest1:eth0/);
    assert.match(r.stdout, /~ apply partition rules in guest3 \(drop from guest1, guest2\)/);
    assert.deepEqual(await footprint(t.name), []);
  });

  it('rejects an invalid file before touching anything, one line per problem', async () => {
    const t = make((d) => {
      d.links?.push({ endpoints: ['guest1:eth0', 'guest2:eth9'] });
      d.links?.push({ endpoints: ['guest1:eth8', 'nosuch:eth0'] });
    });
    const r = await cli('lab', 'up', t.file);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /:\d+:\d+: interface "eth0" is declared twice in namespace of node "guest1"/);
    assert.match(r.stderr, /:\d+:\d+: unknown node "nosuch" in endpoint/);
    assert.deepEqual(await footprint(t.name), []);
  });
});
