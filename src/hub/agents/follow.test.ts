import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSse } from './follow.js';

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
