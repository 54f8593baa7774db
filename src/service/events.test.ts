import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { eventually } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import type { ChangeEvent } from './contract.js';
import { startService } from './server.js';
import { raw } from './testing/http.js';
import { startServe, stopServe } from './testing/serve.js';
import { openEvents } from './testing/sse.js';

interface Health {
  discoveries: number;
  streams: {
    open: number;
    max: number;
    maxPerClient: number;
    refused: number;
    dropped: number;
    maxBacklogBytes: number;
    peakBacklogBytes: number;
  };
}
const health = async (base: string): Promise<Health> =>
  JSON.parse((await raw(base, '/healthz')).body) as Health;

const rssBytes = (pid: number): number => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
};

/** An event stream request from `localAddress` (all of 127.0.0.0/8 is this host's): its status; kept open when 200. */
function subscribe(
  port: number,
  localAddress: string,
  open: { close(): void }[],
): Promise<{ status: number; type?: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/events', localAddress, agent: false },
      (res) => {
        if (res.statusCode === 200) {
          res.resume();
          open.push({ close: () => req.destroy() });
          resolve({ status: 200 });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            type: (JSON.parse(body) as { type?: string }).type,
            retryAfter: res.headers['retry-after'],
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('event stream limits, on the service process', () => {
  it('admits only the cap of 2000 simultaneous subscribers, refuses the rest with 503/429, and keeps answering', async (t) => {
    const { proc, url, stderr } = await startServe(['--listen', '127.0.0.1:0', '--no-watch']);
    assert.ok(url, stderr);
    const open: { close(): void }[] = [];
    try {
      const port = Number(new URL(url).port);
      // A finished discovery first: its memory is not the streams'.
      assert.equal((await raw(url, '/json')).status, 200);
      const h0 = await health(url);
      assert.equal(h0.streams.open, 0);
      const rssBefore = rssBytes(proc.pid!);
      // /healthz is asked every 100 ms meanwhile: the service must keep answering it.
      const latencies: number[] = [];
      let storming = true;
      const prober = (async () => {
        while (storming) {
          const t0 = performance.now();
          const r = await raw(url, '/healthz');
          assert.equal(r.status, 200);
          latencies.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      // 20 subscribers from one address first (the per-client cap), then 1980 from 99 others
      // (the total cap), 220 at a time.
      const results: { status: number; type?: string; retryAfter?: string; from: string }[] = [];
      let peakRss = rssBefore;
      for (let batch = 0; batch < 10; batch++) {
        const n = batch === 0 ? 20 : 220;
        const rs = await Promise.all(
          Array.from({ length: n }, (_, i) => {
            const from = batch === 0 ? '127.0.1.1' : `127.0.1.${2 + (i % 99)}`;
            return subscribe(port, from, open).then((r) => ({ ...r, from }));
          }),
        );
        results.push(...rs);
        peakRss = Math.max(peakRss, rssBytes(proc.pid!));
      }
      storming = false;
      await prober;
      const admitted = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      assert.equal(results.length, 2000);
      assert.equal(admitted.length, h0.streams.max, 'exactly the cap is admitted');
      for (const r of refused) {
        assert.ok(r.status === 503 || r.status === 429, `status ${r.status}`);
        assert.match(r.type ?? '', r.status === 503 ? /streams-exhausted$/ : /too-many-streams$/);
        assert.equal(r.retryAfter, '30');
      }
      assert.ok(refused.filter((r) => r.status === 429).length >= 20 - h0.streams.maxPerClient);
      assert.ok(refused.some((r) => r.status === 503));
      const perClient = new Map<string, number>();
      for (const r of admitted) perClient.set(r.from, (perClient.get(r.from) ?? 0) + 1);
      assert.ok(Math.max(...perClient.values()) <= h0.streams.maxPerClient, 'per-client cap');
      const h1 = await health(url);
      assert.equal(h1.streams.open, h0.streams.max);
      assert.equal(h1.streams.refused, 2000 - h0.streams.max);
      assert.ok(latencies.length > 0);
      assert.ok(
        Math.max(...latencies) < 5000,
        `slowest /healthz meanwhile: ${Math.round(Math.max(...latencies))} ms`,
      );
      const growth = peakRss - rssBefore;
      t.diagnostic(
        `admitted ${admitted.length}, 503: ${refused.filter((r) => r.status === 503).length}, 429: ${refused.filter((r) => r.status === 429).length}; ` +
          `RSS ${(rssBefore / 2 ** 20).toFixed(1)} → peak ${(peakRss / 2 ** 20).toFixed(1)} MiB; ` +
          `/healthz ${latencies.length}× meanwhile, slowest ${Math.round(Math.max(...latencies))} ms`,
      );
      assert.ok(growth < 96 * 2 ** 20, `the service grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
      // Closed streams free their places.
      for (const o of open.splice(0)) o.close();
      await eventually(
        'every closed stream to be noticed',
        async () => ((await health(url)).streams.open === 0 ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      assert.equal((await subscribe(port, '127.0.1.2', open)).status, 200, 'a place is free again');
    } finally {
      for (const o of open) o.close();
      await stopServe(proc);
    }
  });
});

describe('a subscriber that stops reading', () => {
  it('is dropped once it falls the bound behind, while a reading subscriber keeps its stream', async (t) => {
    // 200 veth pairs in a namespace of our own: toggling their MTU makes every discovery a change
    // event of ~20 KB (400 interfaces), so a reader that stopped falls behind quickly.
    const prefix = uniquePrefix('wst', 4);
    const ns = `${prefix}slow`;
    const PAIRS = 200;
    const batch = (lines: string[]) =>
      execFileSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, stdio: 'pipe' });
    const maxBacklogBytes = 64 * 1024;
    let slow: Socket | undefined;
    ip('netns', 'add', ns);
    try {
      batch(
        Array.from({ length: PAIRS }, (_, i) => `link add ${prefix}a${i} type veth peer name ${prefix}b${i}`),
      );
      const svc = await startService({
        listen: { host: '127.0.0.1', port: 0 },
        engines: false,
        watch: false,
        streams: { maxBacklogBytes },
      });
      const reader = await openEvents(svc.url);
      try {
        await reader.hello();
        // The slow reader: a raw connection that subscribes, takes the greeting and reads no more.
        const s = connect(svc.address.port, '127.0.0.1');
        slow = s;
        let received = '';
        let closed = false;
        s.on('close', () => {
          closed = true;
        });
        s.on('error', () => undefined);
        let paused = false;
        s.on('data', (b: Buffer) => {
          received += b.toString();
          if (!paused && received.includes('event: hello')) {
            paused = true;
            s.pause();
          }
        });
        s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${svc.address.port}\r\n\r\n`);
        await eventually('hello', async () => (received.includes('event: hello') ? true : undefined), {
          timeoutMs: 5000,
          intervalMs: 250,
        });
        assert.equal((await health(svc.url)).streams.open, 2);

        let mtu = 1400;
        let rounds = 0;
        const t0 = Date.now();
        for (;;) {
          const h = await health(svc.url);
          if (h.streams.dropped > 0) break;
          if (Date.now() - t0 > 120_000)
            throw new Error(`the slow reader was not dropped after ${rounds} change events`);
          mtu = mtu === 1400 ? 1300 : 1400;
          batch(
            Array.from(
              { length: 2 * PAIRS },
              (_, i) => `link set ${prefix}${i % 2 ? 'b' : 'a'}${i >> 1} mtu ${mtu}`,
            ),
          );
          assert.equal((await raw(svc.url, '/api/discovery?fresh=1')).status, 200);
          rounds++;
        }
        const h = await health(svc.url);
        t.diagnostic(`dropped after ${rounds} change events; peak backlog ${h.streams.peakBacklogBytes} B`);
        assert.equal(h.streams.dropped, 1, 'only the reader that stopped');
        assert.equal(h.streams.open, 1, 'the reading subscriber is still subscribed');
        // The backlog never exceeded the bound plus one event: memory stays bounded.
        const ours = await eventually(
          `the reading subscriber to receive ${rounds} change events`,
          async () => {
            const evs = reader.changes<ChangeEvent>();
            return evs.length >= rounds ? evs : undefined;
          },
          { timeoutMs: 10_000, intervalMs: 250 },
        );
        const largest = Math.max(...ours.map((e) => JSON.stringify(e).length)) + 100;
        assert.ok(
          h.streams.peakBacklogBytes <= maxBacklogBytes + largest,
          `peak backlog ${h.streams.peakBacklogBytes} B, bound ${maxBacklogBytes} B + one event of ${largest} B`,
        );
        assert.ok(
          ours.some((e) => e.changes.interfaces.changed.some((i) => i.name === `${prefix}a0`)),
          'the events were our MTU changes',
        );
        // The service closed the connection: once read, it ends.
        s.resume();
        await eventually('the server to close the slow connection', async () => (closed ? true : undefined), {
          timeoutMs: 10_000,
          intervalMs: 250,
        });
      } finally {
        slow?.destroy();
        await reader.close();
        await svc.close();
      }
    } finally {
      ip('netns', 'del', ns);
    }
  });
});
