/**
 * A real Docker container with a published port: Docker's DNAT rule (made
 * through iptables-nft on Debian) and its docker-proxy, both resolved to the
 * container and the process listening in it. Needs a running dockerd
 * (scripts/daemons/dockerd.sh); the image is the busybox test image.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createEngineTracker } from '../../engines/index.js';
import { ensureDockerImage, sh, trySh } from '../../engines/testing/image.js';
import { discoverSettled } from '../../engines/testing/settled.js';
import type { Discovery } from '../../model/types.js';
import { poll } from '../../testing/eventually.js';
import { uniquePrefix } from '../../testing/names.js';
import { isDockerProxy } from './docker-proxy.js';
import { closeForwardedPortSockets } from './index.js';

const P = uniquePrefix('wstf');
const PORT = randomInt(20000, 30000);

describe('forwarded ports of a Docker container with a published port', () => {
  const tracker = createEngineTracker();
  let d: Discovery;
  let containerKey = '';
  let containerIp = '';

  before(async () => {
    const image = ensureDockerImage();
    sh('docker', ['run', '-d', '--name', P, '-p', `${PORT}:80`, image, 'httpd', '-f', '-p', '80']);
    containerIp = sh('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', P]);
    // httpd may need a moment to listen; the owners assertion needs its socket.
    await poll(
      () => trySh('docker', ['exec', P, 'sh', '-c', 'netstat -ltn | grep -q ":80 "']) !== undefined,
      Boolean,
      { timeoutMs: 30_000 },
    );
    d = await discoverSettled(tracker, {}, (x) =>
      Object.values(x.containers).some((c) => c.name === P) ? [] : [`container ${P}`],
    );
    containerKey = Object.entries(d.containers).find(([, c]) => c.name === P)?.[0] ?? '';
  });

  after(() => {
    tracker.close();
    closeForwardedPortSockets();
    trySh('docker', ['rm', '-f', P]);
  });

  it("finds Docker's DNAT rule in the host namespace and resolves it to the container and its httpd", () => {
    assert.ok(containerKey, 'the engine stage found the container');
    const c = d.containers[containerKey];
    const host = Object.values(d.networks).find((n) => n.isInitial);
    const f = host?.forwardedPorts.find((x) => x.source === 'nftables' && x.hostPort === PORT);
    assert.ok(f, `a DNAT forward for port ${PORT} in ${JSON.stringify(host?.forwardedPorts)}`);
    assert.equal(f.protocol, 'tcp');
    assert.equal(f.chain, 'ip nat DOCKER');
    assert.equal(f.destAddress, containerIp);
    assert.equal(f.destPort, 80);
    assert.equal(f.destNetns, c?.netns);
    assert.equal(f.container, containerKey);
    assert.ok(
      f.owners.some((o) => o.comm === 'httpd'),
      `httpd owns the destination socket: ${JSON.stringify(f.owners)}`,
    );
  });

  it('lists the docker-proxy forwards too, resolved the same way', () => {
    const proxies = Object.values(d.processes).filter(
      (p) => isDockerProxy(p) && p.cmdline.includes(String(PORT)),
    );
    const host = Object.values(d.networks).find((n) => n.isInitial);
    const fs = host?.forwardedPorts.filter((x) => x.source === 'docker-proxy' && x.hostPort === PORT) ?? [];
    // dockerd's default (userland-proxy: true) runs one proxy per published host address.
    assert.ok(proxies.length > 0, 'dockerd runs docker-proxy for the published port');
    assert.equal(fs.length, proxies.length);
    for (const f of fs) {
      assert.equal(f.destAddress, containerIp);
      assert.equal(f.container, containerKey);
      assert.ok(f.owners.some((o) => o.comm === 'httpd'));
    }
  });
});
