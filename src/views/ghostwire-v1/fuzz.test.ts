/**
 * Fuzzing the Ghostwire v1 view with models that are valid by the native schema but whose
 * relations do not meet: records removed, ids and references pointed elsewhere or at
 * nothing, names and strings swapped. A discovery is taken at one moment from a host that
 * keeps changing (a process gone between two reads, a namespace whose holder vanished), so
 * the view must stand any such model.
 *
 * The contract: toGhostwireV1 never throws for a model the native schema accepts, and what
 * it returns is a valid v1 document (v1Errors is empty) — a lookup that finds nothing leaves
 * the object or field out, it does not crash or emit `undefined` where v1 wants a value.
 */
import { describe, it } from 'node:test';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { deepFreeze } from '../../model/freeze.js';
import { DiscoverySchema } from '../../model/schema.js';
import type { Discovery, Draft } from '../../model/types.js';
import { FuzzViolation, fuzz, type Rng } from '../../testing/fuzz.js';
import { sampleDiscovery } from '../fixtures.js';
import { toGhostwireV1 } from './transform.js';
import { v1Errors } from './validate.js';

const nativeCheck = TypeCompiler.Compile(DiscoverySchema);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number; value: unknown };

/** Every slot of the model: (container, key, value). */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        out.push({ parent: v, key: i, value: x });
        walk(x);
      });
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k, value: x });
        walk(x);
      }
  };
  walk(root);
  return out;
}

const base = sampleDiscovery();
/**
 * Values seen under each key in the sample model: a mutation puts another value of the same
 * key (a MAC stays a MAC, an ifindex an ifindex) or one that names nothing into a slot, so
 * the model stays one the kernel could give while its relations break.
 */
const byKey = new Map<string, unknown[]>();
for (const s of slots(base)) {
  const k = String(s.key);
  if (typeof s.value !== 'number' && typeof s.value !== 'string') continue;
  // The sample's one deliberately unparsable address tests another path; not a value to spread.
  if (s.value === 'not-an-ip') continue;
  const list = byKey.get(k) ?? [];
  if (!list.includes(s.value)) list.push(s.value);
  byKey.set(k, list);
}
const NOWHERE = [0, -1, 4026599999, 2 ** 31, 'nonexistent', 'docker/none'];

/** Keys whose values refer to another object: these may also point at nothing. */
const REFERENCES = new Set([
  'netns',
  'index',
  'master',
  'link',
  'pid',
  'ppid',
  'container',
  'ns',
  'owner',
  'parent',
  'destNetns',
  'group',
  'engine',
  'dev',
  'leader',
  'namespaces',
  'net',
  'pidns',
  'user',
]);

function replacement(rng: Rng, key: string, value: number | string): unknown {
  const same = (byKey.get(key) ?? []).filter((v) => typeof v === typeof value);
  const nowhere = REFERENCES.has(key) ? NOWHERE.filter((v) => typeof v === typeof value) : [];
  if (nowhere.length === 0) return same.length > 0 ? rng.pick(same) : value;
  return rng.chance(0.7) && same.length > 0 ? rng.pick(same) : rng.pick(nowhere);
}

function mutateModel(rng: Rng): Draft.Discovery {
  const d = structuredClone(base);
  const n = rng.range(1, 6);
  for (let i = 0; i < n; i++) {
    const s = rng.pick(slots(d));
    const { parent, key, value } = s;
    const op = rng.int(3);
    if (op === 0) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (typeof value === 'number' || typeof value === 'string') {
      // an array element takes the key of the array that holds it
      const k = Array.isArray(parent)
        ? String(slots(d).find((x) => x.value === parent)?.key ?? '')
        : String(key);
      (parent as Record<string, unknown>)[key] = replacement(rng, k, value);
    } else if (!Array.isArray(parent) && value !== null && typeof value === 'object') {
      // re-key a record entry: the object keeps its id field, the key says another
      const k2 = String(rng.pick(NOWHERE));
      parent[k2] = value;
      delete parent[key as string];
    }
  }
  return d;
}

let skipped = 0;
const target = {
  name: 'ghostwire v1 view',
  cases: 1500,
  generate: mutateModel,
  check: (d: Draft.Discovery) => {
    if (!nativeCheck.Check(d)) {
      skipped++;
      return; // not a model discovery can produce: the contract does not cover it
    }
    const doc = toGhostwireV1(deepFreeze(structuredClone(d)) as Discovery, { hostname: 'h', version: '0' });
    const errs = v1Errors(doc, 3);
    if (errs.length > 0) throw new FuzzViolation(`invalid v1 document: ${errs.join('; ')}`);
  },
  show: (d: Draft.Discovery) => JSON.stringify(d),
};

describe('Ghostwire v1 view under fuzzing (the sample model with relations broken)', () => {
  it('toGhostwireV1: a valid v1 document for every model the native schema accepts', () => {
    fuzz(target);
    if (skipped > 1350) throw new Error(`${skipped} of 1500 mutated models were not valid models`);
  });
});
