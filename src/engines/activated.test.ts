/**
 * Socket-activated podman: an activator listens on podman.sock while no
 * podman process runs; the first connection starts `podman system service`
 * with the listening socket (LISTEN_FDS). PID 1 here is not systemd, so the
 * activator is systemd's own minimal one, systemd-socket-activate(1), which
 * execs the service in its own process on the first connection.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { eventually, poll } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { findActivatedSockets, isPodmanSocketPath } from './activated.js';
import { createEngineTracker } from './index.js';
import { buildRootfsTar, PODMAN_CONF, sh, TEST_IMAGE, trySh } from './testing/image.js';

const P = uniquePrefix();
const NOBODY = 65534;

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Unmounts whatever podman left mounted under `dir` (deepest first). */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) trySh('umount', ['-l', m]);
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe('engines: socket-activated podman', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `${P}-`));
    chmodSync(dir, 0o755);
  });
  after(() => {
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('recognises podman API socket paths', () => {
    assert.ok(isPodmanSocketPath('/run/podman/podman.sock'));
    assert.ok(isPodmanSocketPath('/run/user/1000/podman/podman.sock'));
    assert.ok(!isPodmanSocketPath('/run/podman/notpodman.sock.bak'));
    assert.ok(!isPodmanSocketPath('/run/docker.sock'));
  });

  it('finds a podman that only an activator listens for, starts it by connecting, and lists its containers', async () => {
    const home = join(dir, 'act');
    mkdirSync(home);
    const sock = join(home, 'podman.sock');
    // A podman of its own (root, run root, tmp dir, vfs: nothing mounted), so
    // its containers are not also those of the podman service the suite runs.
    const global = [
      '--root',
      join(home, 'root'),
      '--runroot',
      join(home, 'runroot'),
      '--tmpdir',
      join(home, 'tmp'),
      '--storage-driver',
      'vfs',
    ];
    const rootfs = buildRootfsTar();
    try {
      sh('podman', [...global, 'import', rootfs.tar, TEST_IMAGE]);
    } finally {
      rmSync(rootfs.dir, { recursive: true, force: true });
    }
    sh('podman', [
      ...global,
      'create',
      '--name',
      `${P}-act`,
      '--label',
      `${P}=1`,
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const activator = spawn(
      'systemd-socket-activate',
      [
        '-l',
        sock,
        '-E',
        `CONTAINERS_CONF=${PODMAN_CONF}`,
        '-E',
        `PATH=${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
        'podman',
        ...global,
        'system',
        'service',
        '--time=0',
      ],
      { stdio: 'ignore' },
    );
    // podman starts on the first connection; on a loaded host that takes longer than the default
    // request timeout: a slow start is no fault of the finding, so the test allows for it.
    const tracker = createEngineTracker({ requestTimeoutMs: 15_000, syncTimeoutMs: 30_000, retryMs: 1000 });
    try {
      const pid = activator.pid as number;
      await eventually('the activator to listen', () => existsSync(sock), { timeoutMs: 5000 });
      // Before any connection: no podman runs, only the activator holds the socket.
      assert.equal(comm(pid), 'systemd-socket-');
      const found = findActivatedSockets(scanNamespaces()).sockets.find((s) => s.socket === sock);
      assert.equal(found?.activator.pid, pid);
      assert.equal(found?.service, undefined);

      const { ok, value: last } = await poll(
        () => discover({ containers: tracker, network: false, dns: false }),
        (d) =>
          Object.values(d.containers).some(
            (c) => c.name === `${P}-act` && d.engines[c.engine]?.api.endsWith(sock) === true,
          ),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const seen = last?.warnings.filter((w) => w.pid === pid).map((w) => `${w.code}: ${w.message}`);
      assert.ok(
        ok,
        `container ${P}-act listed through the activated socket; warnings ${JSON.stringify(seen)}`,
      );
      const dd = last as Discovery;
      const engines = Object.values(dd.engines).filter((e) => e.api.endsWith(sock));
      assert.equal(engines.length, 1, 'one engine for the socket');
      const e = engines[0];
      assert.equal(e?.type, 'podman');
      // The connection started the service, in the activator's process (systemd-socket-activate execs it).
      assert.equal(comm(pid), 'podman');
      assert.equal(e?.pid, pid);
      assert.match(e?.version ?? '', /^\d+\.\d+/);
      // Next discoveries find the service process too, and still list one engine for it.
      const d2 = await discover({ containers: tracker, network: false, dns: false });
      assert.equal(Object.values(d2.engines).filter((x) => x.pid === pid).length, 1);
      assert.ok(Object.values(d2.containers).some((c) => c.name === `${P}-act`));
    } finally {
      tracker.close();
      await stop(activator);
      trySh('podman', [...global, 'rm', '-f', `${P}-act`]);
      unmountUnder(home);
    }
  });

  it('skips a podman.sock whose activator runs as an unprivileged user', async () => {
    const home = join(dir, 'nobody');
    mkdirSync(home);
    chownSync(home, NOBODY, NOBODY);
    const sock = join(home, 'podman.sock');
    // Its "service" is a sleep that never accepts: what it runs does not matter, its uid does.
    const activator = spawn(
      'setpriv',
      [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        'systemd-socket-activate',
        '-l',
        sock,
        'sleep',
        '1000',
      ],
      { stdio: 'ignore' },
    );
    const tracker = createEngineTracker({ trustUids: [] });
    try {
      await eventually('the unprivileged activator to listen', () => existsSync(sock), { timeoutMs: 5000 });
      const pid = activator.pid as number;
      const d = await discover({ containers: tracker, network: false, dns: false });
      const w = d.warnings.filter((x) => x.pid === pid);
      assert.deepEqual(
        w.map((x) => x.code),
        ['engine-untrusted'],
      );
      assert.match(
        w[0]?.message ?? '',
        /^podman \(pid \d+\) at .*podman\.sock: its listener .* runs as uid 65534/,
      );
      assert.match(w[0]?.message ?? '', /WIRESCOPE_TRUST_ENGINE_UIDS=65534/);
      assert.ok(!Object.values(d.engines).some((e) => e.api.endsWith(sock)));
    } finally {
      tracker.close();
      await stop(activator);
    }
  });
});
