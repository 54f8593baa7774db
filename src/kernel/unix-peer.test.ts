import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SyscallError } from './libc.js';
import { sockaddrUn, unixPeerCred } from './unix-peer.js';

describe('kernel: unix socket peer credentials', () => {
  it("reports the listener's pid and uid (SO_PEERCRED), which are this process's for its own socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wst-peer-'));
    const sock = join(dir, 's.sock');
    const server = createServer((c) => c.destroy());
    try {
      await new Promise<void>((r) => server.listen(sock, r));
      const cred = unixPeerCred(sock);
      assert.equal(cred.pid, process.pid);
      assert.equal(cred.uid, process.getuid?.());
      assert.equal(cred.gid, process.getgid?.());
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the errno when nobody listens, and refuses a path longer than sun_path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wst-peer-'));
    try {
      assert.throws(
        () => unixPeerCred(join(dir, 'none.sock')),
        (e: unknown) => e instanceof SyscallError && e.vanished,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => sockaddrUn(`/${'x'.repeat(120)}`), /does not fit sun_path/);
    assert.throws(() => sockaddrUn('/a\0b'), /does not fit sun_path/);
  });
});
