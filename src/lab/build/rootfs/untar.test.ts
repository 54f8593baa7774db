/**
 * untar: a rootfs tarball unpacked in-process on the real filesystem, every
 * entry confined to its directory. What GNU tar writes (ustar, GNU and pax
 * long names, hard links, set-id bits, owners; plain, gzip, xz, bzip2, zstd)
 * comes out as it went in; entries meant to reach outside are refused or
 * stay inside, and no device node is ever made.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { type TarEntry, tarArchive } from '../../testing/tar.js';
import { untar } from './untar.js';

const tmp = mkdtempSync(join(tmpdir(), 'wst-untar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(tmp, `out${n++}`);
  mkdirSync(d);
  return d;
};

/** Path → type, mode, owner, link target or content: a tree to compare. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const st = lstatSync(p);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(p)}`
        : st.isDirectory()
          ? 'dir'
          : `file ${readFileSync(p, 'utf8').length}`;
      out[relative(root, p)] =
        `${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${st.isFile() ? ` links ${st.nlink}` : ''}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

function tarOf(src: string, ...flags: string[]): string {
  const f = join(tmp, `a${n++}.tar`);
  const r = spawnSync('tar', ['-C', src, ...flags, '-cf', f, '.'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return f;
}

function archive(entries: TarEntry[]): string {
  const f = join(tmp, `h${n++}.tar`);
  writeFileSync(f, tarArchive(entries));
  return f;
}

describe('untar: unpacking a rootfs tarball inside its directory', () => {
  const src = join(tmp, 'src');
  // Longer than the 100 bytes of a ustar name: prefix field, GNU "L" entry or pax "path".
  const long = `${'d'.repeat(70)}/${'e'.repeat(70)}/${'f'.repeat(60)}.txt`;
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'etc/ssl'), { recursive: true });
  mkdirSync(join(src, long, '..'), { recursive: true });
  writeFileSync(join(src, 'bin/tool'), 'binary\n');
  chmodSync(join(src, 'bin/tool'), 0o4755);
  linkSync(join(src, 'bin/tool'), join(src, 'bin/tool2'));
  symlinkSync('tool', join(src, 'bin/sh'));
  symlinkSync('/etc/ssl', join(src, 'ssl'));
  writeFileSync(join(src, 'etc/shadow'), 'secret\n', { mode: 0o640 });
  chownSync(join(src, 'etc/shadow'), 0, 42);
  writeFileSync(join(src, long), 'deep\n');
  chmodSync(join(src, 'etc/ssl'), 0o700);
  const want = tree(src);

  for (const [format, flags] of [
    ['GNU tar default', []],
    ['POSIX ustar', ['--format=ustar']],
    ['GNU long names', ['--format=gnu']],
    ['pax long names', ['--format=pax']],
    ['gzip', ['-z']],
    ['xz', ['-J']],
    ['bzip2', ['-j']],
    ['zstd', ['--zstd']],
  ] as const) {
    it(`unpacks what GNU tar wrote (${format}) as it was: types, modes, set-id bits, owners, hard links`, async () => {
      const out = fresh();
      const r = await untar(tarOf(src, ...flags), out);
      assert.deepEqual(tree(out), want);
      assert.deepEqual(r.skipped, []);
    });
  }

  it('refuses absolute names and ".." components, leaving nothing outside', async () => {
    const canary = fresh();
    for (const name of [`${canary}/abs`, '../up', `a/../../${canary.slice(1)}/x`]) {
      const out = fresh();
      await assert.rejects(untar(archive([{ name, type: 'file', data: 'x' }]), out), (e: Error) => {
        assert.match(e.message, /^rootfs tarball ".*": entry ".*": /);
        assert.equal(e.message.split('\n').length, 1);
        return true;
      });
      assert.deepEqual(readdirSync(canary), []);
      assert.deepEqual(
        readdirSync(join(out, '..')).filter((f) => f === 'up'),
        [],
      );
    }
  });

  it('never writes through a symlink the archive made earlier, absolute or climbing', async () => {
    const canary = fresh();
    for (const link of [canary, `${'../'.repeat(12)}${canary.slice(1)}`]) {
      const out = fresh();
      // With the target's parents present inside, the file lands inside; without, it is refused.
      const inside = [{ name: canary.slice(1), type: 'dir' } as TarEntry];
      await untar(
        archive([
          ...inside,
          { name: 'l', type: 'symlink', link },
          { name: 'l/through', type: 'file', data: 'x' },
        ]),
        out,
      );
      assert.equal(readFileSync(join(out, canary, 'through'), 'utf8'), 'x', 'written inside the rootfs');
      const bare = fresh();
      await assert.rejects(
        untar(
          archive([
            { name: 'l', type: 'symlink', link },
            { name: 'l/through', type: 'file' },
          ]),
          bare,
        ),
        /cannot make a directory/,
      );
      assert.deepEqual(readdirSync(canary), [], 'nothing written outside');
    }
  });

  it('replaces a symlink with the file of the same name instead of writing through it', async () => {
    const canary = fresh();
    writeFileSync(join(canary, 'hosts'), 'canary\n');
    const out = fresh();
    await untar(
      archive([
        { name: 'etc', type: 'dir' },
        { name: 'etc/hosts', type: 'symlink', link: join(canary, 'hosts') },
        { name: 'etc/hosts', type: 'file', data: 'mine\n' },
      ]),
      out,
    );
    assert.equal(readFileSync(join(out, 'etc/hosts'), 'utf8'), 'mine\n');
    assert.equal(readFileSync(join(canary, 'hosts'), 'utf8'), 'canary\n');
  });

  it('links hard links only to entries inside, never to a host file', async () => {
    const canary = fresh();
    writeFileSync(join(canary, 'victim'), 'host\n');
    for (const link of [join(canary, 'victim'), `${'../'.repeat(12)}${canary.slice(1)}/victim`]) {
      await assert.rejects(
        untar(archive([{ name: 'hl', type: 'hardlink', link }]), fresh()),
        /hard link|\.\./,
      );
    }
    // Through a symlink of the archive, the source is looked up inside the rootfs: not there.
    await assert.rejects(
      untar(
        archive([
          { name: 'up', type: 'symlink', link: canary },
          { name: 'hl', type: 'hardlink', link: 'up/victim' },
        ]),
        fresh(),
      ),
    );
    assert.equal(statSync(join(canary, 'victim')).nlink, 1);
  });

  it('skips device nodes and FIFOs, and says which', async () => {
    const out = fresh();
    const r = await untar(
      archive([
        { name: 'dev', type: 'dir' },
        { name: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
        { name: 'dev/loop0', type: 'block', major: 7, minor: 0 },
        { name: 'dev/fifo', type: 'fifo' },
        { name: 'ok', type: 'file', data: 'ok' },
      ]),
      out,
    );
    assert.deepEqual(r.skipped, ['dev/null', 'dev/loop0', 'dev/fifo']);
    assert.deepEqual(readdirSync(join(out, 'dev')), []);
    assert.equal(readFileSync(join(out, 'ok'), 'utf8'), 'ok');
  });

  it('reports a file that is not a tar archive, and a truncated one, in one line', async () => {
    const junk = join(tmp, 'junk.tar');
    writeFileSync(junk, Buffer.alloc(2048, 0x41));
    await assert.rejects(untar(junk, fresh()), /^Error: rootfs tarball ".*junk\.tar": not a tar archive/);
    const cut = join(tmp, 'cut.tar');
    writeFileSync(cut, tarArchive([{ name: 'big', type: 'file', data: 'x'.repeat(5000) }]).subarray(0, 2048));
    await assert.rejects(untar(cut, fresh()), /entry "big": archive is truncated/);
  });
});
