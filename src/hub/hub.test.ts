/**
 * `wirescope hub` against real agents: two `wirescope serve` on loopback with
 * different --node-name (both see this host: the test is about following,
 * merging and staleness; cluster.test.ts gives each node its own view), plus
 * two hostile agents: one that accepts connections and never answers (a slow
 * agent must not hold the others back) and one that answers with a node name
 * full of control characters and a document that is not a model.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { raw } from '../service/testing/http.js';
import { type Served, startServe, stopServe } from '../service/testing/serve.js';
import { openEvents } from '../service/testing/sse.js';
import { eventually } from '../testing/eventually.js';
import { v1Errors } from '../views/ghostwire-v1/validate.js';
import type { HubChangeEvent, HubDocument, NodesAnswer } from './contract.js';

const AGENT_TOKEN = 'agent-token-0123456789';
const HUB_TOKEN = 'hub-token-9876543210';
const WAIT = { timeoutMs: 90_000, intervalMs: 250 };

const listening = (s: Server | TcpServer): Promise<number> =>
  new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

describe('wirescope hub with real agents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wirescope-hub-'));
  const agentTokenFile = join(dir, 'agent-token');
  const hubTokenFile = join(dir, 'hub-token');
  const procs: ChildProcess[] = [];
  const sockets = new Set<Socket>();
  let alpha: Served;
  let beta: Served;
  let hub: Served;
  let alphaPort = 0;
  let silent: TcpServer | undefined;
  let liar: Server | undefined;
  const auth = { authorization: `Bearer ${HUB_TOKEN}` };
  const nodes = async (): Promise<NodesAnswer> =>
    (await (await fetch(`${hub.url}/api/nodes`, { headers: auth })).json()) as NodesAnswer;
  const stateOf = async (name: string) => (await nodes()).nodes.find((n) => n.name === name);

  /** An agent on loopback that wants the agents' token. */
  const startAgent = async (name: string, port: number): Promise<Served> => {
    const a = await startServe([
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--node-name',
      name,
      '--token-file',
      agentTokenFile,
    ]);
    procs.push(a.proc);
    assert.ok(a.url, `${name} did not start: ${a.stderr}`);
    return a;
  };

  before(async () => {
    writeFileSync(agentTokenFile, `${AGENT_TOKEN}\n`);
    writeFileSync(hubTokenFile, `${HUB_TOKEN}\n`);
    chmodSync(agentTokenFile, 0o600);
    chmodSync(hubTokenFile, 0o600);
    alpha = await startAgent('alpha', 0);
    alphaPort = Number(new URL(alpha.url ?? '').port);
    beta = await startAgent('beta', 0);
    // Accepts and holds every connection, answers nothing.
    silent = createTcpServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const silentPort = await listening(silent);
    liar = createHttpServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/healthz') res.end(JSON.stringify({ status: 'ok', node: 'evil\u001b[31m\nname' }));
      else res.end(JSON.stringify({ schema: 'not-a-model' }));
    });
    const liarPort = await listening(liar);
    hub = await startServe([
      'hub',
      '--listen',
      '127.0.0.1:0',
      '--agent',
      alpha.url ?? '',
      '--agent',
      beta.url ?? '',
      '--agent',
      `slow=http://127.0.0.1:${silentPort}`,
      '--agent',
      `http://127.0.0.1:${liarPort}`,
      '--agent-token-file',
      agentTokenFile,
      '--token-file',
      hubTokenFile,
    ]);
    procs.push(hub.proc);
    assert.ok(hub.url, `the hub did not start: ${hub.stderr}`);
  });

  after(async () => {
    for (const p of procs) await stopServe(p);
    for (const s of sockets) s.destroy();
    silent?.close();
    liar?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('merges both agents under their node names while a silent agent stays connecting', async () => {
    const answer = await eventually(
      'alpha and beta fresh',
      nodes,
      (a) => ['alpha', 'beta'].every((n) => a.nodes.find((x) => x.name === n)?.state === 'fresh'),
      { ...WAIT, show: (a) => a.nodes.map((n) => [n.name, n.state, n.error]) },
    );
    // The slow agent is not reached, and did not hold the others back.
    assert.equal(answer.nodes.find((n) => n.name === 'slow')?.state, 'connecting');
    const doc = (await (await fetch(`${hub.url}/api/discovery`, { headers: auth })).json()) as HubDocument;
    assert.equal(doc.schema, 'wirescope/hub/v1');
    for (const name of ['alpha', 'beta']) {
      const d = doc.nodes[name]?.discovery;
      assert.ok(d && Object.keys(d.networks).length > 0, `${name} has its namespaces`);
      assert.ok((doc.nodes[name]?.counts.networks ?? 0) > 0);
    }
    const v1 = await fetch(`${hub.url}/json?node=beta`, { headers: auth });
    assert.equal(v1.status, 200);
    assert.deepEqual(v1Errors(await v1.json()), [], 'a valid Ghostwire v1 document');
    assert.equal((await fetch(`${hub.url}/json`, { headers: auth })).status, 400);
    assert.equal((await fetch(`${hub.url}/json?node=nobody`, { headers: auth })).status, 404);
  });

  test('hostile agents and requests: refused in one line, nothing of theirs merged', async () => {
    const answer = await eventually(
      'the lying agent reported',
      nodes,
      (a) => a.agents.some((x) => x.error.includes('names no node')),
      { ...WAIT, show: (a) => a.agents },
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
    assert.ok(answer.agents.every((x) => !/[\u0000-\u001f]/.test(x.error)));
    assert.ok(!answer.nodes.some((n) => n.name.includes('evil')));
    assert.equal((await fetch(`${hub.url}/api/nodes`)).status, 401, 'the hub wants its own token');
    assert.equal(
      (await fetch(`${hub.url}/api/nodes`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } })).status,
      401,
      'an agent token is not the hub token',
    );
    assert.equal((await fetch(`${hub.url}/json?node=..%2Fx`, { headers: auth })).status, 400);
    assert.equal((await fetch(`${hub.url}/api/nodes`, { method: 'POST', headers: auth })).status, 405);
    // A rebound DNS name (fetch cannot set Host: node:http sends it as given).
    const rebound = await raw(hub.url ?? '', '/api/nodes', { headers: { ...auth, host: 'evil.example' } });
    assert.equal(rebound.status, 421);
  });

  test('an agent killed is marked stale with its last model and last-seen time, then fresh when restarted', async () => {
    await eventually(
      'alpha fresh',
      () => stateOf('alpha'),
      (n) => n?.state === 'fresh',
      WAIT,
    );
    const events = await openEvents(hub.url ?? '', `?access_token=${HUB_TOKEN}`);
    try {
      await events.hello();
      await stopServe(alpha.proc);
      const stale = await eventually(
        'alpha stale',
        () => stateOf('alpha'),
        (n) => n?.state === 'stale',
        {
          ...WAIT,
          show: (n) => [n?.state, n?.error],
        },
      );
      assert.ok(stale?.lastSeen, 'the time it was last seen');
      assert.ok(stale?.error, 'why it is stale');
      const doc = (await (await fetch(`${hub.url}/api/discovery`, { headers: auth })).json()) as HubDocument;
      assert.equal(doc.nodes.alpha?.state, 'stale');
      assert.ok(
        Object.keys(doc.nodes.alpha?.discovery?.networks ?? {}).length > 0,
        'its namespaces still shown',
      );
      await eventually(
        'a change event naming alpha',
        () => events.changes<HubChangeEvent>().some((e) => e.nodes.includes('alpha')),
        WAIT,
      );
      alpha = await startAgent('alpha', alphaPort);
      const fresh = await eventually(
        'alpha fresh again',
        () => stateOf('alpha'),
        (n) => n?.state === 'fresh',
        {
          ...WAIT,
          show: (n) => [n?.state, n?.error],
        },
      );
      assert.equal(fresh?.error, null);
      assert.ok(Date.parse(fresh?.lastSeen ?? '') >= Date.parse(stale?.lastSeen ?? ''));
    } finally {
      await events.close();
    }
  });
});
