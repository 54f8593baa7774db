/**
 * deploy/healthcheck.sh, the image's health check: healthy only on a 200
 * from /healthz, asked with a Host the service admits; a wildcard listener
 * is asked on 127.0.0.1; nothing listening, another status or a server that
 * never answers is unhealthy.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO } from './testing/image.js';

const SCRIPT = join(REPO, 'deploy/healthcheck.sh');

/** Runs the check with WIRESCOPE_LISTEN=listen; its exit code. */
const check = (listen: string): Promise<number | null> =>
  new Promise((resolve) => {
    const p = spawn('bash', [SCRIPT], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', WIRESCOPE_LISTEN: listen },
      stdio: 'ignore',
    });
    p.once('exit', (code) => resolve(code));
  });

const listen = (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> =>
  new Promise((resolve) => {
    const s = createServer(handler);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });

const portOf = (s: Server): number => {
  const a = s.address();
  assert.ok(a && typeof a === 'object');
  return a.port;
};

describe('the image health check', () => {
  const seen: { url?: string; host?: string }[] = [];
  let ok: Server;
  let failing: Server;
  let silent: Server;

  before(async () => {
    // Like the service: 200 on /healthz only for a Host naming the address it was reached on.
    ok = await listen((req, res) => {
      seen.push({ url: req.url, host: req.headers.host });
      const good = req.url === '/healthz' && req.headers.host === `127.0.0.1:${portOf(ok)}`;
      res.writeHead(good ? 200 : 421).end();
    });
    failing = await listen((_req, res) => res.writeHead(503).end());
    silent = await listen(() => {
      // Never answers: the check's own read timeout ends it.
    });
  });

  after(() => {
    for (const s of [ok, failing, silent]) s.closeAllConnections();
    for (const s of [ok, failing, silent]) s.close();
  });

  test('a 200 from /healthz on the listen address is healthy', async () => {
    assert.equal(await check(`127.0.0.1:${portOf(ok)}`), 0);
    assert.deepEqual(seen.at(-1), { url: '/healthz', host: `127.0.0.1:${portOf(ok)}` });
  });

  test('a wildcard listener is asked on 127.0.0.1', async () => {
    assert.equal(await check(`0.0.0.0:${portOf(ok)}`), 0);
    assert.equal(seen.at(-1)?.host, `127.0.0.1:${portOf(ok)}`);
  });

  test('another status, a silent server or no listener is unhealthy', async () => {
    assert.equal(await check(`127.0.0.1:${portOf(failing)}`), 1);
    const closed = await listen(() => {});
    const port = portOf(closed);
    await new Promise((r) => closed.close(r));
    assert.equal(await check(`127.0.0.1:${port}`), 1);
    const started = Date.now();
    assert.equal(await check(`127.0.0.1:${portOf(silent)}`), 1);
    assert.ok(Date.now() - started < 10_000, 'the read times out on its own');
  });
});
