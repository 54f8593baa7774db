import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNodeName } from './node-name.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

test('node names: a Kubernetes node name or host name, nothing that needs escaping', () => {
  for (const ok of ['node-1', 'kind-worker2', 'ip-10-0-0-5.ec2.internal', 'Host_A', '7'])
    assert.equal(isNodeName(ok), true, ok);
  for (const bad of ['', '-x', '.x', 'a b', 'a/b', 'a\u001b[31m', 'a\nb', 'ä', 'x'.repeat(254), '../etc'])
    assert.equal(isNodeName(bad), false, JSON.stringify(bad));
});

test('serve --node-name refuses a hostile name in one line, escaped', () => {
  const r = spawnSync(
    process.execPath,
    [BIN, 'serve', '--listen', '127.0.0.1:0', '--node-name', 'evil\u001b[31m\nname'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /--node-name: .* is not a node name/);
  assert.ok(!r.stderr.includes('\u001b'), 'control characters escaped');
});
