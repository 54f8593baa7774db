/**
 * The image, started as deploy/compose.yaml starts it, sees the host: the
 * host's network namespace, a namespace bind-mounted by `ip netns add` and a
 * Docker container made here all appear in its /json, with the same
 * namespace identities as a wirescope run on the host reports; /healthz
 * answers without the token, /json only with it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDockerImage, TEST_IMAGE } from '../engines/testing/image.js';
import { eventually } from '../service/testing/http.js';
import { startServe, stopServe } from '../service/testing/serve.js';
import { ip, randomPrefix } from '../service/testing/topology.js';
import { buildImage, composeCommand, IMAGE, imageSize, REPO } from './testing/image.js';

interface Container {
  name?: string;
  type?: string;
}
interface Netns {
  netnsid: number;
  containers?: Container[];
}
interface Json {
  'network-namespaces': Netns[];
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });

async function getJson(base: string, token?: string): Promise<Json | undefined> {
  try {
    const r = await fetch(`${base}/json`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return r.ok ? ((await r.json()) as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** The netns id that holds a container of this name and type in a /json, if any. */
const netnsOf = (json: Json, name: string, type: string): number | undefined =>
  json['network-namespaces'].find((n) => n.containers?.some((c) => c.type === type && c.name === name))
    ?.netnsid;

describe('the container image under compose', { timeout: 900_000 }, () => {
  const prefix = randomPrefix();
  const project = `${prefix}deploy`;
  const dir = mkdtempSync(join(tmpdir(), 'wst-deploy-'));
  const tokenFile = join(dir, 'token');
  const token = `${prefix}T0ken`;
  const netns = `${prefix}n`;
  const container = `${prefix}c`;
  const compose = composeCommand();
  let base = '';
  let env: NodeJS.ProcessEnv = {};
  const composeRun = (...args: string[]): string =>
    execFileSync(
      compose.cmd,
      [...compose.pre, '-p', project, '-f', join(REPO, 'deploy/compose.yaml'), ...args],
      {
        encoding: 'utf8',
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );

  before(async () => {
    buildImage(IMAGE);
    writeFileSync(tokenFile, `${token}\n`);
    chmodSync(tokenFile, 0o600);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      WIRESCOPE_IMAGE: IMAGE,
      WIRESCOPE_LISTEN: `127.0.0.1:${port}`,
      WIRESCOPE_TOKEN_FILE: tokenFile,
    };
    ip('netns', 'add', netns);
    ensureDockerImage();
    execFileSync('docker', [
      'run',
      '-d',
      '--name',
      container,
      '--network',
      'none',
      TEST_IMAGE,
      'sleep',
      '600',
    ]);
    composeRun('up', '-d', '--no-build');
  });

  after(() => {
    spawnSync(
      compose.cmd,
      [...compose.pre, '-p', project, '-f', join(REPO, 'deploy/compose.yaml'), 'down', '-v'],
      {
        env,
        stdio: 'ignore',
      },
    );
    spawnSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  test('the image is under 250 MB', () => {
    const size = imageSize(IMAGE);
    assert.ok(size < 250e6, `${IMAGE} is ${(size / 1e6).toFixed(0)} MB`);
  });

  test('becomes healthy and answers /healthz without the token, /json only with it', async () => {
    const id = composeRun('ps', '-q', 'wirescope').trim();
    assert.match(id, /^[0-9a-f]{12,64}$/, `compose ps gave ${JSON.stringify(id)}`);
    await eventually(
      async () => {
        const s = execFileSync('docker', ['inspect', '-f', '{{.State.Health.Status}}', id], {
          encoding: 'utf8',
        }).trim();
        return s === 'healthy' ? s : undefined;
      },
      120_000,
      `container ${id} to report healthy (its health check fetches /healthz)`,
    );
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const denied = await fetch(`${base}/json`);
    assert.equal(denied.status, 401);
  });

  test('lists the host namespace, a bind-mounted namespace and a host Docker container, as the host-run service does', async () => {
    const hostNet = statSync('/proc/self/ns/net').ino;
    const boundNet = statSync(`/run/netns/${netns}`).ino;
    const containerPid = execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', container], {
      encoding: 'utf8',
    }).trim();
    const containerNet = statSync(`/proc/${containerPid}/ns/net`).ino;
    const sees = (j: Json): boolean =>
      j['network-namespaces'].some((n) => n.netnsid === hostNet) &&
      netnsOf(j, `/run/netns/${netns}`, 'bindmount') === boundNet &&
      netnsOf(j, container, 'docker') === containerNet;
    const inContainer = await eventually(
      async () => {
        const j = await getJson(base, token);
        return j && sees(j) ? j : undefined;
      },
      120_000,
      `the container's /json to list netns ${hostNet} (host), ${boundNet} (/run/netns/${netns}) and ${containerNet} (docker ${container})`,
    );
    const served = await startServe(['serve', '--listen', '127.0.0.1:0', '--no-watch']);
    try {
      assert.ok(served.url, `host-run serve did not start: ${served.stderr}`);
      const onHost = await eventually(
        async () => {
          const j = await getJson(served.url ?? '');
          return j && sees(j) ? j : undefined;
        },
        120_000,
        'the host-run /json to list the same namespaces',
      );
      for (const j of [inContainer, onHost]) {
        assert.equal(netnsOf(j, `/run/netns/${netns}`, 'bindmount'), boundNet);
        assert.equal(netnsOf(j, container, 'docker'), containerNet);
      }
    } finally {
      await stopServe(served.proc);
    }
  });
});
