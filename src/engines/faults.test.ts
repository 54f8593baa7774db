/**
 * Engines that hang, lose their socket, restart, or change under our feet:
 * discovery completes within its budget with a warning, and never attaches a
 * container to the wrong namespace.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { eventually } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { DockerClient } from './docker.js';
import { createEngineTracker } from './index.js';
import { startContainerd, type TestContainerd } from './testing/containerd.js';
import { DOCKER_SOCKET, ensureContainerdImage, ensureDockerImage, sh, trySh } from './testing/image.js';

const P = uniquePrefix();

/**
 * A node process that looks like an engine by its name: run through a
 * symlink called `comm` in `dir`, so /proc/PID/comm is that name. `script`
 * prints a line once it listens; `up` resolves then.
 */
function fakeEngine(dir: string, comm: string, script: string): { child: ChildProcess; up: Promise<void> } {
  const fake = join(dir, comm);
  symlinkSync(process.execPath, fake);
  const child = spawn(fake, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  return { child, up: new Promise<void>((resolve) => child.stdout?.once('data', () => resolve())) };
}

function engineWarnings(d: Discovery, pid: number): string[] {
  return d.warnings.filter((w) => w.pid === pid).map((w) => w.code);
}

describe('engines: faults', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `${P}-`));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('times out an engine socket that accepts and never answers, and the discovery completes', async () => {
    // A "dockerd" (node behind a symlink named dockerd, so comm is "dockerd")
    // listening on a unix socket that accepts connections and never answers.
    const sock = join(dir, 'docker.sock');
    const { child, up } = fakeEngine(
      dir,
      'dockerd',
      `require('net').createServer(() => {}).listen(${JSON.stringify(sock)}, () => console.log('up'))`,
    );
    const tracker = createEngineTracker({
      syncBudgetMs: 1000,
      requestTimeoutMs: 1500,
      syncTimeoutMs: 2000,
      retryMs: 300,
    });
    try {
      await up;
      const pid = child.pid as number;
      // The engine stage waits at most its budget (1000 ms) for new engines.
      const scan1 = scanNamespaces();
      const t0 = performance.now();
      await tracker.snapshot(scan1);
      const took = performance.now() - t0;
      assert.ok(took < 1700, `engine stage took ${took} ms with a hanging engine`);
      const d1 = await discover({ containers: tracker, network: false });
      const e = Object.values(d1.engines).find((x) => x.pid === pid);
      assert.equal(e?.type, 'docker');
      assert.equal(e?.api, `/proc/${pid}/root${sock}`);
      // Still syncing, or (when this discovery ran past the request deadline on a loaded host)
      // already unreachable: either way one warning, and no containers invented.
      const w1 = engineWarnings(d1, pid);
      assert.ok(
        ['engine-sync-pending', 'engine-unreachable'].includes(w1.join()),
        `one pending or unreachable warning, saw ${JSON.stringify(w1)}`,
      );
      assert.equal(Object.values(d1.containers).filter((c) => c.engine === e?.id).length, 0);
      // Once the sync times out, the engine is reported unreachable, and the
      // next discovery does not wait for it again.
      await new Promise((r) => setTimeout(r, 2200));
      const scan2 = scanNamespaces();
      const t1 = performance.now();
      await tracker.snapshot(scan2);
      assert.ok(performance.now() - t1 < 500, 'no wait for a failed engine, nor for its retry');
      const d2 = await discover({ containers: tracker, network: false });
      assert.deepEqual(engineWarnings(d2, pid), ['engine-unreachable']);
      // Retries run in the background and keep reporting the last failure.
      assert.match(d2.warnings.find((w) => w.pid === pid)?.message ?? '', /no answer within .*\(retrying\)/);
    } finally {
      tracker.close();
      child.kill('SIGKILL');
    }
  });

  describe('a containerd that loses its socket and restarts', () => {
    let cd: TestContainerd | undefined;
    let image = '';
    const cdir = () => join(dir, 'cd');
    const ctr = (...args: string[]) => sh('ctr', ['--address', cd?.socket ?? '', '-n', 'default', ...args]);

    before(async () => {
      cd = await startContainerd(cdir());
      image = ensureContainerdImage(cd.socket);
      ctr('container', 'create', '--label', `${P}=1`, image, `${P}-kept`, 'sleep', '1000');
    });
    after(async () => {
      await cd?.stop();
    });

    it('completes a discovery with a warning when the engine socket is gone', async () => {
      const c = cd as TestContainerd;
      const tracker = createEngineTracker();
      try {
        const d1 = await discover({ containers: tracker, network: false });
        const e1 = Object.values(d1.engines).find((e) => e.pid === c.pid);
        assert.ok(e1);
        assert.ok(Object.values(d1.containers).some((x) => x.engine === e1.id && x.name === `${P}-kept`));
        unlinkSync(c.socket);
        // A fresh tracker must connect anew and cannot.
        const fresh = createEngineTracker();
        try {
          const d2 = await discover({ containers: fresh, network: false });
          assert.deepEqual(engineWarnings(d2, c.pid), ['engine-unreachable']);
          assert.ok(!Object.values(d2.containers).some((x) => x.engine === e1.id));
          assert.ok(Object.keys(d2.engines).includes(e1.id), 'the engine itself is still listed');
        } finally {
          fresh.close();
        }
      } finally {
        tracker.close();
      }
    });

    it('drops a dead engine and re-syncs it when it comes back under a new PID', async () => {
      const tracker = createEngineTracker();
      try {
        await cd?.stop();
        cd = await startContainerd(cdir());
        const d1 = await discover({ containers: tracker, network: false });
        const e1 = Object.values(d1.engines).find((e) => e.pid === cd?.pid);
        assert.ok(e1);
        assert.ok(Object.values(d1.containers).some((x) => x.engine === e1.id && x.name === `${P}-kept`));
        const oldPid = cd.pid;
        await cd.stop();
        const d2 = await discover({ containers: tracker, network: false });
        assert.ok(!Object.values(d2.engines).some((e) => e.pid === oldPid), 'dead engine dropped');
        assert.ok(!Object.values(d2.containers).some((x) => x.engine === e1.id));
        cd = await startContainerd(cdir());
        const d3 = await discover({ containers: tracker, network: false });
        const e3 = Object.values(d3.engines).find((e) => e.pid === cd?.pid);
        assert.ok(e3);
        assert.notEqual(e3.id, e1.id);
        const kept = Object.values(d3.containers).find((x) => x.engine === e3.id && x.name === `${P}-kept`);
        assert.equal(kept?.state, 'stopped');
      } finally {
        tracker.close();
      }
    });
  });

  it('re-syncs an engine whose event stream breaks while it keeps running', async () => {
    // A real containerd behind a "containerd"-named proxy process that cuts
    // every open connection on SIGUSR1: the engine stays, its event stream breaks.
    const real = await startContainerd(join(dir, 'proxied'));
    const sock = join(dir, 'proxy.sock');
    const proxy = `
      const net = require('net'); const conns = new Set(); let hang = false;
      net.createServer((c) => {
        conns.add(c);
        c.on('error', () => c.destroy()); c.on('close', () => conns.delete(c));
        if (hang) return; // accepted, never relayed
        const u = net.connect(${JSON.stringify(real.socket)});
        c.pipe(u); u.pipe(c); conns.add(u);
        u.on('error', () => { u.destroy(); c.destroy(); }); u.on('close', () => { conns.delete(u); c.destroy(); });
        c.on('close', () => u.destroy());
      }).listen(${JSON.stringify(sock)}, () => console.log('up'));
      // SIGUSR1 cuts every open connection; SIGUSR2 toggles the hang.
      process.on('SIGUSR1', () => { for (const c of conns) c.destroy(); conns.clear(); });
      process.on('SIGUSR2', () => { hang = !hang; });`;
    const { child, up } = fakeEngine(dir, 'containerd', proxy);
    const tracker = createEngineTracker({
      syncBudgetMs: 500,
      requestTimeoutMs: 1000,
      syncTimeoutMs: 1500,
      retryMs: 200,
    });
    try {
      await up;
      const image = ensureContainerdImage(real.socket);
      sh('ctr', ['--address', real.socket, 'container', 'create', image, `${P}-proxied`, 'sleep', '1']);
      const pid = child.pid as number;
      const find = (d: Discovery) =>
        Object.values(d.containers).find(
          (c) => c.name === `${P}-proxied` && d.engines[c.engine]?.pid === pid,
        );
      const d1 = await discover({ containers: tracker, network: false });
      assert.ok(find(d1), 'listed through the proxy');
      assert.deepEqual(engineWarnings(d1, pid), []);
      child.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 300));
      const d2 = await discover({ containers: tracker, network: false });
      assert.deepEqual(engineWarnings(d2, pid), ['engine-resync']);
      assert.ok(find(d2), 'still listed after the re-sync');
      const d3 = await discover({ containers: tracker, network: false });
      assert.deepEqual(engineWarnings(d3, pid), []);
      // The new event stream works: a container created now shows up.
      sh('ctr', ['--address', real.socket, 'container', 'create', image, `${P}-after`, 'sleep', '1']);
      await eventually(
        `${P}-after listed: events flow again after the re-sync`,
        () => discover({ containers: tracker, network: false }),
        (d) =>
          Object.values(d.containers).some(
            (c) => c.name === `${P}-after` && d.engines[c.engine]?.pid === pid,
          ),
        { timeoutMs: 15_000, show: (d) => Object.values(d.containers).map((c) => c.name) },
      );

      // A re-sync that hangs: the last known containers are shown, with a warning.
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGUSR1');
      await new Promise((r) => setTimeout(r, 300));
      const d4 = await discover({ containers: tracker, network: false });
      assert.deepEqual(engineWarnings(d4, pid), ['engine-resync', 'engine-stale']);
      assert.ok(find(d4), 'last known state while the re-sync hangs');
      child.kill('SIGUSR2');
      await eventually(
        'the engine to recover once it answers again',
        () => discover({ containers: tracker, network: false }),
        (d) => engineWarnings(d, pid).length === 0 && find(d) !== undefined,
        {
          timeoutMs: 30_000,
          show: (d) => ({ warnings: engineWarnings(d, pid), listed: find(d) !== undefined }),
        },
      );
    } finally {
      tracker.close();
      child.kill('SIGKILL');
      await real.stop();
    }
  });

  it('skips a container removed between listing and inspecting', async () => {
    const image = ensureDockerImage();
    const names = [`${P}-gone`, `${P}-stays`];
    for (const n of names) sh('docker', ['create', '--name', n, '-l', `${P}=1`, image, 'sleep', '1']);
    const goneId = sh('docker', ['inspect', '-f', '{{.Id}}', names[0] as string]);
    // The real engine lists both; the first inspect then finds its container removed.
    class Racing extends DockerClient {
      private raced = false;
      protected override async inspect(id: string) {
        if (id === goneId && !this.raced) {
          this.raced = true;
          sh('docker', ['rm', '-f', goneId]);
        }
        return super.inspect(id);
      }
    }
    const client = new Racing({ api: DOCKER_SOCKET, timeoutMs: 3000 });
    try {
      await client.syncContainers();
      const ours = [...client.containers.values()].filter((c) => c.labels[P] === '1').map((c) => c.name);
      assert.deepEqual(ours, [`${P}-stays`]);
    } finally {
      client.close();
      trySh('docker', ['rm', '-f', ...names]);
    }
  });
});
