/**
 * The neighbourhood check through the service: `/api/check/:target` as one
 * JSON document and as server-sent events, and Ghostwire's `/mobydig`
 * websocket, all on plain namespaces the test builds (one neighbour answers,
 * one drops everything), with the same verdicts on every interface.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { wireFork } from '../check/testing/fork.js';
import type { CheckResult } from '../check/types.js';
import { NetFixtures } from '../network/testing/fixtures.js';
import { inNetns } from '../testing/ip.js';
import { type RunningService, startService } from './server.js';

const LOOP = { host: '127.0.0.1', port: 0 };

/** Every text frame and the close of one /mobydig session. */
function mobydig(
  url: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ frames: Record<string, string>[]; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/mobydig?target=${encodeURIComponent(target)}`, {
      headers,
    });
    const frames: Record<string, string>[] = [];
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'text frames only');
      frames.push(JSON.parse(String(data)) as Record<string, string>);
    });
    ws.on('close', (code, reason) => resolve({ frames, code, reason: reason.toString() }));
    ws.on('error', reject);
  });
}

describe('neighbourhood check through the service', () => {
  const fx = new NetFixtures();
  const [a, b, c] = ['a', 'b', 'c'].map((n) => `${fx.prefix}-${n}`) as [string, string, string];
  let svc: RunningService;

  before(async () => {
    wireFork(fx);
    inNetns(c, 'nft', ['-f', '-'], {
      input:
        'table inet wsdrop {\n chain dropall {\n  type filter hook input priority 0; policy drop;\n }\n}\n',
    });
    svc = await startService({ listen: LOOP, engines: false, watch: false });
  });
  after(async () => {
    await svc?.close();
    fx.cleanup();
  });

  const expected = [
    [b, '10.78.0.2', 'verified'],
    [c, '10.79.0.2', 'unreachable'],
  ];

  it('answers GET /api/check/:target with the whole result', async () => {
    const res = await fetch(`${svc.url}/api/check/${a}`);
    assert.equal(res.status, 200);
    const r = (await res.json()) as CheckResult;
    assert.deepEqual(
      r.verdicts.map((v) => [v.fqdn, v.address, v.quality]),
      expected,
    );
    assert.equal(r.ok, false);
    assert.match(r.verdicts[1]?.error ?? '', /no echo reply/);
  });

  it('streams the neighbourhood, every verdict as it changes, and the result as server-sent events', async () => {
    const res = await fetch(`${svc.url}/api/check/${a}`, { headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((blk) => blk.trim() !== '')
      .map((blk) => {
        const [ev, data] = blk.split('\n');
        return { event: ev?.slice('event: '.length), data: JSON.parse(data?.slice('data: '.length) ?? '') };
      });
    assert.equal(events[0]?.event, 'neighbourhood');
    assert.equal(events[0]?.data.neighbours.length, 2);
    assert.equal(events.at(-1)?.event, 'done');
    const qualities = events.filter((e) => e.event === 'verdict' && e.data.address === '10.78.0.2');
    assert.deepEqual(
      qualities.map((e) => e.data.quality),
      ['unverified', 'verifying', 'verified'],
    );
    assert.deepEqual(
      (events.at(-1)?.data as CheckResult | undefined)?.verdicts.map((v) => [v.fqdn, v.address, v.quality]),
      expected,
    );
  });

  it('speaks Ghostwire’s /mobydig: text frames as qualities change, then close 1000', async () => {
    const s = await mobydig(svc.url, a);
    assert.equal(s.code, 1000);
    const last = new Map<string, Record<string, string>>();
    for (const f of s.frames) last.set(`${f.fqdn} ${f.address}`, f);
    assert.deepEqual([...last.values()].map((f) => [f.fqdn, f.address, f.quality, f.verdict]).sort(), [
      [b, '10.78.0.2', 'verified', undefined],
      [c, '10.79.0.2', 'invalid', 'unreachable'],
    ]);
    assert.ok(s.frames.some((f) => f.quality === 'verifying'));
  });

  it('closes /mobydig with 4400 and the reason when the target is unknown', async () => {
    const s = await mobydig(svc.url, `${fx.prefix}-nosuch`);
    assert.equal(s.code, 4400);
    assert.equal(s.reason, `no container or network namespace matches "${fx.prefix}-nosuch"`);
    assert.deepEqual(s.frames, []);
  });

  it('refuses plain HTTP on /mobydig, and an upgrade from another site', async () => {
    const res = await fetch(`${svc.url}/mobydig?target=${a}`);
    assert.equal(res.status, 426);
    await assert.rejects(mobydig(svc.url, a, { origin: 'http://evil.example' }), /403/);
  });

  it('answers 404 for a target that names nothing', async () => {
    const res = await fetch(`${svc.url}/api/check/${fx.prefix}-nosuch`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
  });
});
