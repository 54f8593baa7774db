/**
 * `rootfs: { busybox: true }`: a container node's rootfs built from the
 * host's static busybox, so a lab needs no hand-made rootfs. The parsing
 * (ELF linkage, applet list) on bytes; the rootfs and a lab on the real host.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, poll } from '../../../testing/eventually.js';
import {
  cleanup,
  cli,
  driftOf,
  footprint,
  nodePid,
  type TestLab,
  uniqueLab,
} from '../../testing/fixtures.js';
import { readState, stateDir } from '../state.js';
import { appletPaths, buildBusyboxRootfs, elfLinkage, findBusybox } from './busybox.js';

const head = (p: string): Buffer => readFileSync(p).subarray(0, 65536);

/** A minimal 32-bit big-endian ELF header with one program header of type `ptype`. */
function elf32be(ptype: number, interp = ''): Buffer {
  const b = Buffer.alloc(52 + 32 + interp.length + 1);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 1; // ELFCLASS32
  b[5] = 2; // ELFDATA2MSB
  b.writeUInt32BE(52, 0x1c); // e_phoff
  b.writeUInt16BE(32, 0x2a); // e_phentsize
  b.writeUInt16BE(1, 0x2c); // e_phnum
  b.writeUInt32BE(ptype, 52); // p_type
  b.writeUInt32BE(84, 56); // p_offset
  b.writeUInt32BE(interp.length + 1, 52 + 16); // p_filesz
  b.write(interp, 84, 'latin1');
  return b;
}

describe('busybox rootfs: parsing', () => {
  it('tells a static busybox from a dynamically linked executable by PT_INTERP', () => {
    assert.deepEqual(elfLinkage(head(findBusybox())), { kind: 'static' });
    const node = elfLinkage(head(realpathSync(process.execPath)));
    assert.equal(node.kind, 'dynamic');
    assert.match(node.kind === 'dynamic' ? node.interpreter : '', /^\/lib.*ld-linux.*\.so/);
  });

  it('reads 32-bit big-endian headers too, and refuses what is not ELF or is cut short', () => {
    assert.deepEqual(elfLinkage(elf32be(3, '/lib/ld.so.1')), {
      kind: 'dynamic',
      interpreter: '/lib/ld.so.1',
    });
    assert.deepEqual(elfLinkage(elf32be(1)), { kind: 'static' });
    assert.equal(elfLinkage(Buffer.from('#!/bin/sh\necho not elf\n'.repeat(4))).kind, 'invalid');
    assert.equal(elfLinkage(elf32be(3, '/lib/ld.so.1').subarray(0, 60)).kind, 'invalid');
  });

  it('takes applet links only in bin, sbin, usr/bin and usr/sbin, never a path outside them', () => {
    const list = [
      'bin/sh',
      'usr/bin/[[',
      'sbin/ip',
      'usr/sbin/arping',
      'bin/busybox',
      '../etc/passwd',
      'bin/../../x',
      'bin/..',
      'etc/profile',
      'usr/bin/a/b',
      'bin/a\u001bb',
      '/bin/abs',
      '',
    ].join('\n');
    assert.deepEqual(appletPaths(list), ['bin/sh', 'sbin/ip', 'usr/bin/[[', 'usr/sbin/arping']);
  });

  it('says in one line why there is no usable busybox: none at all, or a dynamic one', () => {
    assert.throws(
      () => findBusybox(['/nonexistent/busybox']),
      /^Error: no busybox on this host \(looked for \/nonexistent\/busybox\); install busybox-static$/,
    );
    assert.throws(
      () => findBusybox([realpathSync(process.execPath)]),
      /is dynamically linked \(it needs \/lib.*\), so it cannot run inside the rootfs; install busybox-static$/,
    );
  });
});

describe('busybox rootfs: built on the host', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wst-bb-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs on its own: a shell, applets on PATH and at their absolute paths, root in /etc/passwd', async () => {
    const root = await buildBusyboxRootfs(join(dir, 'root'));
    assert.equal(readlinkSync(join(root, 'bin/sh')), 'busybox');
    assert.equal(readlinkSync(join(root, 'usr/bin/env')), '../../bin/busybox');
    assert.equal(lstatSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
    const inRoot = (...cmd: string[]) => {
      const r = spawnSync('chroot', [root, ...cmd], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.equal(inRoot('/bin/sh', '-c', 'id -un'), 'root\n');
    // env(1) finds "ip" by PATH lookup, at sbin/ip where busybox --list-full puts it.
    assert.match(inRoot('/usr/bin/env', '-i', 'PATH=/sbin', 'ip', 'link', 'show', 'lo'), /^1: lo: /);
  });

  it('replaces what was at its directory, and leaves nothing there when it fails', async () => {
    const root = join(dir, 'again');
    await buildBusyboxRootfs(root);
    writeFileSync(join(root, 'bin/stale'), 'x');
    await buildBusyboxRootfs(root);
    assert.ok(!existsSync(join(root, 'bin/stale')));
    // A "busybox" that is no busybox: `--list-full` fails.
    await assert.rejects(
      buildBusyboxRootfs(root, '/bin/false'),
      /^Error: rootfs busybox: \/bin\/false --list-full: /,
    );
    assert.ok(!existsSync(root));
  });
});

describe('lab: a container node with rootfs { busybox: true } (chroot)', () => {
  let t: TestLab | undefined;
  const lab = (): TestLab => {
    if (!t) throw new Error('lab not set up');
    return t;
  };
  before(async () => {
    t = uniqueLab('containr.yaml', (d) => {
      const box = d.nodes.box;
      if (box) {
        box.rootfs = { busybox: true };
        box.root = 'chroot';
        box.command = 'echo started > /tmp/mark; exec sleep infinity';
      }
      // No host port forward: nothing here needs one.
      delete d.nat;
    });
    const r = await cli('lab', 'up', t.file);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => cleanup(t));

  /** The container's init once it runs busybox (it starts as bash, then chroot, then the command). */
  const initOf = (root: string): Promise<number> =>
    eventually(
      `the container's init to run ${join(root, 'bin/busybox')}`,
      () => {
        const pid = nodePid(lab().name, 'box');
        const init = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
        try {
          if (init > 0 && realpathSync(`/proc/${init}/exe`) === join(root, 'bin/busybox')) return init;
        } catch {
          /* between exec(2)s */
        }
        return undefined;
      },
      { timeoutMs: 5000, intervalMs: 20 },
    );

  it("runs the command in the node's own rootfs under the lab's state directory", async () => {
    const root = join(stateDir(), `${lab().name}.rootfs`, 'box');
    const init = await initOf(root);
    assert.equal(realpathSync(`/proc/${init}/root`), root);
    await poll(() => existsSync(join(root, 'tmp/mark')), Boolean, { timeoutMs: 5000, intervalMs: 20 });
    assert.equal(readFileSync(join(root, 'tmp/mark'), 'utf8'), 'started\n');
    assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'box\n');
    assert.equal((await cli('verify', lab().file)).code, 0);
  });

  it('after its process is killed, up restarts it in a rootfs built anew', async () => {
    const root = join(stateDir(), `${lab().name}.rootfs`, 'box');
    const before0 = readState(lab().name)?.nodes.box?.pid;
    process.kill(nodePid(lab().name, 'box'), 'SIGKILL');
    await eventually(
      'verify to report the killed container',
      () => cli('verify', '--json', lab().file),
      (r) => driftOf(r).some((x) => /node box \(container\): declared, not running/.test(x.message)),
      { timeoutMs: 10000, intervalMs: 50, show: (r) => driftOf(r) },
    );
    const up = await cli('lab', 'up', lab().file);
    assert.equal(up.code, 0, up.stderr);
    assert.notEqual(readState(lab().name)?.nodes.box?.pid, before0);
    assert.equal(realpathSync(`/proc/${await initOf(root)}/root`), root);
    assert.equal((await cli('verify', lab().file)).code, 0);
  });

  it('down removes the rootfs with the rest', async () => {
    assert.equal((await cli('lab', 'down', lab().file)).code, 0);
    assert.deepEqual(await footprint(lab().name), []);
    assert.ok(!existsSync(join(stateDir(), `${lab().name}.rootfs`, 'box')));
  });
});
