/**
 * The engine stage against real engines: dockerd, a standalone containerd,
 * podman's API service and a containerd running inside a Docker container.
 * Every object carries a unique prefix and is removed in `after`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { discover } from '../discover.js';
import type { Container, Discovery } from '../model/types.js';
import { scanNamespaces } from '../namespaces/scan.js';
import { poll } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { createEngineTracker, type EngineTracker } from './index.js';
import { createPodmanPod, runSleeper } from './testing/fixtures.js';
import {
  CONTAINERD_SOCKET,
  ensureContainerdImage,
  ensureDockerImage,
  ensurePodmanImage,
  PODMAN_TEST_IMAGE,
  sh,
  trySh,
} from './testing/image.js';
import { discoverSettled } from './testing/settled.js';
import { runInTurtle, startDockerInDocker, startInnerEngine, startTurtle } from './testing/turtle.js';

const P = uniquePrefix();
const CTR = ['--address', CONTAINERD_SOCKET, '-n', 'default'];

/** Kills a containerd task, waits for it to stop, deletes task and container. */
function removeCtr(ctr: string[], id: string): void {
  trySh('ctr', [...ctr, 'task', 'kill', '-s', 'KILL', id]);
  for (let i = 0; i < 50; i++) {
    if (trySh('ctr', [...ctr, 'task', 'delete', id]) !== undefined) break;
    if (!(trySh('ctr', [...ctr, 'task', 'ls']) ?? '').includes(id)) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  trySh('ctr', [...ctr, 'container', 'delete', id]);
}

function byName(d: Discovery, name: string): Container | undefined {
  return Object.values(d.containers).find((c) => c.name === name);
}

function keyOf(d: Discovery, name: string): string | undefined {
  return Object.entries(d.containers).find(([, c]) => c.name === name)?.[0];
}

/** Discovers until `ok` holds (event-driven changes arrive asynchronously), at most `ms`. */
async function until(tracker: EngineTracker, ok: (d: Discovery) => boolean, ms = 8000): Promise<Discovery> {
  return (await poll(() => discover({ containers: tracker, network: false }), ok, { timeoutMs: ms })).value;
}

describe('engines: containers from real Docker, containerd and podman engines', () => {
  const tracker = createEngineTracker();
  let d: Discovery;
  let image = '';
  let ctrImage = '';

  before(async () => {
    image = ensureDockerImage();
    ensurePodmanImage();
    ctrImage = ensureContainerdImage();
    sh('docker', ['network', 'create', '--label', `${P}=1`, `${P}-net`]);
    runSleeper('docker', `${P}-web`, image, '--network', `${P}-net`, '-p', '127.0.0.1::8080');
    for (const svc of ['app', 'db']) {
      runSleeper(
        'docker',
        `${P}-${svc}`,
        image,
        '-l',
        `com.docker.compose.project=${P}-proj`,
        '-l',
        `com.docker.compose.service=${svc}`,
      );
    }
    // A process entered into the container with `docker exec`: a child of the shim, not of the init.
    sh('docker', ['exec', '-d', `${P}-web`, 'sleep', '100001']);
    runSleeper('docker', `${P}-side`, image, '--network', `container:${P}-web`);
    runSleeper('docker', `${P}-none`, image, '--network', 'none');
    sh('docker', ['create', '--name', `${P}-stopped`, image, 'sleep', '100000']);
    // A nerdctl-made container carries its name in a label.
    sh('ctr', [
      ...CTR,
      'container',
      'create',
      '--label',
      `nerdctl/name=${P}-nerdname`,
      ctrImage,
      `${P}-nerdid`,
      'sleep',
      '1',
    ]);
    // Created, never started: a host without CAP_SYS_RESOURCE cannot start privileged containers.
    sh('docker', ['create', '--privileged', '--name', `${P}-priv`, image, 'sleep', '100000']);
    sh('ctr', [...CTR, 'container', 'create', '--privileged', ctrImage, `${P}-ctrpriv`, 'sleep', '100000']);
    sh('ctr', [...CTR, 'run', '-d', '--label', `${P}=1`, ctrImage, `${P}-ctr`, 'sleep', '100000']);
    // A Kubernetes-style pod in containerd's k8s.io namespace (as CRI labels it): sandbox + container.
    const k8sImage = ensureContainerdImage(CONTAINERD_SOCKET, 'k8s.io');
    for (const [kind, name] of [
      ['sandbox', 'sb'],
      ['container', 'app'],
    ]) {
      sh('ctr', [
        '--address',
        CONTAINERD_SOCKET,
        '-n',
        'k8s.io',
        'run',
        '-d',
        '--label',
        `io.cri-containerd.kind=${kind}`,
        '--label',
        `io.kubernetes.pod.name=${P}-kpod`,
        '--label',
        'io.kubernetes.pod.namespace=default',
        '--label',
        `io.kubernetes.pod.uid=${P}-uid`,
        '--label',
        `io.kubernetes.container.name=${name}`,
        k8sImage,
        `${P}-k8s-${name}`,
        'sleep',
        '100000',
      ]);
    }
    createPodmanPod(`${P}-pod`, `${P}-pc`);
    // An engine in a container (own mount, PID and network namespaces) with a container of its own.
    startTurtle(`${P}-turtle`);
    runInTurtle(`${P}-turtle`, `${P}-inner`, 'sleep', '100000');
    // And a containerd inside a container of that containerd, with a container of its own.
    startInnerEngine(`${P}-turtle`, `${P}-inner2`, `${P}-deep`);
    // Docker in Docker.
    startDockerInDocker(`${P}-dind`, `${P}-dindin`);
    // Settled means every engine listed what this suite made: on a loaded host an engine (podman
    // above all) can miss one discovery's budget, and its containers would be absent from it.
    const made = ['app', 'ctr', 'ctrpriv', 'db', 'deep', 'dind', 'dindin', 'inner', 'inner2', 'nerdname']
      .concat(['none', 'pc', 'priv', 'side', 'stopped', 'turtle', 'web'])
      .map((n) => `${P}-${n}`);
    d = await discoverSettled(tracker, { network: false }, (x) =>
      made.filter((n) => byName(x, n) === undefined).map((n) => `container ${n}`),
    );
  });

  after(() => {
    tracker.close();
    trySh('docker', [
      'rm',
      '-f',
      ...['web', 'app', 'db', 'side', 'none', 'stopped', 'priv', 'turtle', 'dind'].map((n) => `${P}-${n}`),
    ]);
    trySh('docker', ['network', 'rm', `${P}-net`]);
    removeCtr(CTR, `${P}-ctr`);
    removeCtr(CTR, `${P}-ctrpriv`);
    removeCtr(CTR, `${P}-nerdid`);
    for (const name of ['sb', 'app'])
      removeCtr(['--address', CONTAINERD_SOCKET, '-n', 'k8s.io'], `${P}-k8s-${name}`);
    trySh('podman', ['pod', 'rm', '-f', `${P}-pod`]);
  });

  it('finds every engine from the process table with its API socket under /proc/PID/root', () => {
    const types = new Set(Object.values(d.engines).map((e) => e.type));
    for (const t of ['docker', 'containerd', 'podman'])
      assert.ok(types.has(t), `no ${t} engine in ${[...types]}`);
    const docker = Object.values(d.engines).find(
      (e) => e.type === 'docker' && byName(d, `${P}-web`)?.engine === e.id,
    );
    assert.ok(docker, 'the engine of the test containers');
    assert.match(docker.api, new RegExp(`^/proc/${docker.pid}/root/.*docker\\.sock$`));
    assert.match(docker.version ?? '', /^\d+\./);
    assert.equal(d.processes[String(docker.pid)]?.comm, 'dockerd');
  });

  it('lists a container on a user-defined bridge with its initial process and network namespace', () => {
    const web = byName(d, `${P}-web`);
    assert.ok(web);
    assert.equal(web.type, 'docker');
    assert.equal(web.state, 'running');
    assert.equal(web.privileged, false);
    assert.equal(web.id, sh('docker', ['inspect', '-f', '{{.Id}}', `${P}-web`]));
    const pid = Number(sh('docker', ['inspect', '-f', '{{.State.Pid}}', `${P}-web`]));
    assert.equal(web.pid, pid);
    const proc = d.processes[String(pid)];
    assert.ok(proc);
    assert.equal(web.starttime, proc.starttime);
    assert.equal(web.netns, proc.namespaces.net);
    assert.notEqual(web.netns, d.initial.net);
    assert.equal(proc.container, keyOf(d, `${P}-web`));
  });

  it('assigns processes entered with docker exec to their container by its PID namespace', () => {
    const web = byName(d, `${P}-web`);
    const exec = Object.values(d.processes).find(
      (p) =>
        p.comm === 'sleep' &&
        p.cmdline[1] === '100001' &&
        p.namespaces.pid === d.processes[String(web?.pid)]?.namespaces.pid,
    );
    assert.ok(exec);
    assert.notEqual(exec.ppid, web?.pid);
    assert.equal(exec.container, keyOf(d, `${P}-web`));
  });

  it('groups compose-labelled containers into their project', () => {
    const app = byName(d, `${P}-app`);
    const db = byName(d, `${P}-db`);
    assert.ok(app && db);
    assert.equal(app.groups.length, 1);
    assert.deepEqual(app.groups, db.groups);
    const g = d.groups[app.groups[0] as string];
    assert.ok(g);
    assert.equal(g.type, 'com.docker.compose.project');
    assert.equal(g.name, `${P}-proj`);
    assert.deepEqual([...g.containers].sort(), [keyOf(d, `${P}-app`), keyOf(d, `${P}-db`)].sort());
  });

  it("shows a container sharing another container's network namespace in that namespace", () => {
    const web = byName(d, `${P}-web`);
    const side = byName(d, `${P}-side`);
    assert.ok(web?.netns && side?.netns);
    assert.equal(side.netns, web.netns);
    assert.notEqual(side.pid, web.pid);
  });

  it('lists a --network none container with a network namespace of its own', () => {
    const none = byName(d, `${P}-none`);
    assert.ok(none?.netns);
    const others = Object.values(d.containers).filter((c) => c !== none && c.netns === none.netns);
    assert.deepEqual(others, []);
    assert.notEqual(none.netns, d.initial.net);
  });

  it('lists a stopped container without process or network namespace', () => {
    const s = byName(d, `${P}-stopped`);
    assert.ok(s);
    assert.equal(s.state, 'created');
    assert.equal(s.pid, undefined);
    assert.equal(s.netns, undefined);
  });

  it("reports the privileged flag from Docker's host config and containerd's OCI spec", () => {
    assert.equal(byName(d, `${P}-priv`)?.privileged, true);
    assert.equal(byName(d, `${P}-stopped`)?.privileged, false);
    const cp = byName(d, `${P}-ctrpriv`);
    assert.equal(cp?.privileged, true);
    assert.equal(cp?.state, 'stopped');
    assert.equal(byName(d, `${P}-ctr`)?.privileged, false);
  });

  it('lists containerd containers with their containerd namespace and task PID', () => {
    const c = byName(d, `${P}-ctr`);
    assert.ok(c);
    assert.equal(c.type, 'containerd');
    assert.equal(c.namespace, 'default');
    assert.equal(c.labels[P], '1');
    assert.equal(c.state, 'running');
    const task = sh('ctr', [...CTR, 'task', 'ls'])
      .split('\n')
      .find((l) => l.startsWith(`${P}-ctr `));
    assert.equal(c.pid, Number(task?.trim().split(/\s+/)[1]));
    assert.ok(c.netns);
    assert.equal(d.engines[c.engine]?.api, `/proc/${d.engines[c.engine]?.pid}/root${CONTAINERD_SOCKET}`);
  });

  it('names nerdctl-made containers after their nerdctl/name label', () => {
    const c = byName(d, `${P}-nerdname`);
    assert.equal(c?.id, `${P}-nerdid`);
    assert.equal(c?.type, 'containerd');
  });

  it('does not list dockerd\'s containers twice through its containerd "moby" namespace', () => {
    const webId = byName(d, `${P}-web`)?.id;
    const dupes = Object.values(d.containers).filter((c) => c.id === webId);
    assert.equal(dupes.length, 1);
  });

  it('lists every containerd namespace: CRI-labelled containers in k8s.io grouped by pod', () => {
    const sb = byName(d, `${P}-kpod/sb`);
    const app = byName(d, `${P}-kpod/app`);
    assert.ok(sb && app, 'named <pod>/<container> after their CRI labels');
    assert.equal(sb.type, 'cri');
    assert.equal(app.namespace, 'k8s.io');
    assert.equal(app.id, `${P}-k8s-app`);
    assert.deepEqual(sb.groups, app.groups);
    const g = d.groups[app.groups[0] as string];
    assert.equal(g?.type, 'io.kubernetes.pod');
    assert.equal(g?.name, `default/${P}-kpod`);
    assert.equal(g?.labels['io.kubernetes.pod.uid'], `${P}-uid`);
    assert.equal(g?.containers.length, 2);
  });

  it('lists podman containers and groups them by pod', () => {
    const pc = byName(d, `${P}-pc`);
    assert.ok(pc);
    assert.equal(pc.type, 'podman');
    assert.equal(d.engines[pc.engine]?.type, 'podman');
    assert.equal(pc.groups.length, 1);
    const g = d.groups[pc.groups[0] as string];
    assert.equal(g?.type, 'io.podman.pod');
    assert.equal(g?.name, `${P}-pod`);
    assert.equal(g?.containers.length, 2, 'the infra container and ours');
    const infra = g?.containers.map((k) => d.containers[k]).find((c) => c?.name !== `${P}-pc`);
    assert.equal(infra?.netns, pc.netns, 'pod members share the infra network namespace');
  });

  it('finds an engine inside a container and prefixes its containers with the enclosing container', () => {
    const inner = byName(d, `${P}-inner`);
    assert.ok(inner, 'container of the nested containerd');
    assert.equal(inner.prefix, `${P}-turtle`);
    const engine = d.engines[inner.engine];
    assert.ok(engine);
    assert.equal(engine.type, 'containerd');
    assert.equal(engine.container, keyOf(d, `${P}-turtle`));
    assert.equal(engine.api, `/proc/${engine.pid}/root/run/containerd/containerd.sock`);
    const turtle = byName(d, `${P}-turtle`);
    assert.equal(engine.pid, turtle?.pid, "containerd is the turtle container's initial process");
    // The inner PID is translated from the nested PID namespace to the host's.
    const proc = d.processes[String(inner.pid)];
    assert.ok(proc);
    assert.equal(proc.comm, 'sleep');
    assert.ok(proc.nspid.length >= 3, `nested twice: ${proc.nspid}`);
    assert.equal(inner.netns, proc.namespaces.net);
    assert.notEqual(inner.netns, turtle?.netns);
    assert.equal(proc.container, keyOf(d, `${P}-inner`));
  });

  it('prefixes containers of an engine two containers deep with both enclosing containers', () => {
    const deep = byName(d, `${P}-deep`);
    assert.ok(deep);
    assert.equal(deep.prefix, `${P}-turtle/${P}-inner2`);
    assert.equal(deep.state, 'stopped');
    const engine = d.engines[deep.engine];
    assert.equal(engine?.container, keyOf(d, `${P}-inner2`));
    assert.equal(byName(d, `${P}-inner2`)?.prefix, `${P}-turtle`);
    assert.equal(d.engines[byName(d, `${P}-inner2`)?.engine ?? '']?.container, keyOf(d, `${P}-turtle`));
  });

  it('finds a dockerd inside a Docker container (Docker in Docker) and prefixes its containers', () => {
    const inner = byName(d, `${P}-dindin`);
    assert.ok(inner);
    assert.equal(inner.type, 'docker');
    assert.equal(inner.prefix, `${P}-dind`);
    assert.equal(inner.state, 'running');
    const engine = d.engines[inner.engine];
    assert.equal(engine?.type, 'docker');
    assert.equal(engine?.container, keyOf(d, `${P}-dind`));
    assert.equal(engine?.pid, byName(d, `${P}-dind`)?.pid);
    assert.equal(engine?.api, `/proc/${engine?.pid}/root/var/run/docker.sock`);
    assert.equal(d.processes[String(inner.pid)]?.comm, 'sleep');
    // The inner dockerd's own containerd is found too, without listing the container twice.
    const innerContainerd = Object.values(d.engines).find(
      (e) => e.type === 'containerd' && d.processes[String(e.pid)]?.ppid === engine?.pid,
    );
    assert.ok(innerContainerd, "inner dockerd's containerd");
    assert.equal(innerContainerd.container, keyOf(d, `${P}-dind`));
    assert.equal(Object.values(d.containers).filter((c) => c.id === inner.id).length, 1);
  });

  it('follows engine events: new, stopped and removed containers show without a re-list', async () => {
    let changes = 0;
    const unsubscribe = tracker.onChange(() => changes++);
    try {
      runSleeper('docker', `${P}-late`, image);
      let now = await until(tracker, (x) => byName(x, `${P}-late`)?.state === 'running');
      assert.ok(changes > 0, 'the tracker told its listeners about the new container');
      assert.equal(byName(now, `${P}-late`)?.state, 'running');
      sh('docker', ['kill', `${P}-late`]);
      now = await until(tracker, (x) => byName(x, `${P}-late`)?.state === 'exited');
      assert.equal(byName(now, `${P}-late`)?.pid, undefined);
      sh('docker', ['rm', `${P}-late`]);
      now = await until(tracker, (x) => byName(x, `${P}-late`) === undefined);
      assert.equal(byName(now, `${P}-late`), undefined);
    } finally {
      unsubscribe();
      trySh('docker', ['rm', '-f', `${P}-late`]);
    }
  });

  it('follows containerd and podman events too', async () => {
    try {
      sh('ctr', [...CTR, 'run', '-d', ctrImage, `${P}-ctr-late`, 'sleep', '100000']);
      runSleeper('podman', `${P}-pc-late`, PODMAN_TEST_IMAGE);
      let now = await until(
        tracker,
        (x) =>
          byName(x, `${P}-ctr-late`)?.state === 'running' && byName(x, `${P}-pc-late`)?.state === 'running',
      );
      assert.ok(byName(now, `${P}-ctr-late`)?.pid);
      assert.ok(byName(now, `${P}-pc-late`)?.pid);
      removeCtr(CTR, `${P}-ctr-late`);
      sh('podman', ['rm', '-f', `${P}-pc-late`]);
      now = await until(tracker, (x) => !byName(x, `${P}-ctr-late`) && !byName(x, `${P}-pc-late`));
      assert.equal(byName(now, `${P}-ctr-late`), undefined);
      assert.equal(byName(now, `${P}-pc-late`), undefined);
    } finally {
      removeCtr(CTR, `${P}-ctr-late`);
      trySh('podman', ['rm', '-f', `${P}-pc-late`]);
    }
  });

  it('relates containers to the network namespaces the network stage discovers, as tenants', async () => {
    const full = await discover({ containers: tracker });
    for (const name of [`${P}-web`, `${P}-side`, `${P}-none`, `${P}-ctr`, `${P}-pc`, `${P}-inner`]) {
      const c = byName(full, name);
      assert.ok(c?.netns, name);
      const ns = full.networks[String(c.netns)];
      assert.ok(ns, `${name}: network namespace ${c.netns} discovered`);
      assert.ok(
        ns.tenants.some((t) => t.pid === c.pid),
        `${name}: its initial process is a tenant of its network namespace`,
      );
    }
    const web = byName(full, `${P}-web`);
    const ifs = full.networks[String(web?.netns)]?.interfaces.map((i) => i.kind) ?? [];
    assert.ok(ifs.includes('veth'), 'the bridge-attached container has its veth');
    const none = byName(full, `${P}-none`);
    assert.deepEqual(
      full.networks[String(none?.netns)]?.interfaces.map((i) => i.kind),
      ['loopback'],
    );
  });

  it('answers a warm discovery from the cache, without asking the engines', async () => {
    // Proof by a frozen engine rather than a stopwatch: with every engine stopped (SIGSTOP), any
    // request would wait for its answer until the tracker's request timeout (3 s); the snapshot
    // must come long before that, with the containers it knows.
    const scan = scanNamespaces();
    const warm = await tracker.snapshot(scan);
    const pids = Object.values(warm.engines).map((e) => e.pid);
    assert.ok(pids.length >= 3, `the engines of this test: ${JSON.stringify(warm.engines)}`);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const w = await Promise.race([
        tracker.snapshot(scan),
        new Promise<undefined>((r) => setTimeout(r, 1500, undefined)),
      ]);
      assert.ok(w, 'the snapshot did not wait for a frozen engine');
      assert.ok(Object.values(w.containers).some((c) => c.name === `${P}-web`));
      const codes = (ws: typeof w.warnings) =>
        ws.filter((x) => x.code.startsWith('engine-')).map((x) => `${x.engine} ${x.code}`);
      assert.deepEqual(codes(w.warnings), codes(warm.warnings), 'nothing asked, nothing new missing');
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
  });
});
