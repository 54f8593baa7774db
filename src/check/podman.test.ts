/**
 * The neighbourhood check on a podman network: the neighbour on the network's
 * bridge is found through the wires, and the check follows what podman says of
 * the network's DNS (dns_enabled): with DNS, the neighbour's name resolves from
 * inside the start container and is reached; without (CNI without the dnsname
 * plugin), a note says so and the neighbour is checked by address, so no name
 * is reported broken for a resolver that does not exist.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeDiscovery } from '../discover.js';
import { createEngineTracker, type EngineTracker } from '../engines/index.js';
import { ensurePodmanImage, sh, trySh } from '../engines/testing/image.js';
import { discoverSettled } from '../engines/testing/settled.js';
import type { Discovery } from '../model/types.js';
import { uniquePrefix } from '../testing/names.js';
import { checkNeighbourhood } from './run.js';

const P = uniquePrefix('wst', 5);
const NET = `${P}-pnet`;
const names = [`${P}-pa`, `${P}-pb`];

describe('neighbourhood check on a podman network', () => {
  let tracker: EngineTracker;
  let d: Discovery;
  let dns: boolean;

  before(async () => {
    const image = ensurePodmanImage();
    sh('podman', ['network', 'create', NET]);
    dns = sh('podman', ['network', 'inspect', NET, '--format', '{{.DNSEnabled}}']) === 'true';
    for (const n of names)
      sh('podman', ['run', '-d', '--name', n, '--network', NET, image, 'sleep', '100000']);
    tracker = createEngineTracker({ syncBudgetMs: 2000 });
    d = await discoverSettled(tracker, {}, (x) => {
      const lacking = names.filter(
        (n) => !Object.values(x.containers).some((c) => c.name === n && c.netns !== undefined),
      );
      if (!Object.values(x.networks).some((ns) => ns.interfaces.some((i) => i.network?.name === NET)))
        lacking.push(`the bridge of ${NET} named`);
      return lacking;
    });
  });

  after(async () => {
    tracker?.close();
    trySh('podman', ['rm', '-f', '-t', '0', ...names]);
    trySh('podman', ['network', 'rm', '-f', NET]);
    await closeDiscovery();
  });

  it('finds the neighbour on the podman bridge and checks it as the network allows', async () => {
    const r = await checkNeighbourhood(d, `${P}-pa`, { limits: { probeTimeoutMs: 1000 } });
    assert.deepEqual(
      r.neighbours.map((n) => n.label),
      [`${P}-pb`],
    );
    const ip = sh('podman', [
      'inspect',
      '-f',
      `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`,
      `${P}-pb`,
    ]);
    if (dns) {
      const v = r.verdicts.find((x) => x.fqdn === `${P}-pb`);
      assert.deepEqual([v?.address, v?.quality], [ip, 'verified'], JSON.stringify(r.verdicts));
    } else {
      assert.deepEqual(r.notes, [
        `network ${NET} has DNS disabled, so its neighbours are checked by address only`,
      ]);
      assert.deepEqual(
        r.verdicts.filter((v) => v.source === 'address').map((v) => [v.fqdn, v.address, v.quality]),
        [[`${P}-pb`, ip, 'verified']],
      );
    }
    // podman writes the gateway into /etc/hosts: resolved from the file and reached, not "invalid".
    const gw = sh('podman', [
      'inspect',
      '-f',
      `{{(index .NetworkSettings.Networks "${NET}").Gateway}}`,
      `${P}-pb`,
    ]);
    const host = r.verdicts.find((v) => v.fqdn === 'host.containers.internal');
    assert.deepEqual(
      [host?.address, host?.quality, host?.source, host?.via],
      [gw, 'verified', 'hosts', 'icmp'],
    );
    assert.equal(r.ok, true, JSON.stringify(r.verdicts));
  });
});
