/**
 * Engine network names on real bridges and parents: Docker bridge networks
 * (custom bridge name, br-<id>, internal), a macvlan network's parent, a
 * podman network's CNI bridge, and nerdctl/CNI conflists read from the mount
 * namespace of a containerd that runs inside a container.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngineTracker } from '../../engines/index.js';
import { runSleeper } from '../../engines/testing/fixtures.js';
import {
  ensureDockerImage,
  ensurePodmanImage,
  PODMAN_TEST_IMAGE,
  sh,
  trySh,
} from '../../engines/testing/image.js';
import { discoverSettled } from '../../engines/testing/settled.js';
import { startTurtle } from '../../engines/testing/turtle.js';
import type { Discovery, Interface } from '../../model/types.js';
import { uniquePrefix } from '../../testing/names.js';
import { parseConflist } from './cni.js';

const P = uniquePrefix();

function iface(d: Discovery, netns: number | undefined, name: string): Interface | undefined {
  return d.networks[String(netns)]?.interfaces.find((i) => i.name === name);
}

describe('network names: engine networks on bridges and parents', () => {
  const tracker = createEngineTracker();
  let d: Discovery;
  let netId = '';
  let podmanBridge = '';
  const turtle = `${P}-turtle`;

  before(async () => {
    const image = ensureDockerImage();
    ensurePodmanImage();
    sh('docker', ['network', 'create', '-o', `com.docker.network.bridge.name=${P}br`, `${P}-named`]);
    netId = sh('docker', ['network', 'create', '--internal', `${P}-internal`]);
    sh('ip', ['link', 'add', `${P}d0`, 'type', 'veth', 'peer', 'name', `${P}d1`]);
    sh('docker', ['network', 'create', '-d', 'macvlan', '-o', `parent=${P}d0`, `${P}-mac`]);
    // An internal bridge only exists once a container joins it.
    runSleeper('docker', `${P}-c`, image, '--network', `${P}-internal`);
    sh('podman', ['network', 'create', `${P}-pnet`]);
    runSleeper('podman', `${P}-pc`, PODMAN_TEST_IMAGE, '--network', `${P}-pnet`);
    podmanBridge = JSON.parse(sh('podman', ['network', 'inspect', `${P}-pnet`]))[0].network_interface;
    // nerdctl-style and plain CNI conflists in the nested engine's own /etc/cni/net.d,
    // with their bridges in its network namespace, plus one malformed file.
    startTurtle(turtle);
    const conf = (name: string, bridge: string, extra = '') =>
      `{"cniVersion":"1.0.0","name":"${name}",${extra}"plugins":[{"type":"bridge","bridge":"${bridge}"},{"type":"portmap"}]}`;
    sh('docker', ['exec', turtle, 'mkdir', '-p', '/etc/cni/net.d']);
    sh(
      'docker',
      ['exec', '-i', turtle, 'sh', '-c', 'cat > /etc/cni/net.d/nerdctl-wst.conflist'],
      conf(`${P}-nerd`, 'nerdctl7', '"nerdctlID":"abc123",'),
    );
    sh(
      'docker',
      ['exec', '-i', turtle, 'sh', '-c', 'cat > /etc/cni/net.d/10-plain.conflist'],
      conf(`${P}-plain`, 'cni0'),
    );
    sh(
      'docker',
      ['exec', '-i', turtle, 'sh', '-c', 'cat > /etc/cni/net.d/99-broken.conflist'],
      '{"name": "x", plugins',
    );
    for (const br of ['nerdctl7', 'cni0'])
      sh('docker', ['exec', turtle, 'ip', 'link', 'add', br, 'type', 'bridge']);
    d = await discoverSettled(tracker);
  });

  after(() => {
    tracker.close();
    trySh('docker', ['rm', '-f', `${P}-c`, turtle]);
    trySh('podman', ['rm', '-f', `${P}-pc`]);
    trySh('podman', ['network', 'rm', '-f', `${P}-pnet`]);
    for (const n of ['named', 'internal', 'mac']) trySh('docker', ['network', 'rm', `${P}-${n}`]);
    trySh('ip', ['link', 'del', `${P}d0`]);
  });

  it('names a Docker bridge after its network, by its bridge-name option', () => {
    const br = iface(d, d.initial.net, `${P}br`);
    assert.equal(br?.kind, 'bridge');
    assert.equal(br?.network?.engine, 'docker');
    assert.equal(br?.network?.name, `${P}-named`);
    assert.equal(br?.network?.driver, 'bridge');
    assert.equal(br?.network?.default, false);
  });

  it('names br-<id> bridges and flags internal networks', () => {
    const br = iface(d, d.initial.net, `br-${netId.slice(0, 12)}`);
    assert.equal(br?.network?.name, `${P}-internal`);
    assert.equal(br?.network?.id, netId);
    assert.equal(br?.network?.internal, true);
  });

  it("flags Docker's default bridge", () => {
    assert.equal(iface(d, d.initial.net, 'docker0')?.network?.default, true);
  });

  it('names the parent of a macvlan network', () => {
    const parent = iface(d, d.initial.net, `${P}d0`);
    assert.equal(parent?.network?.name, `${P}-mac`);
    assert.equal(parent?.network?.driver, 'macvlan');
  });

  it("names a podman network's bridge after the podman network", () => {
    const br = iface(d, d.initial.net, podmanBridge);
    assert.equal(br?.network?.engine, 'podman');
    assert.equal(br?.network?.name, `${P}-pnet`);
  });

  it("reads nerdctl and CNI conflists in a nested engine's mount namespace and names its bridges", () => {
    const engine = Object.values(d.engines).find(
      (e) => e.container && d.containers[e.container]?.name === turtle,
    );
    assert.ok(engine);
    const netns = d.processes[String(engine.pid)]?.namespaces.net;
    assert.notEqual(netns, d.initial.net);
    assert.deepEqual(iface(d, netns, 'nerdctl7')?.network, {
      engine: 'nerdctl',
      name: `${P}-nerd`,
      id: 'abc123',
      default: false,
      driver: 'bridge',
    });
    assert.equal(iface(d, netns, 'cni0')?.network?.engine, 'cni');
    assert.equal(iface(d, netns, 'cni0')?.network?.name, `${P}-plain`);
    // The host's cni0, if any, is not the nested engine's.
    assert.notEqual(iface(d, d.initial.net, 'cni0')?.network?.name, `${P}-plain`);
    const w = d.warnings.find((x) => x.code === 'cni-conflist-malformed' && x.engine === engine.id);
    assert.match(w?.message ?? '', /99-broken\.conflist: not valid JSON/);
  });
});

describe('network names: conflist parsing', () => {
  it('rejects conflists without a name or plugin list with a one-line reason', () => {
    assert.throws(() => parseConflist('[]'), /not a JSON object|no network name/);
    assert.throws(() => parseConflist('{"name":"a"}'), /no plugins list/);
    assert.throws(() => parseConflist('{"plugins":[]}'), /no network name/);
  });

  it('defaults a bridge plugin without a bridge name to cni0 and reads macvlan masters', () => {
    assert.equal(parseConflist('{"name":"a","plugins":[{"type":"bridge"}]}').bridge, 'cni0');
    const m = parseConflist('{"name":"m","plugins":[{"type":"macvlan","master":"eth9"}]}');
    assert.equal(m.parent, 'eth9');
    assert.equal(m.driver, 'macvlan');
  });
});
