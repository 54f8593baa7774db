import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { close } from '../kernel/libc.js';
import { uniquePrefix } from '../testing/names.js';
import { openRoot, type Resolver, ROOT_FILE_CAP, readInRoot } from './rootfs.js';
import { Fixtures } from './testing/fixtures.js';

/**
 * A directory standing in for a container's root, with /etc files shaped
 * the ways a container can shape them, read with both resolvers: the
 * kernel's openat2 and the component walk used where openat2 is missing.
 */
describe("files below another process's root", () => {
  const fx = new Fixtures();
  let root = '';
  let host = '';
  let rootFd = -1;
  const secret = `${uniquePrefix()}-host-secret`;

  before(() => {
    root = fx.tempDir();
    host = fx.tempDir();
    mkdirSync(`${root}/etc`);
    mkdirSync(`${root}/run/resolve`, { recursive: true });
    writeFileSync(`${root}/run/resolve/stub.conf`, 'nameserver 127.0.0.53\n');
    writeFileSync(`${root}/run/resolv.conf`, 'nameserver 192.0.2.1\n');
    // systemd's absolute link, Docker's relative one, one that climbs too far.
    symlinkSync('/run/resolve/stub.conf', `${root}/etc/resolv.conf`);
    symlinkSync('../run/resolv.conf', `${root}/etc/resolv-docker.conf`);
    symlinkSync('../../../../../etc/hostname-real', `${root}/etc/hostname`);
    writeFileSync(`${root}/etc/hostname-real`, 'inside\n');
    // Links that would leave the root if followed from ours: to a host file
    // with known content, absolutely and by climbing.
    writeFileSync(`${host}/secret`, `${secret}\n`);
    symlinkSync(`${host}/secret`, `${root}/etc/out-absolute`);
    symlinkSync(`../../../../../../../../..${host}/secret`, `${root}/etc/out-relative`);
    mkdirSync(`${root}/etc/dir`);
    symlinkSync(`${host}`, `${root}/etc/dir/hostdir`);
    symlinkSync('/b', `${root}/a`);
    symlinkSync('/a', `${root}/b`);
    execFileSync('mkfifo', [`${root}/etc/fifo`]);
    // /dev/null's numbers: refused on its type, so never opened either way.
    execFileSync('mknod', [`${root}/etc/device`, 'c', '1', '3']);
    // 2 GB that take no disk: one line, then a hole.
    const fd = openSync(`${root}/etc/sparse`, 'w');
    writeSync(fd, 'nameserver 192.0.2.9\n');
    closeSync(fd);
    execFileSync('truncate', ['-s', '2G', `${root}/etc/sparse`]);
    writeFileSync(`${root}/etc/long`, `${'x'.repeat(ROOT_FILE_CAP - 10)}\nnameserver 192.0.2.8\n`);
    writeFileSync(`${root}/etc/exact`, `${'y'.repeat(ROOT_FILE_CAP - 1)}\n`);
    rootFd = openRoot(root);
  });
  after(() => {
    if (rootFd >= 0) close(rootFd);
    fx.cleanup();
  });

  for (const resolver of ['openat2', 'walk'] as Resolver[]) {
    describe(`resolved by ${resolver}`, () => {
      const read = (path: string) => readInRoot(rootFd, path, { resolver });

      it('follows symlinks that stay inside the root, absolute ones anchored at it', () => {
        assert.deepEqual(read('/etc/resolv.conf'), { kind: 'text', text: 'nameserver 127.0.0.53\n' });
        assert.deepEqual(read('/etc/resolv-docker.conf'), { kind: 'text', text: 'nameserver 192.0.2.1\n' });
        assert.deepEqual(read('/etc/hostname'), { kind: 'text', text: 'inside\n' });
        assert.deepEqual(read('/etc/missing'), { kind: 'missing' });
        assert.deepEqual(read('/etc/hostname/below-a-file'), { kind: 'missing' });
      });

      it('never reaches a host file through a link that points out of the root', () => {
        for (const p of ['/etc/out-absolute', '/etc/out-relative', '/etc/dir/hostdir/secret']) {
          const f = read(p);
          assert.equal(f.kind, 'missing', `${p}: ${JSON.stringify(f)}`);
        }
      });

      it('refuses a symlink loop', () => {
        assert.equal(read('/a').kind, 'refused');
      });

      it('refuses a FIFO without opening it (an open would wait for a writer)', () => {
        const t0 = performance.now();
        assert.deepEqual(read('/etc/fifo'), { kind: 'refused', reason: 'a FIFO' });
        assert.ok(performance.now() - t0 < 1000);
      });

      it('refuses a device node without opening it', () => {
        assert.deepEqual(read('/etc/device'), { kind: 'refused', reason: 'a character device' });
        assert.deepEqual(read('/etc/dir'), { kind: 'refused', reason: 'a directory' });
      });

      it('reads a 2 GB sparse file only up to the cap, and says so', () => {
        const t0 = performance.now();
        const f = read('/etc/sparse');
        assert.ok(performance.now() - t0 < 1000, 'read in well under a second');
        assert.deepEqual(f, {
          kind: 'text',
          text: 'nameserver 192.0.2.9\n',
          truncated: { size: 2 * 1024 ** 3 },
        });
      });

      it('drops the cut line of a file over the cap, and reads a file of exactly the cap whole', () => {
        const f = read('/etc/long');
        assert.equal(f.kind, 'text');
        assert.ok(f.kind === 'text' && f.truncated !== undefined && !f.text.includes('nameserver'));
        assert.ok(f.kind === 'text' && f.text.endsWith('x\n'));
        const exact = read('/etc/exact');
        assert.ok(
          exact.kind === 'text' && exact.truncated === undefined && exact.text.length === ROOT_FILE_CAP,
        );
      });
    });
  }
});
