/**
 * The Ghostwire v1 view of real containers: Docker containers on a user
 * network with a published port (compose-labelled, paused) and a
 * podman pod, discovered through the engine tracker, as a v1 client sees
 * them — types, names, labels, api paths, status, pod groups, forwarded
 * ports — and as /mobyshark capture targets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngineTracker } from '../engines/index.js';
import { createPodmanPod, runSleeper } from '../engines/testing/fixtures.js';
import { ensureDockerImage, ensurePodmanImage, sh, trySh } from '../engines/testing/image.js';
import { discoverSettled } from '../engines/testing/settled.js';
import type { Discovery } from '../model/types.js';
import { closeNetworkDiscovery } from '../network/discover.js';
import { uniquePrefix } from '../testing/names.js';
import { mobyshark } from './ghostwire-v1/mobyshark.js';
import type { Container, DiscoveryResult, Netns } from './ghostwire-v1/schema.js';
import { toGhostwireV1 } from './ghostwire-v1/transform.js';
import { v1Errors, validateTargets } from './ghostwire-v1/validate.js';

const P = uniquePrefix();
const inspect = (name: string, fmt: string): string => sh('docker', ['inspect', '-f', fmt, name]);

/** What the discovery does not show yet of the test's containers. */
function notYet(d: Discovery): string[] {
  const byName = new Map(Object.values(d.containers).map((c) => [c.name, c]));
  const out = ['web', 'zzz', 'pc'].filter((n) => !byName.has(`${P}-${n}`)).map((n) => `container ${P}-${n}`);
  if (byName.has(`${P}-zzz`) && byName.get(`${P}-zzz`)?.state !== 'paused') out.push(`${P}-zzz paused`);
  const pc = byName.get(`${P}-pc`);
  const pod = pc?.groups.map((k) => d.groups[k]).find((g) => g?.type === 'io.podman.pod');
  if (pc && (pod?.containers.length ?? 0) < 2) out.push(`pod ${P}-pod with its infra container and ${P}-pc`);
  return out;
}

describe('Ghostwire v1 view of real engine containers', () => {
  const tracker = createEngineTracker();
  let d: Discovery;
  let doc: DiscoveryResult;
  const pids: Record<string, number> = {};
  const ids: Record<string, string> = {};

  before(async () => {
    const image = ensureDockerImage();
    ensurePodmanImage();
    sh('docker', ['network', 'create', '--label', `${P}=1`, `${P}-net`]);
    const run = (name: string, ...flags: string[]) =>
      runSleeper('docker', `${P}-${name}`, image, '--network', `${P}-net`, ...flags);
    run(
      'web',
      '-p',
      '127.0.0.1::8080',
      '--label',
      'com.docker.compose.project=shop',
      '--label',
      'com.docker.compose.service=web',
    );
    run('zzz');
    sh('docker', ['pause', `${P}-zzz`]);
    for (const n of ['web', 'zzz']) {
      pids[n] = Number(inspect(`${P}-${n}`, '{{.State.Pid}}'));
      ids[n] = inspect(`${P}-${n}`, '{{.Id}}');
    }
    createPodmanPod(`${P}-pod`, `${P}-pc`);
    // Engines report through event streams, each in its own time and order: discover until every
    // test container is seen in the state the tests describe (the pause and the pod's infra
    // container may arrive after the rest).
    d = await discoverSettled(tracker, {}, notYet);
    doc = toGhostwireV1(d);
  });

  after(async () => {
    tracker.close();
    await closeNetworkDiscovery();
    trySh('docker', ['unpause', `${P}-zzz`]);
    trySh('docker', ['rm', '-f', `${P}-web`, `${P}-zzz`]);
    trySh('docker', ['network', 'rm', `${P}-net`]);
    trySh('podman', ['pod', 'rm', '-f', `${P}-pod`]);
  });

  const container = (name: string): { c: Container; netns: Netns } => {
    for (const n of doc['network-namespaces']) {
      const c = n.containers.find((x) => x.name === name);
      if (c) return { c, netns: n };
    }
    assert.fail(`container ${name} is not in the v1 document`);
  };

  it('validates against the v1 schema', () => {
    assert.deepEqual(v1Errors(doc), []);
  });

  it('describes a Docker container as v1 clients read it', () => {
    const { c } = container(`${P}-web`);
    const pidns = d.processes[pids.web ?? 0]?.namespaces.pid;
    assert.ok(pidns);
    assert.equal(c.id, `cont-${pids.web}`);
    assert.equal(c.type, 'docker');
    assert.equal(c['type-text'], 'Docker');
    assert.equal(c.status, 'running');
    assert.equal(c.pid, pids.web);
    assert.equal(c.pidns, pidns);
    assert.equal(c['pidns-idref'], `pidns-${pidns}`);
    assert.equal(c['container-id'], ids.web);
    assert.equal(c.prefix, '');
    assert.equal(c.cmdline, 'sleep 100000');
    assert.match(c['api-path'] ?? '', /^\/proc\/\d+\/root\/.*docker\.sock$/);
    assert.equal(c.labels?.['com.docker.compose.project'], 'shop');
    assert.equal(c.labels?.['gostwire/container/privileged'], undefined);
    assert.match(c.capbnd ?? '', /^0x[0-9a-f]+$/);
    assert.equal(c.dns['uts-hostname'], ids.web?.slice(0, 12), 'Docker names the UTS host after the id');
    assert.ok(c.dns['etc-hosts'].some((h) => h.name === 'localhost'));
  });

  // (Privileged containers cannot start on a host without CAP_SYS_RESOURCE; their label is covered by the transform's unit tests.)
  it('shows a paused container as paused', () => {
    assert.equal(container(`${P}-zzz`).c.status, 'paused');
  });

  it('lists the PID namespace of each container in the PID namespace tree', () => {
    const pidns = container(`${P}-web`).c.pidns;
    const find = (list: DiscoveryResult['pid-namespaces']): string[] | undefined => {
      for (const p of list) {
        if (p.pidnsid === pidns) return p['container-idrefs'];
        const inner = find(p.children);
        if (inner) return inner;
      }
      return undefined;
    };
    assert.deepEqual(find(doc['pid-namespaces']), [`cont-${pids.web}`]);
  });

  it('shows the published port as forwarded into the container’s namespace', () => {
    const hostPort = Number(
      sh('docker', ['port', `${P}-web`, '8080/tcp'])
        .split('\n')[0]
        ?.split(':')
        .pop(),
    );
    const { netns } = container(`${P}-web`);
    const fwd = doc['network-namespaces']
      .flatMap((n) => n['forwarded-ports'].ipv4)
      .filter((f) => f.port === hostPort && f['forward-port'] === 8080);
    assert.ok(fwd.length >= 1, `a forwarded port ${hostPort} → 8080`);
    for (const f of fwd) {
      assert.equal(f.netnsid, netns.netnsid);
      assert.equal(f.ip, '127.0.0.1');
      assert.equal(
        f['forward-ip'],
        inspect(`${P}-web`, `{{(index .NetworkSettings.Networks "${P}-net").IPAddress}}`),
      );
    }
  });

  it('names the Docker network on the bridge the container’s veth leads to', () => {
    const { netns } = container(`${P}-web`);
    const eth0 = netns['network-interfaces'].find((i) => i.name === 'eth0');
    const all = doc['network-namespaces'].flatMap((n) => n['network-interfaces']);
    const peer = all.find((i) => i.id === eth0?.peer?.['peer-idref']);
    const bridge = all.find((i) => i.id === peer?.master?.idref);
    assert.equal(bridge?.kind, 'bridge');
    assert.equal(bridge?.labels?.['gostwire/network/name'], `${P}-net`);
    assert.equal(bridge?.alias, `${P}-net`);
  });

  it('groups the podman pod’s containers in one namespace as a v1 pod', () => {
    const { c, netns } = container(`${P}-pc`);
    assert.equal(c.type, 'podman');
    const group = netns['container-groups'].find((g) => g.id === c.group);
    assert.ok(group, 'the member references its group');
    assert.equal(group.type, 'pod');
    assert.equal(group.name, `${P}-pod`);
    assert.ok(group['container-idrefs'].includes(c.id));
    assert.equal(group['container-idrefs'].length, 2, 'the infra container and the pod member');
    for (const ref of group['container-idrefs']) assert.ok(netns.containers.some((x) => x.id === ref));
  });

  it('offers the Docker container and the pod as capture targets', () => {
    const t = mobyshark(d);
    assert.deepEqual(validateTargets(t), []);
    const web = t.containers.find((x) => x.name === `${P}-web`);
    assert.deepEqual(
      [web?.type, web?.pid, web?.netns],
      ['docker', pids.web, container(`${P}-web`).netns.netnsid],
    );
    assert.ok(web?.['network-interfaces'].includes('eth0'));
    assert.equal(t.containers.filter((x) => x.type === 'pod' && x.name === `${P}-pod`).length, 1);
    assert.equal(
      t.containers.filter((x) => x.name === `${P}-pc`).length,
      0,
      'pod members are captured as their pod',
    );
  });
});
