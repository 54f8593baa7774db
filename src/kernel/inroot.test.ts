/** openat2(2) RESOLVE_IN_ROOT and the *at() calls, on the real filesystem. */
import assert from 'node:assert/strict';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  fchownat,
  mkdirat,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  openat2,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  symlinkat,
} from './inroot.js';
import { SyscallError } from './libc.js';

const tmp = mkdtempSync(join(tmpdir(), 'wst-inroot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('openat2 in a root', () => {
  it('resolves absolute links and ".." inside the root, never above it', () => {
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    symlinkSync('/etc', join(root, 'abs'));
    symlinkSync('../../../../etc', join(root, 'rel'));
    const r = openat2(AT_FDCWD, root, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
    try {
      for (const p of ['abs', 'rel', '../../etc', '/etc']) {
        const fd = openat2(r, p, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT);
        assert.equal(readlinkSync(`/proc/self/fd/${fd}`), join(root, 'etc'), p);
        closeSync(fd);
      }
      mkdirat(r, 'made', 0o750);
      assert.equal(lstatSync(join(root, 'made')).mode & 0o777, 0o750 & ~process.umask());
      symlinkat('/nowhere', r, 'dangling');
      fchownat(r, 'dangling', 1, 2, AT_SYMLINK_NOFOLLOW);
      assert.equal(lstatSync(join(root, 'dangling')).gid, 2);
    } finally {
      closeSync(r);
    }
  });

  it('refuses magic links such as /proc/self/root with errno ELOOP', () => {
    assert.throws(
      () => openat2(AT_FDCWD, '/proc/self/root', O_PATH | O_DIRECTORY, RESOLVE_NO_MAGICLINKS),
      (e: unknown) => e instanceof SyscallError && e.errno === 40,
    );
  });
});
