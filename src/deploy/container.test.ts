/**
 * The image, started as deploy/compose.yaml starts it, sees the host: the
 * host's network namespace, a namespace bind-mounted by `ip netns add` and a
 * Docker container made here all appear in its /json, with the same
 * namespace identities as a wirescope run on the host reports; /healthz
 * answers without the token, /json only with it. Started from the same
 * compose file less one capability (SYS_PTRACE), it says so in one line and
 * serves the partial view: its own namespace, none of the container's.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ensureDockerImage, TEST_IMAGE } from '../engines/testing/image.js';
import { startServe, stopServe } from '../service/testing/serve.js';
import { eventually } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
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
  const prefix = uniquePrefix('wst', 4);
  const project = `${prefix}deploy`;
  const dir = mkdtempSync(join(tmpdir(), 'wst-deploy-'));
  const tokenFile = join(dir, 'token');
  const token = `${prefix}T0ken`;
  const netns = `${prefix}n`;
  const container = `${prefix}c`;
  const compose = composeCommand();
  let base = '';
  let env: NodeJS.ProcessEnv = {};
  let healthzAfterMs = Number.NaN;
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
    const upAt = performance.now();
    composeRun('up', '-d', '--no-build');
    // How soon the service answers, from the start of `compose up` (polled every 50 ms).
    await eventually(
      `${base}/healthz to answer 200 after compose up`,
      async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true,
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    healthzAfterMs = performance.now() - upAt;
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

  test('becomes healthy and answers /healthz without the token, /json only with it', async (t) => {
    const id = composeRun('ps', '-q', 'wirescope').trim();
    assert.match(id, /^[0-9a-f]{12,64}$/, `compose ps gave ${JSON.stringify(id)}`);
    await eventually(
      `container ${id} to report healthy (its health check fetches /healthz)`,
      async () => {
        const s = execFileSync('docker', ['inspect', '-f', '{{.State.Health.Status}}', id], {
          encoding: 'utf8',
        }).trim();
        return s === 'healthy' ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    // Docker's own clock: container start to the end of its first passing health check
    // (Docker runs the first check one interval, 1 s, after the start).
    const state = JSON.parse(
      execFileSync('docker', ['inspect', '-f', '{{json .State}}', id], { encoding: 'utf8' }),
    ) as { StartedAt: string; Health: { Log: { End: string; ExitCode: number }[] } };
    const firstPass = state.Health.Log.find((l) => l.ExitCode === 0);
    assert.ok(firstPass, 'a passing health check in the log');
    t.diagnostic(
      `/healthz answered ${healthzAfterMs.toFixed(0)} ms after compose up; Docker reported healthy ` +
        `${Date.parse(firstPass.End) - Date.parse(state.StartedAt)} ms after the container started`,
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
      `the container's /json to list netns ${hostNet} (host), ${boundNet} (/run/netns/${netns}) and ${containerNet} (docker ${container})`,
      async () => {
        const j = await getJson(base, token);
        return j && sees(j) ? j : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const served = await startServe(['serve', '--listen', '127.0.0.1:0', '--no-watch']);
    try {
      assert.ok(served.url, `host-run serve did not start: ${served.stderr}`);
      const onHost = await eventually(
        'the host-run /json to list the same namespaces',
        async () => {
          const j = await getJson(served.url ?? '');
          return j && sees(j) ? j : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      for (const j of [inContainer, onHost]) {
        assert.equal(netnsOf(j, `/run/netns/${netns}`, 'bindmount'), boundNet);
        assert.equal(netnsOf(j, container, 'docker'), containerNet);
      }
    } finally {
      await stopServe(served.proc);
    }
  });
  test("without CAP_SYS_PTRACE it says so in one line and serves its own namespace but not the container's", async () => {
    // The compose file as it is, less one line of cap_add; the build context made absolute
    // because the copy lives elsewhere.
    const file = parse(readFileSync(join(REPO, 'deploy/compose.yaml'), 'utf8')) as {
      services: { wirescope: { cap_add: string[]; build: { context: string } } };
    };
    const svc = file.services.wirescope;
    assert.ok(svc.cap_add.includes('SYS_PTRACE'), 'the compose file adds SYS_PTRACE');
    svc.cap_add = svc.cap_add.filter((c) => c !== 'SYS_PTRACE');
    svc.build.context = REPO;
    const lessFile = join(dir, 'compose-less-ptrace.yaml');
    writeFileSync(lessFile, stringify(file));
    const port = await freePort();
    const lessBase = `http://127.0.0.1:${port}`;
    const lessEnv = { ...env, WIRESCOPE_LISTEN: `127.0.0.1:${port}` };
    const less = (...args: string[]): string =>
      execFileSync(compose.cmd, [...compose.pre, '-p', `${project}less`, '-f', lessFile, ...args], {
        encoding: 'utf8',
        env: lessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    try {
      less('up', '-d', '--no-build');
      const id = less('ps', '-q', 'wirescope').trim();
      const hostNet = statSync('/proc/self/ns/net').ino;
      const containerPid = execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', container], {
        encoding: 'utf8',
      }).trim();
      const containerNet = statSync(`/proc/${containerPid}/ns/net`).ino;
      const report = await eventually(
        `container ${id} to log the capability it misses`,
        async () => {
          const r = spawnSync('docker', ['logs', id], { encoding: 'utf8' });
          const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('missing CAP_'));
          return lines.length > 0 ? lines : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      assert.equal(report.length, 1, `one report line, got ${JSON.stringify(report)}`);
      assert.match(report[0] ?? '', /^wirescope: missing CAP_SYS_PTRACE \(/);
      assert.doesNotMatch(report[0] ?? '', /CAP_SYS_ADMIN|CAP_DAC_READ_SEARCH/);
      const partial = await eventually(
        `the /json of the container without SYS_PTRACE to list the host netns ${hostNet}`,
        async () => {
          const j = await getJson(lessBase, token);
          return j?.['network-namespaces'].some((n) => n.netnsid === hostNet) ? j : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      assert.equal(
        partial['network-namespaces'].some((n) => n.netnsid === containerNet),
        false,
        `docker container ${container}'s netns ${containerNet} is listed without CAP_SYS_PTRACE`,
      );
      const native = (await (
        await fetch(`${lessBase}/api/discovery`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { missingPrivileges: { capability: string }[] };
      assert.deepEqual(
        native.missingPrivileges.map((m) => m.capability),
        ['CAP_SYS_PTRACE'],
      );
    } finally {
      spawnSync(compose.cmd, [...compose.pre, '-p', `${project}less`, '-f', lessFile, 'down', '-v'], {
        env: lessEnv,
        stdio: 'ignore',
      });
    }
  });
});
