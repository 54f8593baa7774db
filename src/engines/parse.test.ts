/** Pure parsers and relations of the engine stage, over recorded procfs text and engine JSON. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../model/types.js';
import { specIsPrivileged } from './containerd.js';
import { parseVerboseInfo } from './cri.js';
import { engineTypeOf, pickApiSocket } from './detect.js';
import { containerFromInspect, JsonLines, networkAliases, sanitizeLabels } from './docker.js';
import { containerOfProcesses, PidTranslator, parseBootTime } from './relate.js';
import { dockerDraft } from './testing/draft.js';
import { addGroups } from './tracker.js';
import { parseNetUnix } from './unix.js';

// Recorded from /proc/<dockerd>/net/unix on the test machine.
const NET_UNIX = `Num       RefCount Protocol Flags    Type St Inode Path
00000000718c29fb: 00000003 00000000 00000000 0001 03 10735 /var/run/docker/containerd/containerd.sock
000000006d77d9da: 00000002 00000000 00010000 0001 01 10725 /var/run/docker.sock
00000000ef59ba28: 00000002 00000000 00010000 0001 01 11492 /var/run/docker/containerd/containerd-debug.sock
0000000012345678: 00000002 00000000 00010000 0001 01 11493 @/containerd-shim/abc.sock@
0000000012345679: 00000002 00000000 00000000 0002 01 11494
`;

function proc(pid: number, ppid: number, nspid: number[], pidns: number, comm = 'sleep'): Draft.Process {
  return {
    pid,
    ppid,
    starttime: pid * 10,
    comm,
    cmdline: [comm],
    uid: 0,
    cgroups: [],
    capBnd: '0x0',
    namespaces: { pid: pidns },
    nspid,
  };
}

describe('engines: parsing', () => {
  it('reads listening, path-bound unix sockets from /proc/PID/net/unix', () => {
    const e = parseNetUnix(NET_UNIX);
    assert.deepEqual(
      e.map((x) => [x.inode, x.path, x.listening]),
      [
        [10735, '/var/run/docker/containerd/containerd.sock', false],
        [10725, '/var/run/docker.sock', true],
        [11492, '/var/run/docker/containerd/containerd-debug.sock', true],
      ],
    );
  });

  it('recognises engines by comm, and podman only as its API service', () => {
    assert.equal(engineTypeOf({ comm: 'dockerd', cmdline: ['dockerd'] }), 'docker');
    assert.equal(engineTypeOf({ comm: 'containerd', cmdline: ['containerd'] }), 'containerd');
    assert.equal(engineTypeOf({ comm: 'containerd-shim', cmdline: ['containerd-shim-runc-v2'] }), undefined);
    assert.equal(
      engineTypeOf({
        comm: 'podman',
        cmdline: ['podman', '--log-level=info', 'system', 'service', '--time=0'],
      }),
      'podman',
    );
    assert.equal(engineTypeOf({ comm: 'podman', cmdline: ['podman', 'run', 'x'] }), undefined);
  });

  it('picks the API socket over debug, ttrpc and metrics sockets', () => {
    assert.equal(
      pickApiSocket('containerd', [
        '/run/c/containerd.sock.ttrpc',
        '/run/c/debug.sock',
        '/run/c/containerd.sock',
      ]),
      '/run/c/containerd.sock',
    );
    assert.equal(
      pickApiSocket('docker', ['/run/docker/metrics.sock', '/run/docker.sock']),
      '/run/docker.sock',
    );
    assert.equal(pickApiSocket('docker', ['/run/docker/metrics.sock']), undefined);
  });

  it('maps a Docker inspect document, keeping PIDs only of running containers', () => {
    const running = containerFromInspect(
      {
        Id: 'abc',
        Name: '/web',
        State: { Status: 'running', Running: true, Pid: 42, StartedAt: '2026-11-23T11:00:00.5Z' },
        Config: { Labels: { a: 'b', bad: 7 }, Image: 'img' },
        HostConfig: { Privileged: true },
      } as never,
      'docker',
    );
    assert.deepEqual(running, {
      id: 'abc',
      name: 'web',
      type: 'docker',
      state: 'running',
      labels: { a: 'b' },
      privileged: true,
      pid: 42,
      startedAt: Date.parse('2026-11-23T11:00:00.5Z'),
      image: 'img',
    });
    const exited = containerFromInspect(
      { Id: 'x', Name: '/x', State: { Status: 'exited', Running: false, Pid: 0 } } as never,
      'podman',
    );
    assert.equal(exited.pid, undefined);
    assert.deepEqual(sanitizeLabels(null), {});
  });

  it('reads privileged from an OCI spec: CAP_SYS_ADMIN and no masked paths', () => {
    assert.equal(specIsPrivileged({ process: { capabilities: { bounding: ['CAP_SYS_ADMIN'] } } }), true);
    assert.equal(
      specIsPrivileged({
        process: { capabilities: { bounding: ['CAP_SYS_ADMIN'] } },
        linux: { maskedPaths: ['/proc/kcore'] },
      }),
      false,
    );
    assert.equal(specIsPrivileged({ process: { capabilities: { bounding: ['CAP_CHOWN'] } } }), false);
    assert.equal(specIsPrivileged('garbage'), false);
  });

  it('reads PID and privileged from a CRI verbose status, and nothing from malformed info', () => {
    const spec = { process: { capabilities: { bounding: ['CAP_SYS_ADMIN'] } } };
    assert.deepEqual(parseVerboseInfo({ info: JSON.stringify({ pid: 42, runtimeSpec: spec }) }), {
      pid: 42,
      privileged: true,
    });
    assert.deepEqual(parseVerboseInfo({ info: '{"pid": 0}' }), { privileged: false });
    assert.deepEqual(parseVerboseInfo({ info: 'not json' }), { privileged: false });
    assert.deepEqual(parseVerboseInfo(undefined), { privileged: false });
  });

  it('splits a chunked event stream into JSON objects and skips malformed lines', () => {
    const j = new JsonLines();
    assert.deepEqual(j.push('{"a":1}\n{"b"'), [{ a: 1 }]);
    assert.deepEqual(j.push(':2}\nnot json\n{"c":3}\n'), [{ b: 2 }, { c: 3 }]);
  });

  it('reads the boot time from /proc/stat', () => {
    assert.equal(parseBootTime('cpu 1 2 3\nbtime 1795400000\nprocesses 5\n'), 1795400000);
    assert.equal(parseBootTime('cpu 1 2 3\n'), undefined);
  });
});

describe('engines: relating PIDs and containers', () => {
  // host: 1 ─ 10 (outer engine) ; 20 (outer container init, pidns 200) ─ 21 (inner engine, nspid 21→1)
  //        ─ 22 (shim) ─ 23 (inner container init, pidns 300, nspid 23→3→1)
  const processes: Record<string, Draft.Process> = {
    '1': proc(1, 0, [1], 100, 'init'),
    '10': proc(10, 1, [10], 100, 'dockerd'),
    '20': proc(20, 1, [20, 1], 200, 'containerd'),
    '22': proc(22, 20, [22, 2], 200, 'shim'),
    '23': proc(23, 22, [23, 3, 1], 300),
    '24': proc(24, 23, [24, 4, 2], 300),
    // A process elsewhere with the same PID 3 at level 1, in another PID namespace.
    '30': proc(30, 1, [30, 1], 400),
    '33': proc(33, 30, [33, 3], 400),
  };

  it("translates a PID from an engine's PID namespace to the host PID of the same process", () => {
    const t = new PidTranslator(processes);
    assert.equal(t.toHost(processes['20'] as Draft.Process, 3), 23);
    assert.equal(t.toHost(processes['10'] as Draft.Process, 23), 23);
    assert.equal(t.toHost(processes['10'] as Draft.Process, 999), undefined);
    assert.equal(t.toHost(processes['30'] as Draft.Process, 3), 33);
  });

  it('assigns each process to its innermost enclosing container', () => {
    const owner = containerOfProcesses(
      processes,
      new Map([
        [20, 'outer'],
        [23, 'inner'],
      ]),
    );
    assert.equal(owner.get(20), 'outer');
    assert.equal(owner.get(22), 'outer');
    assert.equal(owner.get(24), 'inner');
    assert.equal(owner.get(10), null);
    assert.equal(owner.get(33), null);
  });
});

describe('engines: groups from labels', () => {
  const container = (labels: Record<string, string>): Draft.Container => dockerDraft('c', labels);

  it('groups compose projects and Kubernetes pods; empty or partial labels make no group', () => {
    const groups: Record<string, Draft.Group> = {};
    const a = container({ 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web' });
    addGroups(groups, 'k1', a, 'docker-1', undefined, []);
    const b = container({ 'com.docker.compose.project': '', 'com.docker.compose.service': 'x' });
    addGroups(groups, 'k2', b, 'docker-1', undefined, []);
    const c = container({ 'io.kubernetes.pod.namespace': 'ns' });
    addGroups(groups, 'k3', c, 'docker-1', undefined, []);
    const k = container({ 'io.kubernetes.pod.name': 'pod', 'io.kubernetes.pod.namespace': 'ns' });
    addGroups(groups, 'k4', k, 'docker-1', undefined, []);
    assert.deepEqual(a.groups, ['compose/docker-1/p']);
    assert.deepEqual(b.groups, []);
    assert.deepEqual(c.groups, []);
    assert.deepEqual(k.groups, ['pod/docker-1/ns/pod']);
    assert.equal(groups['pod/docker-1/ns/pod']?.name, 'ns/pod');
    assert.deepEqual(Object.keys(groups).sort(), ['compose/docker-1/p', 'pod/docker-1/ns/pod']);
  });

  it('groups podman pod members under the pod, even a pod the list does not know (yet)', () => {
    const groups: Record<string, Draft.Group> = {};
    const m = container({});
    addGroups(groups, 'k', m, 'podman-1', 'abc', [{ id: 'abc', name: 'mypod', labels: { x: 'y' } }]);
    const n = container({});
    addGroups(groups, 'n', n, 'podman-1', 'zzz', []);
    assert.equal(groups['podman-pod/podman-1/abc']?.name, 'mypod');
    assert.deepEqual(groups['podman-pod/podman-1/abc']?.labels, { x: 'y' });
    assert.equal(groups['podman-pod/podman-1/zzz']?.name, 'zzz');
  });
});

describe('docker network aliases', () => {
  const id = 'abcdef0123456789'.repeat(4);
  it('keeps the aliases of each network, without the short id Docker adds', () => {
    assert.deepEqual(
      networkAliases({ app: { Aliases: ['web', 'abcdef012345', 'web'] }, other: { Aliases: null } }, id),
      { app: ['web'] },
    );
    assert.equal(networkAliases(undefined, id), undefined);
    assert.equal(networkAliases({ app: { Aliases: [] } }, id), undefined);
  });
  it('drops what is not a name and bounds what an engine sends', () => {
    const many = Array.from({ length: 100 }, (_, i) => `a${i}`);
    const r = networkAliases(
      { n1: { Aliases: [1, {}, '', 'x'.repeat(300), ...many] }, n2: { Aliases: many } },
      id,
    );
    assert.equal(r?.n1?.length, 32);
    assert.equal(r?.n2, undefined);
  });
});
