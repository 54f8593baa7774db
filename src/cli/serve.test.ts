import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

/** Starts the CLI and resolves with its stderr once it serves (or exits). */
function start(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ proc: ChildProcess; stderr: string; url?: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve) => {
    proc.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /serving on (http:\/\/\S+?)\/ /.exec(stderr);
      if (m) resolve({ proc, stderr, url: m[1] });
    });
    proc.on('exit', () => resolve({ proc, stderr }));
  });
}

const stop = (proc: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (proc.exitCode !== null) resolve(proc.exitCode);
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });

describe('wirescope serve', () => {
  it('is the default command and listens on loopback without a warning', async () => {
    const { proc, stderr, url } = await start(['--listen', '127.0.0.1:0', '--no-watch']);
    try {
      assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.doesNotMatch(stderr, /WARNING/);
      const r = await fetch(`${url}/healthz`);
      assert.equal(r.status, 200);
    } finally {
      assert.equal(await stop(proc), 0, 'SIGTERM ends it cleanly');
    }
  });

  it('warns loudly when bound beyond loopback, and takes the token from the environment', async () => {
    const { proc, stderr, url } = await start(['serve', '--listen', '0.0.0.0:0', '--no-watch'], {
      WIRESCOPE_TOKEN: 'envtoken',
    });
    try {
      assert.match(
        stderr,
        /WARNING: wirescope listens on 0\.0\.0\.0:[1-9]\d*, beyond this machine's loopback/,
      );
      assert.match(stderr, /A bearer token is required/);
      const port = new URL(url!).port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/openapi.json`)).status, 401);
      const ok = await fetch(`http://127.0.0.1:${port}/api/openapi.json`, {
        headers: { authorization: 'Bearer envtoken' },
      });
      assert.equal(ok.status, 200);
    } finally {
      await stop(proc);
    }
  });

  it('refuses a bad --listen with one line and exit code 2', async () => {
    const { proc, stderr } = await start(['serve', '--listen', 'localhost:99999']);
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    assert.equal(proc.exitCode, 2);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.match(stderr, /^wirescope: --listen: "localhost:99999" has no valid port/);
  });
});
