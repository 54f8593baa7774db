/**
 * The Docker-node example on the real kernel: two containers created through
 * the Docker Engine API (network mode "none") and a plain namespace on a
 * bridge in its own namespace; one container isolated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureDockerImage, TEST_IMAGE } from '../../engines/testing/image.js';
import type { Discovery } from '../../model/types.js';
import {
  cli,
  driftOf,
  footprint,
  perturbationTests,
  ping,
  reaches,
  useExampleLab,
} from '../testing/fixtures.js';
import { dockerClient } from './nodes.js';
import { readState } from './state.js';

describe('lab: docker-node example (containers via the Docker API on a namespaced bridge)', () => {
  // The tests' own busybox image (imported with `docker import`) instead of the one the
  // example's prepare line makes: examples.test.ts removes that one to play a fresh machine.
  const lab = useExampleLab('docker.yaml', {
    setup: () => ensureDockerImage(TEST_IMAGE),
    edit: (d) => {
      for (const n of Object.values(d.nodes)) if (n.kind === 'docker') n.image = TEST_IMAGE;
    },
  });

  it('creates labelled containers with no network of their own', async () => {
    const id = readState(lab().name)?.nodes.d1?.containerId;
    assert.ok(id);
    const info = await (await dockerClient()).getContainer(id).inspect();
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.Config.Labels['wirescope.lab'], lab().name);
    assert.equal(info.Config.Labels['wirescope.node'], 'd1');
    assert.ok(info.State.Running);
  });

  it('is seen by discover as the lab it is: namespace nodes as lab nodes, Docker nodes as containers, one group', async () => {
    const n = lab().name;
    const r = await cli('discover', '--format', 'native');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as Discovery;
    const group = d.groups[`lab/${n}`];
    assert.ok(group, 'the lab is a group');
    assert.equal(group.type, 'wirescope.lab');
    const members = group.containers.map((k) => d.containers[k]);
    assert.deepEqual(members.map((c) => `${c?.type} ${c?.name}`).sort(), [
      `docker wirescope-lab-${n}-d1`,
      `docker wirescope-lab-${n}-d2`,
      'lab n1',
      'lab sw',
    ]);
    const n1 = members.find((c) => c?.name === 'n1');
    const holder = readState(n)?.nodes.n1;
    assert.equal(n1?.pid, holder?.pid);
    assert.equal(n1?.netns, holder?.netns);
    assert.equal(d.networks[String(holder?.netns)]?.tenants[0]?.container, n1?.id);

    const text = await cli('discover', '--netns', `${n}/n1`);
    assert.match(text.stdout, new RegExp(`^netns ${holder?.netns} \\(n1\\)$`, 'm'));
    assert.match(text.stdout, new RegExp(`lab node n1 running, pid ${holder?.pid}, lab ${n}`));
    assert.equal(text.stdout.match(/^netns /gm)?.length, 1);
    // The lab's name selects all its namespaces: the switch, the namespace node, both containers.
    const all = await cli('discover', '--netns', n);
    assert.equal(all.stdout.match(/^netns /gm)?.length, 4, all.stdout);
  });

  it('a second up changes nothing', async () => {
    const r = await cli('lab', 'up', lab().file);
    assert.match(r.stdout, /up to date, nothing to do/);
  });

  it('carries traffic between the containers and the namespace, and not to the isolated one', () => {
    const n = lab().name;
    assert.ok(reaches(n, 'd1', '10.77.0.3'), 'd1 -> n1');
    assert.ok(reaches(n, 'n1', '10.77.0.1'), 'n1 -> d1');
    assert.ok(!ping(n, 'd1', '10.77.0.2'), 'd1 -> d2 is cut');
    assert.ok(!ping(n, 'd2', '10.77.0.3'), 'd2 -> n1 is cut');
  });

  it('verify is clean, with the reachability matrix', async () => {
    const r = await cli('verify', '--reach', '--json', lab().file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(driftOf(r), []);
  });

  perturbationTests(
    lab,
    {
      veth: { node: 'd1', ifname: 'eth1', expect: /^- br0:p1 <-> d1:eth1 \(veth\): declared, missing/ },
      address: {
        node: 'n1',
        ifname: 'eth1',
        from: '10.77.0.3/24',
        to: '10.77.0.30/24',
        expect: /^~ n1:eth1\.ipv4: declared 10\.77\.0\.3\/24, found 10\.77\.0\.30\/24/,
      },
      route: {
        node: 'n1',
        dst: '10.78.0.0/16',
        expect: /^- route 10\.78\.0\.0\/16 via 10\.77\.0\.1 in n1: declared, missing/,
      },
      partition: { node: 'd1', expect: /^- partition rule partition:d2 in d1: declared, missing/ },
      kill: { node: 'd2', expect: /^- node d2 \(docker\): declared, not running/ },
    },
    it,
    assert,
  );

  it('down removes the containers and leaves nothing behind', async () => {
    assert.equal((await cli('lab', 'down', lab().name)).code, 0);
    assert.deepEqual(await footprint(lab().name), []);
  });
});
