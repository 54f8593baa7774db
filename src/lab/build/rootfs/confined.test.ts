/** Writes into a rootfs that stay inside it, whatever links the rootfs holds. */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RootDir } from './confined.js';

const tmp = mkdtempSync(join(tmpdir(), 'wst-confined-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('RootDir: writing a container rootfs', () => {
  it('replaces a link in the file’s place instead of writing through it', () => {
    const host = join(tmp, 'host-hosts');
    writeFileSync(host, 'host\n');
    const root = join(tmp, 'r1');
    mkdirSync(join(root, 'etc'), { recursive: true });
    symlinkSync(host, join(root, 'etc/hosts'));
    const r = RootDir.open(root);
    try {
      r.writeFile('etc/hosts', 'lab\n');
      r.writeFile('/etc/hostname', 'box\n');
    } finally {
      r.close();
    }
    assert.equal(readFileSync(host, 'utf8'), 'host\n');
    assert.ok(lstatSync(join(root, 'etc/hosts')).isFile());
    assert.equal(readFileSync(join(root, 'etc/hosts'), 'utf8'), 'lab\n');
    assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'box\n');
  });

  it('follows a link of the rootfs only inside it: etc -> /etc is the rootfs’s own /etc', () => {
    const root = join(tmp, 'r2');
    mkdirSync(join(root, 'real/etc'), { recursive: true });
    symlinkSync('/real/etc', join(root, 'etc'));
    const r = RootDir.open(root);
    try {
      r.writeFile('etc/resolv.conf', 'nameserver 10.0.0.1\n');
      r.mkdirs('proc');
    } finally {
      r.close();
    }
    assert.equal(readFileSync(join(root, 'real/etc/resolv.conf'), 'utf8'), 'nameserver 10.0.0.1\n');
    // A link out that leads nowhere inside is refused in one line.
    const loop = join(tmp, 'r3');
    mkdirSync(loop);
    symlinkSync('/etc', join(loop, 'etc'));
    const l = RootDir.open(loop);
    try {
      assert.throws(() => l.writeFile('etc/hosts', 'x'), /^Error: rootfs ".*r3": "etc": /);
    } finally {
      l.close();
    }
  });

  it('refuses the host root and /proc magic links as a rootfs', () => {
    assert.throws(() => RootDir.open('/'), /is the host's root directory/);
    assert.throws(() => RootDir.open('/proc/self/root'), /Too many levels of symbolic links/);
    assert.throws(() => RootDir.open(join(tmp, 'missing')), /No such file/);
  });
});
