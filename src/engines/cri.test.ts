/**
 * The CRI client (CRI-O's native API) against a real CRI server: containerd's
 * CRI plugin, reached through a process named "crio" that relays its socket,
 * so the turtle finder detects a CRI-O engine. Pods are made through CRI as
 * kubelet makes them (host network, so no CNI is needed).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { eventually } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { createEngineTracker } from './index.js';
import { startContainerd, type TestContainerd } from './testing/containerd.js';
import { removePod, runPod, type TestPod } from './testing/cri.js';
import { ensureContainerdImage, ensurePauseImage } from './testing/image.js';
import { discoverSettled } from './testing/settled.js';

const P = uniquePrefix();

describe('engines: CRI-O through the CRI API', () => {
  let dir = '';
  let cd: TestContainerd | undefined;
  let relay: ChildProcess | undefined;
  let pod: TestPod | undefined;
  let image = '';
  const tracker = createEngineTracker({ requestTimeoutMs: 10000 });
  let d: Discovery;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `${P}-`));
    cd = await startContainerd(join(dir, 'cd'), { criSandboxImage: 'docker.io/wirescope-test/pause:latest' });
    ensurePauseImage(cd.socket);
    image = ensureContainerdImage(cd.socket, 'k8s.io');
    const fake = join(dir, 'crio');
    symlinkSync(process.execPath, fake);
    const sock = join(dir, 'crio.sock');
    relay = spawn(
      fake,
      [
        '-e',
        `const net = require('net');
         net.createServer((c) => { const u = net.connect(${JSON.stringify(cd.socket)}); c.pipe(u); u.pipe(c);
           c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
           .listen(${JSON.stringify(sock)}, () => console.log('up'));`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise<void>((resolve) => relay?.stdout?.once('data', () => resolve()));
    pod = await runPod(cd.socket, `${P}-kpod`, `${P}-uid`, image, ['sleep', '100000']);
    d = await discoverSettled(tracker, { network: false });
  });

  after(async () => {
    tracker.close();
    if (pod && cd) await removePod(cd.socket, pod.sandboxId).catch(() => {});
    relay?.kill('SIGKILL');
    await cd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('detects the CRI-O engine and reads its version over CRI', () => {
    const e = Object.values(d.engines).find((x) => x.pid === relay?.pid);
    assert.equal(e?.type, 'crio');
    assert.equal(e?.api, `/proc/${relay?.pid}/root${join(dir, 'crio.sock')}`);
    assert.match(e?.version ?? '', /^1\./);
    assert.deepEqual(
      d.warnings.filter((w) => w.pid === relay?.pid),
      [],
    );
  });

  it('lists the pod sandbox and its container with PIDs, namespaces and the pod group', () => {
    const crio = Object.values(d.engines).find((x) => x.pid === relay?.pid);
    const ours = Object.values(d.containers).filter((c) => c.engine === crio?.id);
    const app = ours.find((c) => c.id === pod?.containerId);
    const sandbox = ours.find((c) => c.id === pod?.sandboxId);
    assert.ok(app && sandbox);
    assert.equal(app.type, 'cri');
    assert.equal(app.name, `${P}-kpod/app`);
    assert.equal(app.state, 'running');
    assert.equal(app.image, image);
    assert.equal(d.processes[String(app.pid)]?.comm, 'sleep');
    assert.equal(sandbox.name, `${P}-kpod`);
    assert.equal(d.processes[String(sandbox.pid)]?.cmdline.join(' '), 'sleep 2147483647');
    // Host network (NODE): both share the host's network namespace.
    assert.equal(app.netns, d.initial.net);
    assert.equal(sandbox.netns, d.initial.net);
    assert.equal(app.groups.length, 1);
    assert.deepEqual(app.groups, sandbox.groups);
    const g = d.groups[app.groups[0] as string];
    assert.equal(g?.type, 'io.kubernetes.pod');
    assert.equal(g?.name, `default/${P}-kpod`);
  });

  it('notices a removed pod with its next background refresh', async () => {
    const crio = Object.values(d.engines).find((x) => x.pid === relay?.pid);
    assert.ok(crio && pod && cd, 'the engine and its pod were found before');
    const { sandboxId } = pod;
    const listed = (x: Discovery) =>
      Object.values(x.containers).some((c) => c.engine === crio.id && c.id === sandboxId);
    // Seen first: a removal test that never saw the pod would pass on an empty listing.
    await discoverSettled(tracker, { network: false }, (x) =>
      listed(x) ? [] : [`sandbox ${sandboxId} listed by ${crio.id} before its removal`],
    );
    await removePod(cd.socket, sandboxId);
    pod = undefined;
    // Gone from the engine's answer: the engine is still there, its pod is not.
    await eventually(
      `the removed sandbox ${sandboxId} to disappear from ${crio.id}`,
      () => discover({ containers: tracker, network: false }),
      (x) => x.engines[crio.id] !== undefined && !listed(x),
      {
        timeoutMs: 20_000,
        show: (x) => ({
          engine: x.engines[crio.id] !== undefined,
          containers: Object.values(x.containers)
            .filter((c) => c.engine === crio.id)
            .map((c) => c.id),
        }),
      },
    );
  });
});
