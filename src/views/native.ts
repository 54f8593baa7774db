/**
 * The native view: the Discovery as JSON (`--format native`, `/api/...`) and
 * its JSON Schema, generated from the very TypeBox schemas the code derives
 * its types from (src/model/schema.ts), so document and schema cannot drift.
 */
import { DiscoverySchema } from '../model/schema.js';
import { registerFormats } from './formats.js';

export { toNativeJson } from './native-json.js';

registerFormats();

/** A URN, not a URL: the schema is published by `wirescope discover --schema` and the service, not at an address. */
export const NATIVE_SCHEMA_ID = 'urn:wirescope:schema:native:v1';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Turns a TypeBox schema (with nested sub-schemas carrying `$id`s) into one
 * self-contained JSON Schema document: every named sub-schema moves to
 * `$defs` once and is referenced as `#/$defs/<id>`; TypeBox's symbol-keyed
 * bookkeeping is dropped by the JSON round trip.
 */
export function bundleSchema(schema: object, id: string, title: string): Record<string, Json> {
  const root = JSON.parse(JSON.stringify(schema)) as Record<string, Json>;
  const defs: Record<string, Json> = {};
  const rootId = typeof root.$id === 'string' ? root.$id : undefined;

  const walk = (node: Json, isRoot: boolean): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false));
    if (node === null || typeof node !== 'object') return node;
    const named = typeof node.$id === 'string' && !isRoot ? node.$id : undefined;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$id') continue;
      // Values of "properties" are sub-schemas; other keys hold sub-schemas or plain data alike.
      out[k] = walk(v, false);
    }
    if (named === undefined) return out;
    if (named === rootId) return { $ref: '#' };
    const seen = defs[named];
    if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(out)) {
      throw new Error(`schema bundling: two different sub-schemas share the $id "${named}"`);
    }
    defs[named] = out;
    return { $ref: `#/$defs/${named}` };
  };

  const body = walk(root, true) as Record<string, Json>;
  // Turn in-document references by bare id (TypeBox's Type.Ref("X")) into JSON pointers.
  const fixRefs = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(fixRefs);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && !v.startsWith('#') ? `#/$defs/${v}` : fixRefs(v);
    }
    return out;
  };
  const sortedDefs: Record<string, Json> = {};
  for (const k of Object.keys(defs).sort()) sortedDefs[k] = fixRefs(defs[k] ?? null);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: id,
    title,
    ...(fixRefs(body) as Record<string, Json>),
    $defs: sortedDefs,
  };
}

/** The JSON Schema of `--format native`, as one document. */
export function nativeJsonSchema(): Record<string, Json> {
  return bundleSchema(DiscoverySchema, NATIVE_SCHEMA_ID, 'wirescope native discovery');
}
