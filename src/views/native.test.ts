import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { deepFreeze } from '../model/freeze.js';
import { DiscoverySchema } from '../model/schema.js';
import type { Discovery } from '../model/types.js';
import { sampleDiscovery } from './fixtures.js';
import { bundleSchema, nativeJsonSchema, toNativeJson } from './native.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Replaces every "#/$defs/X" reference by the definition, as a reader of the document would. */
function inline(node: Json, defs: Record<string, Json>, depth = 0): Json {
  if (Array.isArray(node)) return node.map((n) => inline(n, defs, depth));
  if (node === null || typeof node !== 'object') return node;
  const ref = node.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
    const name = ref.slice('#/$defs/'.length);
    const def = defs[name];
    assert.ok(def !== undefined, `${ref} resolves`);
    return depth > 8 ? { $ref: ref } : inline(def, defs, depth + 1);
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) out[k] = inline(v, defs, depth);
  return out;
}

const withoutIds = (node: Json): Json => {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) if (k !== '$id') out[k] = withoutIds(v);
  return out;
};

describe('native view', () => {
  it('prints the model as it is: the JSON parses back to the same discovery', () => {
    const d = deepFreeze(sampleDiscovery()) as Discovery;
    assert.deepEqual(JSON.parse(toNativeJson(d)), JSON.parse(JSON.stringify(d)));
    assert.match(toNativeJson(d, 2), /\n {2}"schema": "wirescope\/native\/v1"/);
  });

  it('describes the same model the code types: the sample discovery conforms to DiscoverySchema', () => {
    const check = TypeCompiler.Compile(DiscoverySchema);
    const d = sampleDiscovery();
    assert.equal(check.Check(d), true, [...check.Errors(d)].map((e) => `${e.path}: ${e.message}`).join('\n'));
    const broken = sampleDiscovery() as unknown as { networks: Record<string, { ino: unknown }> };
    const first = Object.values(broken.networks)[0];
    assert.ok(first);
    first.ino = 'not a number';
    assert.equal(check.Check(broken), false);
  });

  it('publishes the schema as one self-contained document whose references all resolve', () => {
    const s = nativeJsonSchema() as Record<string, Json>;
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(typeof s.$id, 'string');
    const defs = s.$defs as Record<string, Json>;
    for (const name of [
      'Namespace',
      'Process',
      'NetworkNamespace',
      'Interface',
      'Route',
      'Socket',
      'Container',
    ]) {
      assert.ok(defs[name], `$defs has ${name}`);
    }
    // No nested $id is left: the only one names the document.
    assert.equal(JSON.stringify({ ...s, $id: undefined }).includes('"$id"'), false);
    // Inlining the definitions again gives exactly the TypeBox schema (without its ids): nothing lost.
    const { $defs: _d, $schema: _s, $id: _i, title: _t, ...body } = s;
    assert.deepEqual(inline(body, defs), withoutIds(JSON.parse(JSON.stringify(DiscoverySchema)) as Json));
  });

  it('refuses to bundle two different sub-schemas under one $id', () => {
    const a = { $id: 'X', type: 'string' };
    const b = { $id: 'X', type: 'integer' };
    assert.throws(
      () => bundleSchema({ type: 'object', properties: { a, b } }, 'urn:t', 't'),
      /two different sub-schemas share the \$id "X"/,
    );
  });
});
