import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { raw } from '../service/testing/http.js';
import { exited, startServe as start, stopServe as stop } from '../service/testing/serve.js';

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
    assert.equal(await exited(proc), 2);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.match(stderr, /^wirescope: --listen: "localhost:99999" has no valid port/);
  });

  it('answers only to its own names and to --allow-host names', async () => {
    const { proc, url } = await start([
      '--listen',
      '127.0.0.1:0',
      '--no-watch',
      '--allow-host',
      'scope.lab.example',
      '--allow-host',
      '192.0.2.10',
    ]);
    try {
      const port = new URL(url!).port;
      // fetch() cannot set Host; node:http can.
      const status = async (host: string) =>
        (await raw(url!, '/healthz', { headers: { host: `${host}:${port}` } })).status;
      assert.equal(await status('scope.lab.example'), 200);
      assert.equal(await status('192.0.2.10'), 200);
      assert.equal(await status('127.0.0.1'), 200);
      assert.equal(await status('evil.example'), 421);
    } finally {
      await stop(proc);
    }
  });

  it('refuses an --allow-host that is no name with one line and exit code 2', async () => {
    const { proc, stderr } = await start(['--listen', '127.0.0.1:0', '--allow-host', 'http://x.example/']);
    assert.equal(await exited(proc), 2);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.match(stderr, /^wirescope: --allow-host: "http:\/\/x\.example\/" is not a host name/);
  });
});

describe('wirescope serve --token-file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wst-token-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenFile = (name: string, content: string, mode: number): string => {
    const f = join(dir, name);
    writeFileSync(f, content);
    chmodSync(f, mode);
    return f;
  };

  it('reads the token from the file, so ps shows the path and never the token', async () => {
    const token = `tf-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const file = tokenFile('ok', `\n  ${token}  \n`, 0o600);
    const { proc, url, stderr } = await start([
      '--listen',
      '127.0.0.1:0',
      '--no-watch',
      '--token-file',
      file,
    ]);
    try {
      assert.ok(url, stderr);
      const args = execFileSync('ps', ['-ww', '-o', 'args=', '-p', String(proc.pid)], { encoding: 'utf8' });
      assert.ok(args.includes(`--token-file ${file}`), args);
      assert.ok(!args.includes(token), 'the token is not on the command line');
      assert.equal((await fetch(`${url}/api/openapi.json`)).status, 401);
      const ok = await fetch(`${url}/api/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200, 'the token, trimmed of the white space around it');
      assert.doesNotMatch(stderr, /visible to every user/);
    } finally {
      await stop(proc);
    }
  });

  it('refuses a world-readable, an empty or a multi-word token file, and --token with --token-file', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--token-file', tokenFile('open', 'secret\n', 0o644)],
        /is readable by every user \(mode 644\): chmod o-rw/,
      ],
      [['--token-file', tokenFile('empty', ' \n', 0o600)], /is empty$/],
      [['--token-file', tokenFile('two', 'one two\n', 0o600)], /must hold one token/],
      [['--token-file', join(dir, 'missing')], /cannot open .*missing: ENOENT/],
      [['--token-file', dir], /is not a regular file/],
      [['--token', 'x', '--token-file', tokenFile('both', 'secret', 0o600)], /give one of them/],
    ];
    for (const [args, message] of cases) {
      const { proc, stderr } = await start(['--listen', '127.0.0.1:0', '--no-watch', ...args]);
      assert.equal(await exited(proc), 2, args.join(' '));
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr.trim(), message);
    }
  });

  it('says that a --token on the command line shows in ps', async () => {
    const { proc, stderr } = await start(['--listen', '127.0.0.1:0', '--no-watch', '--token', 'visible']);
    try {
      assert.match(
        stderr,
        /--token on the command line is visible to every user \(ps\); prefer --token-file/,
      );
    } finally {
      await stop(proc);
    }
  });
});
