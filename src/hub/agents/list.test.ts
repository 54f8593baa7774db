import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createListAgentSource, parseAgentArgument } from './list.js';

test('--agent takes URL or NAME=URL, normalised', () => {
  assert.deepEqual(parseAgentArgument('http://10.0.0.5:5000/'), { url: 'http://10.0.0.5:5000' });
  assert.deepEqual(parseAgentArgument('node-1=https://n1.example:8443/ws/'), {
    name: 'node-1',
    url: 'https://n1.example:8443/ws',
  });
});

test('hostile --agent arguments are refused in one line', () => {
  for (const bad of [
    'ftp://x',
    'http://user:pw@x:5000',
    'http://x:5000/?a=b',
    'http://x:5000/#f',
    'not a url',
    'bad name=http://x',
    '-x=http://x',
    `${'a'.repeat(300)}=http://x`,
    'a\u001b[31m=http://x',
  ]) {
    assert.throws(
      () => parseAgentArgument(bad),
      (err: Error) => !err.message.includes('\n') && err.message.startsWith('--agent'),
      bad,
    );
  }
});

test('the list source reports its targets once and refuses a URL given twice', async () => {
  const src = createListAgentSource([{ url: 'http://a' }, { name: 'b', url: 'http://b' }]);
  const seen = await new Promise((resolve) => src.start(resolve, () => {}));
  assert.deepEqual(seen, [{ url: 'http://a' }, { name: 'b', url: 'http://b' }]);
  src.stop();
  assert.throws(() => createListAgentSource([{ url: 'http://a' }, { url: 'http://a' }]), /given twice/);
});
