import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ip, netnsAdd } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { close, SyscallError } from './libc.js';
import { withNetns } from './netns.js';
import { NsMismatchError, nsfsDev, openNs } from './nsfs.js';

describe('opening a namespace by path, checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsnsfs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const own = statSync('/proc/self/ns/net');

  it('knows nsfs by its device: the one every namespace file has', () => {
    assert.equal(nsfsDev(), own.dev);
    assert.equal(statSync('/proc/self/ns/uts').dev, nsfsDev());
    assert.notEqual(statSync('/etc/hostname').dev, nsfsDev());
  });

  it('opens the namespace a path names when it is the inode asked for', () => {
    const fd = openNs('/proc/self/ns/net', own.ino);
    close(fd);
  });

  it('refuses a path that opens another namespace, as "vanished", naming both inodes', () => {
    const uts = statSync('/proc/self/ns/uts').ino;
    assert.throws(
      () => openNs('/proc/self/ns/uts', own.ino),
      (e: unknown) =>
        e instanceof NsMismatchError &&
        e.vanished &&
        e.found === uts &&
        e.message.includes(`now namespace ${uts}, not ${own.ino}`),
    );
  });

  it('refuses a file that is no namespace as setns would (EINVAL), without blocking on a FIFO', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const file = join(dir, 'file');
    writeFileSync(file, '');
    // A blocking open would wait for this writer: a regression takes 10 s instead of hanging.
    const writer = spawn('sh', ['-c', `sleep 10; echo > ${fifo}`], { stdio: 'ignore' });
    try {
      const t0 = Date.now();
      for (const path of [fifo, file]) {
        assert.throws(
          () => openNs(path),
          (e: unknown) => e instanceof SyscallError && e.call === 'setns' && e.errno === 22,
        );
      }
      assert.ok(Date.now() - t0 < 5000, 'did not wait for a writer');
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('enters nothing through a path that now leads to another network namespace', () => {
    const name = uniquePrefix('wsnsfs');
    netnsAdd(name);
    try {
      const other = statSync(`/run/netns/${name}`).ino;
      let ran = false;
      assert.throws(
        () =>
          withNetns(
            `/run/netns/${name}`,
            () => {
              ran = true;
            },
            own.ino,
          ),
        NsMismatchError,
      );
      assert.equal(ran, false);
      assert.equal(
        withNetns(`/run/netns/${name}`, () => statSync('/proc/thread-self/ns/net').ino, other),
        other,
      );
    } finally {
      ip('netns', 'delete', name);
    }
  });
});
