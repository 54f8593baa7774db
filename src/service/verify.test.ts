/**
 * `serve --verify FILE` on a real lab: the drift of the declaration is
 * computed after every discovery (in the discovery worker) and served at
 * /api/verify; change events carry a summary of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inNode } from '../lab/testing/fixtures.js';
import { nftTable } from '../model/lab-marks.js';
import { eventually } from '../testing/eventually.js';
import type { DriftSummary, VerifyReport } from './drift.js';
import { type RunningService, startService } from './server.js';
import { raw } from './testing/http.js';
import { type DriftLab, driftLab, dropDriftLab, ipIn } from './testing/lab.js';
import { openEvents } from './testing/sse.js';

const LOOP = { host: '127.0.0.1', port: 0 };

describe('serve --verify: drift of a declared lab at /api/verify and in change events', () => {
  let lab: DriftLab | undefined;
  let svc: RunningService | undefined;

  before(async () => {
    lab = await driftLab();
    svc = await startService({ listen: LOOP, engines: false, verify: [lab.file] });
  });
  after(async () => {
    await svc?.close();
    await dropDriftLab(lab);
  });

  const report = async (): Promise<VerifyReport> => {
    const r = await raw(svc!.url, '/api/verify?fresh=1');
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.headers['content-type']), /application\/json/);
    return JSON.parse(r.body) as VerifyReport;
  };

  it('reports the lab clean right after up, with the namespace of every node', async () => {
    const r = await report();
    assert.equal(r.labs.length, 1);
    const l = r.labs[0]!;
    assert.equal(l.lab, lab!.name);
    assert.equal(l.file, lab!.file);
    assert.deepEqual(l.drift, []);
    assert.equal(l.clean, true);
    assert.equal(r.clean, true);
    for (const n of ['a', 'b', 'c']) assert.equal(typeof l.nodes[n], 'number', `node ${n} located`);
  });

  it('is described in the OpenAPI document', async () => {
    const o = JSON.parse((await raw(svc!.url, '/api/openapi.json')).body) as {
      paths: Record<string, unknown>;
    };
    assert.ok(o.paths['/api/verify']);
  });

  it('shows a deleted veth (with ghosts on both live nodes) and a changed address, also in a change event', async () => {
    const events = await openEvents(svc!.url);
    try {
      await events.hello();
      const before = (await report()).labs[0]!;
      ipIn(lab!.name, 'a', 'link', 'del', 'eth2');
      ipIn(lab!.name, 'b', 'addr', 'del', '10.231.0.2/24', 'dev', 'eth1');
      ipIn(lab!.name, 'b', 'addr', 'add', '10.231.0.9/24', 'dev', 'eth1');
      ipIn(lab!.name, 'c', 'link', 'add', 'x0', 'type', 'bridge');

      // The change stream: the watcher sees the netlink changes, the worker rediscovers and verifies.
      const summary = await eventually(
        'a change event with the drift summary',
        async () => {
          for (const e of events.changes<{ drift?: DriftSummary }>()) {
            const s = e.drift?.labs.find((x) => x.lab === lab!.name);
            if (s && s.missing >= 1 && s.changed >= 1 && s.extra >= 1) return e.drift;
          }
          return undefined;
        },
        { timeoutMs: 20000, intervalMs: 250 },
      );
      assert.equal(summary.clean, false);
      assert.deepEqual(summary.labs, [{ lab: lab!.name, clean: false, missing: 1, extra: 1, changed: 1 }]);

      const l = (await report()).labs[0]!;
      assert.equal(l.clean, false);
      const lines = l.drift.map((x) => `${x.op} ${x.message}`).sort();
      assert.deepEqual(lines, [
        '+ c:x0 (bridge): present, undeclared',
        '- a:eth2 <-> c:eth1 (veth): declared, missing',
        '~ b:eth1.ipv4: declared 10.231.0.2/24, found 10.231.0.9/24',
      ]);
      // The missing veth: a placeholder for each end, on the card of the namespace that should hold it.
      const missing = l.drift.find((x) => x.op === '-')!;
      assert.deepEqual((missing.ghosts ?? []).map((g) => `${g.node}:${g.name}@${g.netns}`).sort(), [
        `a:eth2@${before.nodes.a}`,
        `c:eth1@${before.nodes.c}`,
      ]);
      // Changed and extra point at the kernel objects concerned.
      const changed = l.drift.find((x) => x.op === '~')!;
      assert.equal(changed.netns, before.nodes.b);
      assert.equal(changed.declared, '10.231.0.2/24');
      assert.equal(changed.found, '10.231.0.9/24');
      const extra = l.drift.find((x) => x.op === '+')!;
      assert.equal(extra.netns, before.nodes.c);
      assert.equal(typeof extra.index, 'number');
    } finally {
      await events.close();
    }
  });
});

describe('serve --verify: drift the model does not show (nft rules, sysctls)', () => {
  let lab: DriftLab | undefined;
  let svc: RunningService | undefined;
  before(async () => {
    lab = await driftLab();
    svc = await startService({ listen: LOOP, engines: false, watch: false, verify: [lab.file] });
  });
  after(async () => {
    await svc?.close();
    await dropDriftLab(lab);
  });

  it('reports a dropped partition rule (a change event although the model is the same) and a changed sysctl', async () => {
    const first = JSON.parse((await raw(svc!.url, '/api/verify?fresh=1')).body) as VerifyReport;
    assert.equal(first.clean, true, JSON.stringify(first.labs[0]?.drift));
    const events = await openEvents(svc!.url);
    try {
      await events.hello();
      const list = inNode(lab!.name, 'b', [
        'nft',
        '-a',
        'list',
        'chain',
        'inet',
        nftTable(lab!.name),
        'input',
      ]);
      const handle = /drop comment .*# handle (\d+)/.exec(list.out)?.[1];
      assert.ok(handle, list.out);
      const del = ['nft', 'delete', 'rule', 'inet', nftTable(lab!.name), 'input', 'handle', handle];
      assert.equal(inNode(lab!.name, 'b', del).code, 0);
      // Nothing netlink would announce, and the model does not carry nft rules: only the drift changed.
      const get = async () =>
        (JSON.parse((await raw(svc!.url, '/api/verify?fresh=1')).body) as VerifyReport).labs[0]!;
      const rule = (await get()).drift.map((x) => `${x.op} ${x.message}`);
      assert.equal(rule.length, 1, rule.join('\n'));
      assert.match(rule[0] ?? '', /^- partition rule .* in b: declared, missing$/);
      // Other changes on the host may come first: the one that matters carries the drift.
      const summary = await eventually(
        'a change event for the drift',
        async () =>
          events
            .changes<{ drift?: DriftSummary }>()
            .find((e) => e.drift?.labs.some((x) => x.lab === lab!.name && x.missing >= 1))?.drift,
        { timeoutMs: 5000, intervalMs: 250 },
      );
      assert.deepEqual(summary.labs, [{ lab: lab!.name, clean: false, missing: 1, extra: 0, changed: 0 }]);

      assert.equal(inNode(lab!.name, 'a', ['sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']).code, 0);
      const both = (await get()).drift.map((x) => `${x.op} ${x.message}`);
      assert.equal(both.length, 2, both.join('\n'));
      assert.ok(both.includes('~ a net.ipv4.ip_forward: declared 1, found 0'), both.join('\n'));
    } finally {
      await events.close();
    }
  });
});

describe('serve without --verify', () => {
  let svc: RunningService | undefined;
  before(async () => {
    svc = await startService({ listen: LOOP, engines: false, watch: false });
  });
  after(() => svc?.close());

  it('answers /api/verify with a problem document saying how to enable it', async () => {
    const r = await raw(svc!.url, '/api/verify');
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).detail, /--verify FILE/);
  });
});

describe('serve --verify --no-worker: the drift is computed in-process the same way', () => {
  let lab: DriftLab | undefined;
  let svc: RunningService | undefined;
  before(async () => {
    lab = await driftLab();
    svc = await startService({
      listen: LOOP,
      engines: false,
      worker: false,
      watch: false,
      verify: [lab.file],
    });
  });
  after(async () => {
    await svc?.close();
    await dropDriftLab(lab);
  });

  it('is clean, then reports a downed interface as changed state', async () => {
    const get = async () => JSON.parse((await raw(svc!.url, '/api/verify?fresh=1')).body) as VerifyReport;
    assert.equal((await get()).clean, true);
    ipIn(lab!.name, 'b', 'link', 'set', 'eth1', 'down');
    const l = (await get()).labs[0]!;
    assert.deepEqual(
      l.drift.map((x) => `${x.op} ${x.message}`),
      ['~ b:eth1.state: declared up, found down'],
    );
  });
});
