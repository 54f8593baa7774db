/**
 * The neighbourhood check with real dockerd: a start container on a
 * user-defined network resolves its neighbours through Docker's embedded DNS
 * (127.0.0.11, reachable only inside its namespace) by container name, by
 * compose service name (a network alias, as compose sets it) and as
 * NAME.NETWORK, then reaches them; a neighbour that drops everything is
 * unreachable; a container on another network is no neighbour; on the default
 * bridge there is no DNS, and the check says so and checks addresses. A
 * network alias (--network-alias) is tried as well, on its network only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { closeDiscovery } from '../discover.js';
import { createEngineTracker, type EngineTracker } from '../engines/index.js';
import { ensureDockerImage, sh, trySh } from '../engines/testing/image.js';
import { discoverSettled } from '../engines/testing/settled.js';
import type { Discovery } from '../model/types.js';
import { uniquePrefix } from '../testing/names.js';
import { checkNeighbourhood } from './run.js';
import type { CheckResult, Verdict } from './types.js';

const P = uniquePrefix('wst', 5);
const NET = `${P}-net`;
const OTHER = `${P}-other`;
const names = ['start', 'app2', 'web', 'quiet', 'far', 'def1', 'def2'].map((n) => `${P}-${n}`);

function pidOf(name: string): number {
  return Number(sh('docker', ['inspect', '-f', '{{.State.Pid}}', name]));
}

describe('neighbourhood check on Docker networks', () => {
  let tracker: EngineTracker;
  let d: Discovery;

  before(async () => {
    const image = ensureDockerImage();
    sh('docker', ['network', 'create', NET]);
    sh('docker', ['network', 'create', OTHER]);
    const run = (name: string, flags: string[], cmd: string[]) =>
      sh('docker', ['run', '-d', '--name', `${P}-${name}`, ...flags, image, ...cmd]);
    const sleep = ['sleep', '100000'];
    // Compose gives each container its service name as a label and as a network alias. The
    // start is one of two replicas of `app`: the service name answers with both addresses.
    const app = ['--network', NET, '--network-alias', 'app', '--label', 'com.docker.compose.service=app'];
    run('start', app, sleep);
    run('app2', app, sleep);
    run(
      'web',
      ['--network', NET, '--network-alias', 'web', '--label', 'com.docker.compose.service=web'],
      ['httpd', '-f', '-p', '80'],
    );
    run('quiet', ['--network', NET, '--network-alias', `${P}-cache`], sleep);
    run('far', ['--network', OTHER], sleep);
    run('def1', [], sleep);
    run('def2', [], sleep);
    // The quiet neighbour drops everything that comes in (built from outside: the test's fixture).
    execFileSync('nsenter', ['-t', String(pidOf(`${P}-quiet`)), '-n', 'nft', '-f', '-'], {
      input:
        'table inet wsdrop {\n chain dropall {\n  type filter hook input priority 0; policy drop;\n }\n}\n',
    });
    tracker = createEngineTracker({ syncBudgetMs: 2000 });
    d = await discoverSettled(tracker, {}, (x) => {
      const lacking: string[] = [];
      for (const n of names) {
        if (!Object.values(x.containers).some((c) => c.name === n && c.netns !== undefined))
          lacking.push(`container ${n}`);
      }
      const web = Object.values(x.containers).find((c) => c.name === `${P}-web`);
      const sockets = web?.netns !== undefined ? x.networks[String(web.netns)]?.sockets : undefined;
      if (!sockets?.some((s) => s.macrostate === 'listening' && s.localPort === 80))
        lacking.push("web's listener on :80");
      const start = Object.values(x.containers).find((c) => c.name === `${P}-start`);
      const ns = start?.netns !== undefined ? x.networks[String(start.netns)] : undefined;
      if (!ns?.tenants.some((t) => t.dns.resolvConf !== undefined)) lacking.push("start's resolv.conf");
      if (!Object.values(x.networks).some((n) => n.interfaces.some((i) => i.network?.name === NET)))
        lacking.push(`the bridge of ${NET} named`);
      return lacking;
    });
  });

  after(async () => {
    tracker?.close();
    trySh('docker', ['rm', '-f', ...names]);
    trySh('docker', ['network', 'rm', NET, OTHER]);
    await closeDiscovery();
  });

  const verdict = (r: CheckResult, fqdn: string): Verdict[] => r.verdicts.filter((v) => v.fqdn === fqdn);

  it('resolves names through the start container’s embedded DNS and reaches the neighbours', async () => {
    const r = await checkNeighbourhood(d, `${P}-start`, { limits: { probeTimeoutMs: 1000 } });
    assert.deepEqual(
      r.neighbours.map((n) => n.label).sort(),
      [`${P}-app2`, `${P}-quiet`, `${P}-web`],
      'the neighbours are the three other containers on the network',
    );
    const ip = (name: string) =>
      sh('docker', ['inspect', '-f', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, name]);
    const [webIp, quietIp, app2Ip, startIp] = [`${P}-web`, `${P}-quiet`, `${P}-app2`, `${P}-start`].map(ip);
    for (const fqdn of [`${P}-web`, 'web', `${P}-web.${NET}`, `web.${NET}`]) {
      const vs = verdict(r, fqdn);
      assert.deepEqual(
        vs.map((v) => [v.address, v.quality, v.via]),
        [[webIp, 'verified', 'tcp/80']],
        `${fqdn}: ${JSON.stringify(vs)}`,
      );
    }
    for (const fqdn of [`${P}-quiet`, `${P}-quiet.${NET}`, `${P}-cache`, `${P}-cache.${NET}`]) {
      const vs = verdict(r, fqdn);
      assert.deepEqual(
        vs.map((v) => [v.address, v.quality]),
        [[quietIp, 'unreachable']],
        `${fqdn} resolves but drops: ${JSON.stringify(vs)}`,
      );
    }
    for (const fqdn of [`${P}-app2`, `${P}-app2.${NET}`]) {
      const vs = verdict(r, fqdn);
      assert.deepEqual(
        vs.map((v) => [v.address, v.quality, v.via]),
        [[app2Ip, 'verified', 'icmp']],
        `${fqdn}: ${JSON.stringify(vs)}`,
      );
    }
    // The service both replicas serve: the start's own address is no address "no neighbour has".
    for (const fqdn of ['app', `app.${NET}`]) {
      const vs = verdict(r, fqdn);
      assert.deepEqual(
        vs.map((v) => [v.address, v.quality, v.via]).sort(),
        [
          [app2Ip, 'verified', 'icmp'],
          [startIp, 'verified', 'icmp'],
        ].sort(),
        `${fqdn}: ${JSON.stringify(vs)}`,
      );
    }
    assert.equal(
      r.verdicts.some((v) => v.fqdn.startsWith(`${P}-far`)),
      false,
      'a container on another network is no neighbour',
    );
    assert.equal(r.verdicts.length, 14, JSON.stringify(r.verdicts));
    assert.equal(r.ok, false);
    assert.deepEqual(r.notes, []);
  });

  it('on the default bridge, says there is no DNS and checks the neighbours by address', async () => {
    const r = await checkNeighbourhood(d, `${P}-def1`, { limits: { probeTimeoutMs: 1000 } });
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0] ?? '', /default bridge: it has no DNS/);
    const def2Ip = sh('docker', [
      'inspect',
      '-f',
      '{{.NetworkSettings.Networks.bridge.IPAddress}}',
      `${P}-def2`,
    ]);
    const v = r.verdicts.find((x) => x.fqdn === `${P}-def2`);
    assert.deepEqual([v?.address, v?.quality, v?.via, v?.source], [def2Ip, 'verified', 'icmp', 'address']);
    assert.equal(
      r.verdicts.some((x) => x.source !== 'address'),
      false,
      'no name is tried where no resolver serves it',
    );
  });
});
