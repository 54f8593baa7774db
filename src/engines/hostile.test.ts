/**
 * Hostile engines: any user can run a process named `dockerd` that listens on
 * a unix socket. Such an engine is skipped unless its uid is trusted; a
 * trusted one that trickles bytes, answers without end or sends an endless
 * event line is cut off by a deadline or a cap, and one that floods events
 * never gets more than MAX_INSPECTS inspects at once. Every discovery ends in
 * bounded time with a warning that says why.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { eventually } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';
import { MAX_INSPECTS } from './docker.js';
import { createEngineTracker, type EngineTracker } from './index.js';
import { parseUidList } from './trust.js';

const P = uniquePrefix();
const NOBODY = 65534;

/**
 * The fake engine. Modes: trickle (/version answers one byte every 50 ms,
 * for ever), huge (/version answers 64 MiB), endless-event (an /events line
 * that never ends), flood (5000 container events, inspects answered slowly).
 * It reports on stdout: "conn" per accepted connection, "closed" when we
 * drop one, "max N" the most inspects it saw at once.
 */
const FAKE = `
const http = require('http');
const [mode, sock] = process.argv.slice(2);
let inspects = 0, max = 0;
const server = http.createServer((req, res) => {
  res.once('close', () => console.log('closed ' + req.url));
  const json = (v) => { const b = JSON.stringify(v); res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(b)}); res.end(b); };
  if (mode === 'trickle') {
    res.writeHead(200, {'content-type': 'application/json'});
    res.write('{"Version":"');
    const t = setInterval(() => res.write('x'), 50);
    res.once('close', () => clearInterval(t));
    return;
  }
  if (mode === 'huge' && req.url === '/version') {
    res.writeHead(200, {'content-type': 'application/json'});
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let n = 0;
    const pump = () => { while (n < 64) { n++; if (!res.write(chunk)) { res.once('drain', pump); return; } } res.end('{}'); };
    pump();
    return;
  }
  if (req.url === '/version') return json({ Version: 'fake' });
  if (req.url.startsWith('/containers/json')) return json([]);
  if (req.url === '/networks') return json([]);
  if (req.url.startsWith('/events')) {
    res.writeHead(200, {'content-type': 'application/json'});
    res.flushHeaders();
    if (mode === 'endless-event') {
      res.write('{"Type":"container","Action":"start","id":"');
      const chunk = 'a'.repeat(64 * 1024);
      const t = setInterval(() => res.write(chunk), 5);
      res.once('close', () => clearInterval(t));
    } else if (mode === 'flood') {
      setTimeout(() => { for (let i = 0; i < 5000; i++) res.write(JSON.stringify({ Type: 'container', Action: 'start', id: 'c' + i }) + '\\n'); }, 200);
    }
    return;
  }
  if (req.url.startsWith('/containers/')) {
    inspects++; if (inspects > max) { max = inspects; console.log('max ' + max); }
    setTimeout(() => { inspects--; res.writeHead(404); res.end('{}'); }, 20);
    return;
  }
  res.writeHead(404); res.end('{}');
});
server.on('connection', () => console.log('conn'));
server.listen(sock, () => console.log('up'));
`;

interface Fake {
  child: ChildProcess;
  pid: number;
  sock: string;
  lines: string[];
}

/** Starts the fake `dockerd` as uid 65534 (setpriv), in a directory of its own. */
let fakes = 0;
async function startFake(dir: string, mode: string): Promise<Fake> {
  const home = join(dir, `${mode}-${++fakes}`);
  mkdirSync(home);
  chownSync(home, NOBODY, NOBODY);
  const sock = join(home, 'docker.sock');
  const child = spawn(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      join(dir, 'dockerd'),
      join(dir, 'fake.js'),
      mode,
      sock,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  await eventually(`fake dockerd (${mode}) listening`, () => lines.includes('up'), {
    timeoutMs: 5000,
    intervalMs: 50,
  });
  return { child, pid: child.pid as number, sock, lines };
}

/** Discovers until a warning for `pid` matches, at most `ms`; returns that discovery. */
async function untilWarning(
  tracker: EngineTracker,
  pid: number,
  code: string,
  re: RegExp,
  ms = 30_000,
): Promise<Discovery> {
  return eventually(
    `a ${code} warning matching ${re} for pid ${pid}`,
    () => discover({ containers: tracker, network: false, dns: false }),
    (d) => d.warnings.some((w) => w.pid === pid && w.code === code && re.test(w.message)),
    {
      timeoutMs: ms,
      show: (d) => d.warnings.filter((w) => w.pid === pid).map((w) => `${w.code}: ${w.message}`),
    },
  );
}

const fast = { syncBudgetMs: 500, requestTimeoutMs: 1000, syncTimeoutMs: 3000, retryMs: 60000 };
/**
 * For tests whose subject is not the deadline: the fake engine answers its first list late on a
 * loaded host, and a failed sync is retried soon instead of after a minute.
 */
const patient = { ...fast, requestTimeoutMs: 10_000, syncTimeoutMs: 20_000, retryMs: 1000 };

describe('engines: hostile engine sockets', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `${P}-`));
    chmodSync(dir, 0o755);
    // Named dockerd so that /proc/PID/comm says so: the turtle finder takes it for Docker.
    symlinkSync(process.execPath, join(dir, 'dockerd'));
    writeFileSync(join(dir, 'fake.js'), FAKE, { mode: 0o644 });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips a dockerd whose socket belongs to an unprivileged user, sending it nothing', async () => {
    const fake = await startFake(dir, 'trickle');
    const tracker = createEngineTracker({ ...fast, trustUids: [] });
    try {
      const d = await discover({ containers: tracker, network: false, dns: false });
      const w = d.warnings.filter((x) => x.pid === fake.pid);
      assert.deepEqual(
        w.map((x) => x.code),
        ['engine-untrusted'],
      );
      assert.match(w[0]?.message ?? '', /runs as uid 65534, not root; skipped/);
      assert.match(w[0]?.message ?? '', /WIRESCOPE_TRUST_ENGINE_UIDS=65534/);
      assert.ok(!Object.values(d.engines).some((e) => e.pid === fake.pid), 'not listed as an engine');
      // The only connection was the SO_PEERCRED check: no request reached it.
      assert.ok(!fake.lines.some((l) => l.startsWith('closed /')), `no request: ${fake.lines}`);
    } finally {
      tracker.close();
      fake.child.kill('SIGKILL');
    }
  });

  it('aborts a trusted engine that trickles bytes, at the deadline of the whole request', async () => {
    const fake = await startFake(dir, 'trickle');
    const tracker = createEngineTracker({ ...fast, trustUids: [NOBODY] });
    try {
      await untilWarning(
        tracker,
        fake.pid,
        'engine-unreachable',
        /GET \/version: answer incomplete after 1000 ms/,
      );
      // The engine saw its connection closed by us, though it never stopped sending.
      await eventually('the trickling request to be cut', () => fake.lines.includes('closed /version'), {
        timeoutMs: 5000,
        intervalMs: 50,
      });
    } finally {
      tracker.close();
      fake.child.kill('SIGKILL');
    }
  });

  it('caps an answer at 32 MiB and says so', async () => {
    const fake = await startFake(dir, 'huge');
    const tracker = createEngineTracker({
      ...fast,
      requestTimeoutMs: 20000,
      syncTimeoutMs: 30000,
      trustUids: [NOBODY],
    });
    try {
      await untilWarning(tracker, fake.pid, 'engine-unreachable', /answer exceeds the 32 MiB cap/, 30000);
      await eventually('the huge answer to be cut', () => fake.lines.includes('closed /version'), {
        timeoutMs: 5000,
        intervalMs: 50,
      });
    } finally {
      tracker.close();
      fake.child.kill('SIGKILL');
    }
  });

  it('cuts an event line that never ends and re-syncs', async () => {
    const fake = await startFake(dir, 'endless-event');
    const tracker = createEngineTracker({ ...patient, trustUids: [NOBODY] });
    try {
      await untilWarning(tracker, fake.pid, 'engine-resync', /event line exceeds the 1 MiB cap/);
      assert.ok(
        fake.lines.some((l) => l.startsWith('closed /events')),
        'the event stream was closed',
      );
    } finally {
      tracker.close();
      fake.child.kill('SIGKILL');
    }
  });

  it('inspects at most MAX_INSPECTS containers at once when flooded with events', async () => {
    const fake = await startFake(dir, 'flood');
    const tracker = createEngineTracker({ ...patient, trustUids: [NOBODY] });
    try {
      await untilWarning(
        tracker,
        fake.pid,
        'engine-resync',
        /more than 1024 containers waiting for an inspect/,
      );
      const max = Math.max(...fake.lines.filter((l) => l.startsWith('max ')).map((l) => Number(l.slice(4))));
      assert.ok(max >= 1 && max <= MAX_INSPECTS, `at most ${MAX_INSPECTS} inspects at once, saw ${max}`);
    } finally {
      tracker.close();
      fake.child.kill('SIGKILL');
    }
  });

  it('reads trusted uids from a comma- or space-separated list and ignores the rest', () => {
    assert.deepEqual(parseUidList('1000, 1001 x -5 4294967295 2000'), [1000, 1001, 2000]);
    assert.deepEqual(parseUidList(undefined), []);
  });
});
