/**
 * Paths below another root: an absolute symlink restarts at that root, not at
 * ours (which is where the kernel would take it), ".." stops at it, a loop
 * ends, and a missing component leaves the rest as it was.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathInRoot } from './in-root.js';

const connects = (path: string): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('pathInRoot', () => {
  const root = mkdtempSync(join(tmpdir(), 'wst-inroot-'));
  let server: Server;

  before(async () => {
    // The shape of a Debian root: /var/run -> /run, the engine's socket in /run.
    mkdirSync(join(root, 'run'));
    mkdirSync(join(root, 'var'));
    mkdirSync(join(root, 'etc'));
    symlinkSync('/run', join(root, 'var/run'));
    symlinkSync('../../../../../../etc', join(root, 'run/up'));
    symlinkSync('loop', join(root, 'loop'));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'run/engine.sock'), resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  test('an absolute link restarts at the given root, where the socket answers', async () => {
    const p = pathInRoot(root, '/var/run/engine.sock');
    assert.equal(p, `${root}/run/engine.sock`);
    assert.equal(await connects(p), true);
    // What the kernel does with the same path: /var/run -> /run of *our* root, no such socket.
    assert.equal(await connects(`${root}/var/run/engine.sock`), false);
  });

  test('".." and relative links stop at the root', () => {
    assert.equal(pathInRoot(root, '/../../run/engine.sock'), `${root}/run/engine.sock`);
    assert.equal(pathInRoot(root, '/run/up/passwd'), `${root}/etc/passwd`);
  });

  test('a link loop ends; a missing component keeps the rest as given', () => {
    assert.equal(pathInRoot(root, '/loop/x.sock'), `${root}/loop/x.sock`);
    assert.equal(pathInRoot(root, '/nope/var/run/x.sock'), `${root}/nope/var/run/x.sock`);
    assert.equal(pathInRoot(root, '/run/engine.sock'), `${root}/run/engine.sock`);
  });
});
