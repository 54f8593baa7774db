import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ChangeEvent } from '../../service/contract.js';
import { eventually } from '../../testing/eventually.js';
import { nodeModel } from '../testing/models.js';
import { AgentFollower, type AgentView, parseSse } from './follow.js';

const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

test('server-sent events are split at blank lines; comments and partial events wait', () => {
  const { events, rest } = parseSse(
    ': keep-alive\n\nevent: hello\ndata: {"generation":3}\n\nevent: change\nid: 4\ndata: {"a":1}\n\nevent: change\ndata: {"b"',
  );
  assert.deepEqual(events, [
    { event: 'hello', data: '{"generation":3}' },
    { event: 'change', data: '{"a":1}' },
  ]);
  assert.equal(rest, 'event: change\ndata: {"b"');
});

/**
 * A census event (the agent's watcher saw a namespace come or go, `census: true`) says what the
 * agent's next discovery will show and carries no document; the follower waits for that
 * discovery's event instead of fetching the whole model again.
 */
test('a census event is news, not a gap: the follower does not refetch the document for it', async () => {
  const model = nodeModel('192.0.2.1');
  let documents = 0;
  let stream: ServerResponse | undefined;
  const agent = createServer((req, res) => {
    if (req.url === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: hello\ndata: ${JSON.stringify({ generation: 1 })}\n\n`);
      stream = res;
      return;
    }
    if (req.url === '/api/discovery') {
      documents++;
      res.writeHead(200, { 'content-type': 'application/json', 'x-wirescope-generation': '1' });
      res.end(JSON.stringify(model));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
  const views: AgentView[] = [];
  const follower = new AgentFollower({ name: 'n1', url }, (v) => views.push(v));
  try {
    follower.start();
    await eventually(
      'the follower holds the first document',
      () => follower.current.state,
      (s) => s.startsWith('fresh'),
      WAIT,
    );
    // The agent's census saw a namespace while its discovery of generation 2 is still running:
    // the event names the generation of the snapshot it has (2 when a quiet discovery sent none).
    const census: ChangeEvent = {
      generation: 2,
      startedAt: new Date().toISOString(),
      census: true,
      changes: {
        namespaces: { added: [4026530000], removed: [], changed: [] },
        interfaces: { added: [], removed: [], changed: [] },
        containers: { added: [], removed: [], changed: [] },
      },
    };
    stream?.write(`event: change\nid: 2\ndata: ${JSON.stringify(census)}\n\n`);
    // Then a keep-alive: once the follower has read past it, it has handled the census event.
    const seen = follower.current.lastSeen ?? 0;
    await new Promise((r) => setTimeout(r, 5));
    stream?.write(': keep-alive\n\n');
    await eventually(
      'the follower read the census event',
      () => follower.current.lastSeen ?? 0,
      (t) => t > seen,
      WAIT,
    );
    assert.equal(documents, 1, 'the document was fetched once, at the start');
    assert.equal(follower.current.state, 'fresh');
    assert.equal(follower.current.generation, 1, 'the held model is still generation 1');
  } finally {
    follower.stop();
    stream?.destroy();
    agent.closeAllConnections();
    await new Promise((r) => agent.close(r));
  }
});
