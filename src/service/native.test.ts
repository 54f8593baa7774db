/**
 * The discovery worker's serialisation (native.ts): the same text as JSON.stringify, and diffs
 * that skip unchanged network namespaces yet say the same as diffs of the whole models.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffJson } from '../model/patch.js';
import type { Discovery } from '../model/types.js';
import { syntheticDiscovery } from '../views/fixtures.js';
import { diffDiscoveries } from './diff.js';
import { renderNative, shareUnchanged } from './native.js';

const model = (n: number): Discovery => syntheticDiscovery(n) as Discovery;

test('the native text is JSON.stringify of the model, with a digest per network namespace', () => {
  const d = model(20);
  const { text, digests } = renderNative(d);
  assert.equal(text, JSON.stringify(d));
  assert.deepEqual([...digests.keys()], Object.keys(d.networks));
});

test('unchanged network namespaces are shared with the previous model; the diffs stay those of the whole models', () => {
  const prev = model(20);
  const draft = syntheticDiscovery(20);
  const keys = Object.keys(draft.networks);
  const [changedKey, removedKey] = [keys[3] ?? '', keys[7] ?? ''];
  const changed = draft.networks[changedKey];
  assert.ok(changed);
  draft.networks[changedKey] = { ...changed, interfaces: changed.interfaces.slice(1) };
  delete draft.networks[removedKey];
  const next = draft as Discovery;
  const before = renderNative(prev);
  const after = renderNative(next);
  const shared = shareUnchanged(prev, before.digests, next, after.digests);
  assert.equal(JSON.stringify(shared), JSON.stringify(next), 'the same document');
  assert.equal(
    shared.networks[keys[0] ?? ''],
    prev.networks[keys[0] ?? ''],
    'an unchanged one is the previous object',
  );
  assert.equal(shared.networks[changedKey], next.networks[changedKey], 'a changed one is the new object');
  assert.deepEqual(diffJson(prev, shared), diffJson(prev, next));
  assert.deepEqual(diffDiscoveries(prev, shared), diffDiscoveries(prev, next));
  assert.deepEqual(diffDiscoveries(prev, shared).namespaces, {
    added: [],
    removed: [prev.networks[removedKey]?.ino],
    changed: [changed.ino],
  });
});
