import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CMDLINE_CAP } from '../procfs/read.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { lastHelperShare } from './parallel.js';
import { scanNamespaces } from './scan.js';
import { addSocket, mergePartial, newState, toPartial } from './state.js';
import { Fixtures, nsIno, starttimeOf, token, waitDeadSync, waitForSleep } from './testing/fixtures.js';

describe('namespace scan on the real kernel', () => {
  const fx = new Fixtures();
  after(() => fx.cleanup());

  describe('a network namespace held only by a process', () => {
    let pid = 0;
    let netns = 0;
    before(async () => {
      const t = token();
      fx.start(['unshare', '--net', 'sleep', t]);
      [pid = 0] = await waitForSleep(t);
      netns = nsIno(pid, 'net');
    });

    it('lists the namespace with that process as its only member and leader', () => {
      const scan = scanNamespaces();
      const ns = scan.namespaces[netns];
      assert.ok(ns, 'namespace found');
      assert.equal(ns.type, 'net');
      assert.deepEqual(ns.processes, [pid]);
      assert.deepEqual(ns.leaders, [pid]);
      assert.deepEqual(ns.bindMounts, []);
      assert.deepEqual(ns.fds, []);
      assert.equal(ns.ref, `/proc/${pid}/ns/net`);
      assert.equal(ns.owner, scan.initial.user, 'owned by the initial user namespace');
      assert.ok(ns.dev > 0);
    });

    it('describes the process with pid, starttime, comm, cmdline and all its namespaces', () => {
      const scan = scanNamespaces();
      const p = scan.processes[pid];
      assert.ok(p);
      assert.equal(p.comm, 'sleep');
      assert.equal(p.starttime, starttimeOf(pid));
      assert.equal(p.cmdline[0], 'sleep');
      assert.equal(p.uid, 0);
      assert.match(p.capBnd, /^0x[0-9a-f]+$/);
      assert.equal(p.namespaces.net, netns);
      assert.equal(p.namespaces.uts, nsIno('self', 'uts'));
      assert.deepEqual(p.nspid, [pid]);
      assert.ok(p.cgroups.length > 0);
    });

    it('finds the same when the process scan is shared with a helper thread', () => {
      const shared = scanNamespaces({ threads: true, helperFirstMs: 10_000 });
      const share = lastHelperShare();
      const single = scanNamespaces({ threads: false });
      assert.deepEqual(shared.namespaces[netns], single.namespaces[netns]);
      assert.deepEqual(shared.processes[pid], single.processes[pid]);
      assert.deepEqual(shared.initial, single.initial);
      assert.ok(share > 0, 'the helper scanned some processes');
    });

    it('limits the scan to the requested namespace types', () => {
      const scan = scanNamespaces({ namespaceTypes: ['net'] });
      assert.ok(Object.values(scan.namespaces).every((n) => n.type === 'net'));
      assert.ok(scan.namespaces[netns]);
      assert.deepEqual(Object.keys(scan.processes[pid]?.namespaces ?? {}), ['net']);
    });
  });

  describe('a network namespace held only by a bind mount (ip netns add)', () => {
    const name = uniquePrefix();
    let ino = 0;
    before(() => {
      ino = fx.netnsAdd(name);
    });

    it('lists it with the mount path, the mount namespace it is visible in, and that path as ref', () => {
      const scan = scanNamespaces();
      const ns = scan.namespaces[ino];
      assert.ok(ns, 'namespace found');
      assert.deepEqual(ns.processes, []);
      assert.deepEqual(ns.leaders, []);
      const own = nsIno('self', 'mnt');
      const mount = ns.bindMounts.find((b) => b.mntns === own);
      assert.deepEqual(mount, {
        path: `/run/netns/${name}`,
        mntns: own,
        reachablePath: `/run/netns/${name}`,
      });
      assert.equal(ns.ref, `/run/netns/${name}`);
      assert.equal(ns.owner, scan.initial.user);
    });

    it('does not find it when bind mounts are not a source', () => {
      const scan = scanNamespaces({ sources: { bindMounts: false } });
      assert.equal(scan.namespaces[ino], undefined);
    });
  });

  describe('a bind mount visible only in another mount namespace', () => {
    let pid = 0;
    let netns = 0;
    let mntns = 0;
    before(async () => {
      const t = token();
      // A private mount namespace in which a new netns is bind-mounted onto a
      // file that exists nowhere else, then the process waits.
      fx.start([
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t tmpfs none /mnt && touch /mnt/ns && unshare --net sh -c 'mount --bind /proc/$$/ns/net /mnt/ns; exec sleep ${t}'`,
      ]);
      [pid = 0] = await waitForSleep(t);
      netns = nsIno(pid, 'net');
      mntns = nsIno(pid, 'mnt');
    });

    it('finds it through the mountinfo of a process in that mount namespace, with a reachable path', () => {
      const ns = scanNamespaces().namespaces[netns];
      assert.ok(ns);
      const mount = ns.bindMounts.find((b) => b.mntns === mntns);
      assert.ok(mount, 'bind mount in the private mount namespace');
      assert.equal(mount.path, '/mnt/ns');
      assert.match(mount.reachablePath ?? '', /^\/proc\/\d+\/root\/mnt\/ns$/);
      assert.equal(ns.bindMounts.filter((b) => b.mntns === nsIno('self', 'mnt')).length, 0);
    });
  });

  describe('a network namespace held only by an open fd of a process living elsewhere', () => {
    let holder = 0;
    let netns = 0;
    before(async () => {
      const t = token();
      const t0 = token();
      const owner = fx.start(['unshare', '--net', 'sleep', t0]);
      const [ownerPid = 0] = await waitForSleep(t0);
      netns = nsIno(ownerPid, 'net');
      fx.start(['sh', '-c', `exec 7</proc/${ownerPid}/ns/net; exec sleep ${t}`]);
      [holder = 0] = await waitForSleep(t);
      const exited = new Promise((r) => owner.once('exit', r));
      owner.kill('SIGKILL');
      await exited;
    });

    it('lists it with the fd as holder and the fd path as ref', () => {
      const ns = scanNamespaces().namespaces[netns];
      assert.ok(ns, 'namespace found');
      assert.deepEqual(ns.processes, []);
      assert.deepEqual(ns.fds, [{ pid: holder, starttime: starttimeOf(holder), fd: 7 }]);
      assert.equal(ns.ref, `/proc/${holder}/fd/7`);
    });

    it('does not find it when fds are not a source', () => {
      assert.equal(scanNamespaces({ sources: { fds: false } }).namespaces[netns], undefined);
    });
  });

  describe('a network namespace held by an fd opened through its bind mount (how CNI, runc and ip netns users hold one)', () => {
    const name = uniquePrefix();
    let netns = 0;
    let holder = 0;
    before(async () => {
      netns = fx.netnsAdd(name);
      const t = token();
      // fd 6 is open on "/", a directory: its link reads "/" just like a detached nsfs mount's.
      fx.start(['sh', '-c', `exec sleep ${t} 3</run/netns/${name} 6</`]);
      [holder = 0] = await waitForSleep(t);
    });

    const heldBy = (ns: { fds: { pid: number; fd: number }[] } | undefined) =>
      ns?.fds.filter((f) => f.pid === holder).map((f) => f.fd);

    it('lists the fd beside the bind mount, though its link reads as the mount point', () => {
      assert.equal(readlinkSync(`/proc/${holder}/fd/3`), `/run/netns/${name}`);
      const scan = scanNamespaces();
      const ns = scan.namespaces[netns];
      assert.ok(ns, 'namespace found');
      assert.deepEqual(ns.fds, [{ pid: holder, starttime: starttimeOf(holder), fd: 3 }]);
      assert.ok(ns.bindMounts.some((b) => b.path === `/run/netns/${name}`));
      for (const other of Object.values(scan.namespaces)) {
        assert.ok(!heldBy(other)?.includes(6), `the directory fd is no namespace (${other.ino})`);
      }
    });

    it('still lists it after ip netns del, held by that fd alone (its link now reads "/"), also with the helper thread', () => {
      ip('netns', 'delete', name);
      assert.equal(readlinkSync(`/proc/${holder}/fd/3`), '/');
      for (const threads of [false, true]) {
        const ns = scanNamespaces({ threads, helperFirstMs: threads ? 10_000 : 0 }).namespaces[netns];
        assert.ok(ns, `namespace found (threads: ${threads})`);
        assert.equal(ns.type, 'net');
        assert.deepEqual(ns.processes, []);
        assert.deepEqual(ns.bindMounts, []);
        assert.deepEqual(ns.fds, [{ pid: holder, starttime: starttimeOf(holder), fd: 3 }]);
        assert.equal(ns.ref, `/proc/${holder}/fd/3`);
      }
    });

    it('does not find it when fds are not a source', () => {
      assert.equal(scanNamespaces({ sources: { fds: false } }).namespaces[netns], undefined);
    });
  });

  describe('a UTS namespace held by an fd opened through its bind mount', () => {
    let uts = 0;
    let holder = 0;
    let file = '';
    before(async () => {
      file = join(fx.tempDir(), 'uts');
      const t0 = token();
      const owner = fx.start(['unshare', '--uts', 'sleep', t0]);
      const [ownerPid = 0] = await waitForSleep(t0);
      uts = nsIno(ownerPid, 'uts');
      fx.bindMount(`/proc/${ownerPid}/ns/uts`, file);
      const t = token();
      fx.start(['sh', '-c', `exec sleep ${t} 4<${file}`]);
      [holder = 0] = await waitForSleep(t);
      const exited = new Promise((r) => owner.once('exit', r));
      owner.kill('SIGKILL');
      await exited;
    });

    it('lists the fd beside the bind mount', () => {
      assert.equal(readlinkSync(`/proc/${holder}/fd/4`), file);
      const ns = scanNamespaces().namespaces[uts];
      assert.ok(ns, 'namespace found');
      assert.equal(ns.type, 'uts');
      assert.deepEqual(ns.processes, []);
      assert.deepEqual(ns.fds, [{ pid: holder, starttime: starttimeOf(holder), fd: 4 }]);
      assert.deepEqual(
        ns.bindMounts.map((b) => b.path),
        [file],
      );
    });

    it('after the mount is detached, lists it held by the fd alone, its type asked of the kernel', () => {
      execFileSync('umount', ['-l', file]);
      assert.equal(readlinkSync(`/proc/${holder}/fd/4`), '/');
      const ns = scanNamespaces().namespaces[uts];
      assert.ok(ns, 'namespace found');
      assert.equal(ns.type, 'uts');
      assert.deepEqual(ns.bindMounts, []);
      assert.deepEqual(ns.fds, [{ pid: holder, starttime: starttimeOf(holder), fd: 4 }]);
      assert.equal(ns.ref, `/proc/${holder}/fd/4`);
    });
  });

  describe("an fd opened through a bind mount that exists only in the holder's own mount namespace", () => {
    let netns = 0;
    let holder = 0;
    // A mount point no scan has seen before: found only if the holder's
    // mount namespace is read before its fds.
    const point = `/mnt/${uniquePrefix()}`;
    before(async () => {
      const t0 = token();
      const owner = fx.start(['unshare', '--net', 'sleep', t0]);
      const [ownerPid = 0] = await waitForSleep(t0);
      netns = nsIno(ownerPid, 'net');
      const t = token();
      fx.start([
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t tmpfs none /mnt && touch ${point} && mount --bind /proc/${ownerPid}/ns/net ${point} && exec sleep ${t} 5<${point}`,
      ]);
      [holder = 0] = await waitForSleep(t);
      const exited = new Promise((r) => owner.once('exit', r));
      owner.kill('SIGKILL');
      await exited;
    });

    it('lists the fd, whose link names a path of that other mount namespace', () => {
      assert.equal(readlinkSync(`/proc/${holder}/fd/5`), point);
      const ns = scanNamespaces({ threads: false }).namespaces[netns];
      assert.ok(ns, 'namespace found');
      assert.deepEqual(ns.fds, [{ pid: holder, starttime: starttimeOf(holder), fd: 5 }]);
      assert.deepEqual(
        ns.bindMounts.map((b) => [b.path, b.mntns]),
        [[point, nsIno(holder, 'mnt')]],
      );
    });
  });

  describe('socket and tun fds, collected in the same pass over /proc/PID/fd', () => {
    let holder = 0;
    let socket = 0;
    before(async () => {
      const t = token();
      // dup2 makes the copies inheritable, so sleep keeps them across exec.
      const script = [
        'import os, socket, sys',
        's = socket.socket(); os.dup2(s.fileno(), 9)',
        "os.dup2(os.open('/dev/net/tun', os.O_RDWR), 8)",
        "os.execvp('sleep', ['sleep', sys.argv[1]])",
      ].join('\n');
      fx.start(['python3', '-c', script, t]);
      [holder = 0] = await waitForSleep(t);
      socket = Number(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${holder}/fd/9`))?.[1]);
    });

    it('hands over socket inode → (pid, fd) and tun fds of processes it relates by pid and starttime', () => {
      const scan = scanNamespaces();
      assert.ok(scan.fdOwners, 'collected with the fd source on');
      assert.deepEqual(scan.fdOwners.sockets.get(socket), [holder, 9]);
      assert.deepEqual(
        scan.fdOwners.tuns.filter((f) => f.pid === holder),
        [{ pid: holder, fd: 8 }],
      );
      assert.equal(scan.processes[holder]?.starttime, starttimeOf(holder));
    });

    it('carries the socket and tun fds a helper thread found over to the calling thread intact', () => {
      const part = newState('/proc', new Set(['net']));
      addSocket(part, 5001, 100, 3);
      addSocket(part, 5001, 101, 4);
      addSocket(part, 5002, 101, 5);
      part.owners.tuns.push({ pid: 101, fd: 6 });
      const merged = newState('/proc', new Set(['net']));
      addSocket(merged, 5001, 102, 7);
      mergePartial(merged, structuredClone(toPartial(part)));
      assert.deepEqual(merged.owners, {
        sockets: new Map([
          [5001, [102, 7, 100, 3, 101, 4]],
          [5002, [101, 5]],
        ]),
        tuns: [{ pid: 101, fd: 6 }],
      });
    });

    it('has none when fds are not a source', () => {
      assert.equal(scanNamespaces({ sources: { fds: false } }).fdOwners, undefined);
    });

    it('has them also when the helper thread scanned part of the processes', () => {
      const scan = scanNamespaces({ threads: true, helperFirstMs: 10_000 });
      assert.ok(lastHelperShare() > 0, 'the helper scanned some processes');
      assert.deepEqual(scan.fdOwners?.sockets.get(socket), [holder, 9]);
      assert.deepEqual(
        scan.fdOwners?.tuns.filter((f) => f.pid === holder),
        [{ pid: holder, fd: 8 }],
      );
    });
  });

  describe('nested PID namespaces', () => {
    let outer = 0;
    let inner = 0;
    before(async () => {
      const t = token();
      fx.start(['unshare', '--pid', '--fork', 'unshare', '--pid', '--fork', 'sleep', t]);
      [inner = 0] = await waitForSleep(t);
      // The sleep's parent is the middle unshare, PID 1 of the outer new namespace.
      const scan = scanNamespaces({ namespaceTypes: ['pid'] });
      outer = scan.processes[inner]?.ppid ?? 0;
    });

    it('relates each PID namespace to its parent and finds the leaders and NSpid', () => {
      const scan = scanNamespaces();
      const pInner = scan.processes[inner];
      const pOuter = scan.processes[outer];
      assert.ok(pInner && pOuter);
      const nsInner = scan.namespaces[pInner.namespaces.pid ?? 0];
      const nsOuter = scan.namespaces[pOuter.namespaces.pid ?? 0];
      assert.ok(nsInner && nsOuter);
      assert.notEqual(nsInner.ino, nsOuter.ino);
      assert.equal(nsInner.parent, nsOuter.ino);
      assert.equal(nsOuter.parent, scan.initial.pid);
      assert.deepEqual(nsInner.leaders, [inner]);
      assert.deepEqual(nsOuter.leaders, [outer]);
      // A process belongs to the one PID namespace its ns/pid link names, the innermost.
      assert.deepEqual(nsOuter.processes, [outer]);
      assert.deepEqual(pInner.nspid, [inner, 2, 1]);
      assert.deepEqual(pOuter.nspid, [outer, 1]);
    });
  });

  describe('a user namespace hierarchy', () => {
    let pid = 0;
    before(async () => {
      const t = token();
      // The outer unshare exec()s the inner one without forking, so the
      // outer user namespace keeps no process: only the kernel's parent link
      // (NS_GET_PARENT) leads to it.
      fx.start([
        'unshare',
        '--user',
        '--map-root-user',
        'unshare',
        '--user',
        '--map-root-user',
        '--net',
        'sleep',
        t,
      ]);
      [pid = 0] = await waitForSleep(t);
    });

    it('finds the process-less parent user namespace and the owner of the network namespace', () => {
      const scan = scanNamespaces();
      const p = scan.processes[pid];
      assert.ok(p);
      const inner = scan.namespaces[p.namespaces.user ?? 0];
      assert.ok(inner);
      assert.equal(inner.type, 'user');
      assert.equal(inner.ownerUid, 0);
      assert.ok(inner.parent !== undefined);
      const outer = scan.namespaces[inner.parent];
      assert.ok(outer, 'parent user namespace listed');
      assert.deepEqual(outer.processes, []);
      assert.equal(outer.parent, scan.initial.user);
      assert.equal(outer.owner, scan.initial.user);
      assert.equal(inner.owner, outer.ino);
      const net = scan.namespaces[p.namespaces.net ?? 0];
      assert.ok(net);
      assert.equal(net.owner, inner.ino, 'the network namespace is owned by the innermost user namespace');
    });
  });

  describe('a UTS namespace held only by one thread of a process', () => {
    let worker: Worker | undefined;
    let tid = 0;
    let uts = 0;
    before(async () => {
      const libc = new URL('../kernel/libc.js', import.meta.url).href;
      // A thread may unshare its own UTS namespace; the rest of the process stays.
      worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
         import(${JSON.stringify(libc)}).then((libc) => {
           libc.unshare(libc.CLONE_NEWUTS);
           const ino = require('node:fs').statSync('/proc/thread-self/ns/uts').ino;
           parentPort.postMessage({ tid: libc.gettid(), ino });
           setInterval(() => {}, 1 << 30);
         });`,
        { eval: true },
      );
      const msg = await new Promise<{ tid: number; ino: number }>((resolve, reject) => {
        worker?.once('message', resolve);
        worker?.once('error', reject);
      });
      tid = msg.tid;
      uts = msg.ino;
    });
    after(async () => {
      await worker?.terminate();
    });

    it('attaches the namespace to the process through its task, with the task link as ref', () => {
      assert.notEqual(uts, nsIno('self', 'uts'));
      const scan = scanNamespaces();
      const ns = scan.namespaces[uts];
      assert.ok(ns, 'namespace found');
      assert.deepEqual(ns.processes, [process.pid]);
      assert.equal(ns.ref, `/proc/${process.pid}/task/${tid}/ns/uts`);
      // The process itself (its main thread) stays in the initial one.
      assert.equal(scan.processes[process.pid]?.namespaces.uts, nsIno('self', 'uts'));
    });

    it('does not find it when tasks are not a source', () => {
      assert.equal(scanNamespaces({ sources: { tasks: false } }).namespaces[uts], undefined);
    });
  });

  describe('namespaces no process has entered yet', () => {
    let timePid = 0;
    let pidPid = 0;
    before(async () => {
      // unshare(CLONE_NEWTIME) only sets time_for_children, and the next
      // exec() moves the caller in (timens_commit), so the unshare CLI cannot
      // show it: a Node process calls unshare itself and stays.
      const libc = new URL('../kernel/libc.js', import.meta.url).href;
      const child = fx.adopt(
        spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const libc = await import(${JSON.stringify(libc)});
             libc.unshare(libc.CLONE_NEWTIME);
             process.stdout.write('ready\\n');
             setInterval(() => {}, 1 << 30);`,
          ],
          { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
        ),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout?.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`time namespace holder exited with ${code}`)));
      });
      child.stdout?.destroy();
      timePid = child.pid ?? 0;
      // Without --fork, unshare(CLONE_NEWPID) only sets pid_for_children.
      const t2 = token();
      fx.start(['unshare', '--pid', 'sleep', t2]);
      [pidPid = 0] = await waitForSleep(t2);
    });

    it('finds a time namespace through time_for_children, held for the children of that process', () => {
      const scan = scanNamespaces();
      const ino = statSync(`/proc/${timePid}/ns/time_for_children`).ino;
      const ns = scan.namespaces[ino];
      assert.ok(ns, 'namespace found');
      assert.equal(ns.type, 'time');
      assert.deepEqual(ns.processes, []);
      assert.deepEqual(ns.forChildrenOf, [timePid]);
      assert.equal(ns.ref, `/proc/${timePid}/ns/time_for_children`);
      assert.equal(scan.processes[timePid]?.namespaces.time, scan.initial.time);
    });

    it('still reports a process whose new PID namespace the kernel cannot name yet', () => {
      // The kernel refuses pid_for_children until the namespace has an init.
      assert.throws(() => statSync(`/proc/${pidPid}/ns/pid_for_children`));
      const scan = scanNamespaces();
      assert.equal(scan.processes[pidPid]?.namespaces.pid, scan.initial.pid);
      assert.ok(!scan.warnings.some((w) => w.pid === pidPid));
    });
  });

  describe('namespaces and processes that go away during the scan', () => {
    it('turns a deleted bind-mounted namespace and a killed process into warnings', async () => {
      const name = uniquePrefix();
      const ino = fx.netnsAdd(name);
      const t = token();
      fx.start(['unshare', '--net', 'sleep', t]);
      const [pid = 0] = await waitForSleep(t);
      const netns = nsIno(pid, 'net');
      const scan = scanNamespaces({
        onPhase: (phase) => {
          if (phase !== 'bindmounts') return;
          ip('netns', 'delete', name);
          process.kill(pid, 'SIGKILL');
          waitDeadSync(pid);
        },
      });
      assert.equal(scan.namespaces[ino], undefined);
      assert.equal(scan.namespaces[netns], undefined);
      assert.equal(scan.processes[pid], undefined, 'the killed process is not reported');
      const codes = scan.warnings.map((w) => `${w.code}:${w.ns ?? w.pid}`);
      assert.ok(codes.includes(`namespace-vanished:${ino}`), codes.join(' '));
      assert.ok(codes.includes(`namespace-vanished:${netns}`), codes.join(' '));
      assert.ok(codes.includes(`process-vanished:${pid}`), codes.join(' '));
      for (const ns of Object.values(scan.namespaces)) assert.ok(!ns.processes.includes(pid));
    });
  });

  describe('a holder that goes away while another remains', () => {
    it('drops the unmounted bind mount with a warning and keeps the namespace through its process', async () => {
      const name = uniquePrefix();
      const ino = fx.netnsAdd(name);
      const t = token();
      fx.start(['ip', 'netns', 'exec', name, 'sleep', t]);
      const [pid = 0] = await waitForSleep(t);
      assert.equal(nsIno(pid, 'net'), ino);
      const scan = scanNamespaces({
        onPhase: (phase) => {
          if (phase === 'bindmounts') ip('netns', 'delete', name);
        },
      });
      const ns = scan.namespaces[ino];
      assert.ok(ns, 'namespace kept');
      assert.deepEqual(ns.processes, [pid]);
      assert.equal(ns.ref, `/proc/${pid}/ns/net`);
      const own = nsIno('self', 'mnt');
      assert.ok(!ns.bindMounts.some((b) => b.mntns === own), JSON.stringify(ns.bindMounts));
      assert.ok(scan.warnings.some((w) => w.code === 'holder-vanished' && w.ns === ino));
    });
  });

  describe('a holder path replaced by a FIFO during the scan', () => {
    it('does not block opening it, drops that holder with a warning and keeps the namespace through its process', async () => {
      const file = join(fx.tempDir(), 'ns');
      const t = token();
      fx.start(['unshare', '--net', 'sleep', t]);
      const [pid = 0] = await waitForSleep(t);
      const netns = nsIno(pid, 'net');
      fx.bindMount(`/proc/${pid}/ns/net`, file);
      // A blocking open of the FIFO would wait for this writer; bounded so a regression fails
      // (takes >= 10 s) instead of hanging the test run.
      let started = 0;
      const scan = scanNamespaces({
        onPhase: (phase) => {
          if (phase !== 'bindmounts') return;
          execFileSync('umount', [file]);
          rmSync(file);
          execFileSync('mkfifo', [file]);
          fx.start(['sh', '-c', `sleep 10; echo > ${file}`]);
          started = Date.now();
        },
      });
      const took = Date.now() - started;
      assert.ok(took < 8000, `the hierarchy pass took ${took} ms: it waited on the FIFO`);
      const ns = scan.namespaces[netns];
      assert.ok(ns, 'namespace kept');
      assert.deepEqual(ns.processes, [pid]);
      assert.ok(!ns.bindMounts.some((b) => b.path === file), JSON.stringify(ns.bindMounts));
      assert.equal(ns.ref, `/proc/${pid}/ns/net`);
      assert.ok(scan.warnings.some((w) => w.code === 'holder-vanished' && w.ns === netns));
    });
  });

  describe('while processes and namespaces come and go', () => {
    it('never reports a relation to a process or namespace that is not in the result', () => {
      // Two loops churning short-lived processes in new namespaces.
      for (let i = 0; i < 2; i++) {
        fx.start([
          'sh',
          '-c',
          'while :; do unshare --net --uts sh -c "sleep 0.01" & unshare --pid --fork true; wait; done',
        ]);
      }
      for (let round = 0; round < 15; round++) {
        const scan = scanNamespaces({ threads: round % 2 === 0 });
        for (const ns of Object.values(scan.namespaces)) {
          for (const pid of ns.processes)
            assert.ok(scan.processes[pid], `process ${pid} of ${ns.type}:${ns.ino}`);
          for (const pid of ns.leaders) assert.ok(ns.processes.includes(pid), `leader ${pid} is a member`);
          for (const f of ns.fds)
            assert.equal(scan.processes[f.pid]?.starttime, f.starttime, `fd holder ${f.pid}`);
          for (const pid of ns.forChildrenOf ?? []) assert.ok(scan.processes[pid], `for_children ${pid}`);
        }
        for (const p of Object.values(scan.processes)) {
          for (const [type, ino] of Object.entries(p.namespaces)) {
            const ns = scan.namespaces[ino];
            assert.ok(ns, `${type}:${ino} of process ${p.pid}`);
            assert.ok(ns.processes.includes(p.pid), `process ${p.pid} listed in ${type}:${ino}`);
          }
        }
      }
    });
  });

  describe('compared with lsns', () => {
    // lsns itself exits 1 without a word when a process it is reading exits
    // under it (other tests' fixtures end just before); ask it again then.
    const lsnsJson = (): string => {
      for (let attempt = 1; ; attempt++) {
        try {
          return execFileSync('lsns', ['-J'], { encoding: 'utf8', maxBuffer: 1 << 28 });
        } catch (e) {
          if (attempt >= 5) throw e;
        }
      }
    };

    it('finds every namespace lsns -J finds (unless its process has gone since)', () => {
      const listed = JSON.parse(lsnsJson()) as {
        namespaces: { ns: number; type: string; pid: number }[];
      };
      const scan = scanNamespaces();
      // Other work on this host creates and removes namespaces all the
      // time: what lsns saw counts only if its process is still in it.
      const stillThere = (l: { ns: number; type: string; pid: number }): boolean => {
        try {
          return statSync(`/proc/${l.pid}/ns/${l.type}`).ino === l.ns;
        } catch {
          return false;
        }
      };
      const missing = listed.namespaces.filter((l) => scan.namespaces[l.ns] === undefined && stillThere(l));
      assert.deepEqual(missing, []);
      assert.ok(listed.namespaces.length > 0);
      // nsfs inode numbers come from one allocator shared by every type
      // (proc_alloc_inum, an IDA that hands out the lowest free number), so
      // a namespace that died after lsns ran frees its number for the next
      // one of any type: a type mismatch is a fault only while lsns's
      // namespace still lives.
      const wrongType = listed.namespaces.filter((l) => {
        const ns = scan.namespaces[l.ns];
        return ns !== undefined && ns.type !== l.type && stillThere(l);
      });
      assert.deepEqual(wrongType, []);
    });
  });

  describe('faults', () => {
    it('skips unreadable /proc entries with a warning (PID 1 here) and still names the initial namespaces', () => {
      const scan = scanNamespaces();
      assert.ok(scan.initial.net !== undefined && scan.initial.user !== undefined);
      assert.ok(scan.namespaces[scan.initial.net]);
      for (const w of scan.warnings.filter((x) => x.code === 'proc-denied'))
        assert.match(w.message, /EACCES|EPERM/);
    });
  });
});

describe('command lines a process makes huge', () => {
  const fx = new Fixtures();
  after(() => fx.cleanup());

  /** Starts `sh -c 'sleep T; exit 0' ARGS…` and returns the shell's PID (the parent of the sleep). */
  async function shellWith(args: string[]): Promise<{ pid: number; script: string }> {
    const t = token();
    // Not the last command, so the shell forks sleep and keeps its own argv.
    const script = `sleep ${t}; exit 0`;
    fx.start(['sh', '-c', script, ...args]);
    const [sleeper = 0] = await waitForSleep(t);
    const stat = readFileSync(`/proc/${sleeper}/stat`, 'utf8');
    return { pid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), script };
  }

  it('keeps the first 64 KiB of a 1 MB argv and marks the cut', async () => {
    // Nine arguments just under MAX_ARG_STRLEN (128 KiB) each: 1.1 MB.
    const big = Array.from({ length: 9 }, (_, i) => String.fromCharCode(97 + i).repeat(120 * 1024));
    const { pid, script } = await shellWith(['wst-argv', ...big]);
    const t0 = performance.now();
    const scan = scanNamespaces({ namespaceTypes: ['net'] });
    const ms = performance.now() - t0;
    const p = scan.processes[pid];
    assert.ok(p, `process ${pid} scanned`);
    assert.equal(p.cmdlineTruncated, true);
    assert.deepEqual(p.cmdline.slice(0, 4), ['sh', '-c', script, 'wst-argv']);
    assert.equal(p.cmdline.length, 5);
    assert.equal(p.cmdline.join('\0').length, CMDLINE_CAP);
    assert.match(p.cmdline[4] ?? '', /^a+$/);
    assert.ok(ms < 5000, `scan took ${ms} ms`);
    // Its child has a short command line, not marked.
    const child = Object.values(scan.processes).find((x) => x.ppid === pid);
    assert.equal(child?.cmdlineTruncated, undefined);
  });

  it('reads a command line of exactly 64 KiB whole and does not mark it', async () => {
    // Tokens have seven digits, so every script is as long as this one.
    const fixed = ['sh', '-c', 'sleep 7000000; exit 0', 'wst-argv', ''].join('\0').length + 1;
    const { pid } = await shellWith(['wst-argv', 'x'.repeat(CMDLINE_CAP - fixed)]);
    assert.equal(readFileSync(`/proc/${pid}/cmdline`).length, CMDLINE_CAP);
    const p = scanNamespaces({ namespaceTypes: ['net'] }).processes[pid];
    assert.ok(p);
    assert.equal(p.cmdlineTruncated, undefined);
    assert.equal(p.cmdline.join('\0').length + 1, CMDLINE_CAP);
  });
});
