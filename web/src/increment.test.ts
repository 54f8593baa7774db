import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPatch, diffJson } from '../../src/model/patch.js';
import type { ChangeEvent } from '../../src/service/contract.js';
import { MAX_PATCH_BYTES, PatchChain, type StepView, stepView } from '../../src/service/increments.js';
import { fuzzSeed, Rng } from '../../src/testing/fuzz.js';
import { sampleDiscovery } from '../../src/views/fixtures.js';
import { catchUp, catchUpAll } from './increment.js';
import type { Discovery } from './model.js';

type J = Record<string, unknown> | unknown[];
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const isContainer = (x: unknown): x is J => typeof x === 'object' && x !== null;
/** Keys a real document may hold (container keys with "/", labels anyone names) and pointer trouble. */
const ODD_KEYS = ['docker/abc', 'containerd/k8s.io/x~y', '~1', '', '__proto__', 'constructor', '0', '-'];
const put = (o: Record<string, unknown>, k: string, v: unknown) =>
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });

/**
 * One random change somewhere in the document, in place: a leaf replaced, an
 * element inserted (a copy of a sibling, so shapes stay realistic), removed
 * or swapped, a member added, removed or set to undefined (absent).
 */
function mutate(rng: Rng, doc: Record<string, unknown>): void {
  let node: J = doc;
  for (let depth = 0; depth < 8; depth++) {
    const kids: J[] = (Array.isArray(node) ? node : Object.values(node)).filter(isContainer);
    if (kids.length === 0 || (depth > 1 && rng.chance(0.3))) break;
    node = rng.pick(kids);
  }
  const leaf = (): unknown =>
    rng.pick([rng.int(5000), `v${rng.int(99)}`, true, null, { n: rng.int(9) }, [1, 2]]);
  if (Array.isArray(node)) {
    const i = rng.int(node.length + 1);
    switch (rng.int(4)) {
      case 0:
        node.splice(i, 0, node.length > 0 ? clone(rng.pick(node)) : leaf());
        break;
      case 1:
        if (node.length > 0) node.splice(rng.int(node.length), 1);
        break;
      case 2:
        if (node.length > 1) {
          const a = rng.int(node.length);
          const b = rng.int(node.length);
          [node[a], node[b]] = [node[b], node[a]];
        }
        break;
      default:
        if (node.length > 0) node[rng.int(node.length)] = leaf();
    }
    return;
  }
  const keys = Object.keys(node);
  const key = keys.length > 0 && rng.chance(0.7) ? rng.pick(keys) : rng.pick(ODD_KEYS);
  switch (rng.int(4)) {
    case 0:
      delete node[key];
      break;
    case 1:
      put(node, key, undefined);
      break;
    case 2:
      put(node, key, keys.length > 0 ? clone(node[rng.pick(keys)]) : leaf());
      break;
    default:
      put(node, key, leaf());
  }
}

/** The next discovery: a few changes, and the ones every discovery has (its start and duration). */
function nextDiscovery(rng: Rng, d: Discovery, t: number): Discovery {
  const next = clone(d) as unknown as Record<string, unknown>;
  next.startedAt = `2026-12-05T12:00:${String(t % 60).padStart(2, '0')}.000Z`;
  next.durationMs = rng.int(300);
  for (let k = rng.int(4); k > 0; k--) mutate(rng, next);
  return next as unknown as Discovery;
}

const NOTHING: ChangeEvent['changes'] = {
  namespaces: { added: [], removed: [], changed: [] },
  interfaces: { added: [], removed: [], changed: [] },
  containers: { added: [], removed: [], changed: [] },
};

describe('document increments: diff on the service, patch in the UI', () => {
  it('brings a document to the next one over random changes (seeded)', () => {
    const seed = fuzzSeed();
    const rng = new Rng(seed);
    let d = clone(sampleDiscovery()) as unknown as Discovery;
    for (let t = 0; t < 400; t++) {
      const next = nextDiscovery(rng, d, t);
      const before = JSON.stringify(d);
      const ops = diffJson(d, next);
      const patched = applyPatch(d, ops);
      assert.deepEqual(clone(patched), clone(next), `seed ${seed}, step ${t}: ${JSON.stringify(ops)}`);
      assert.equal(JSON.stringify(d), before, `seed ${seed}, step ${t}: the copy was changed in place`);
      d = next;
    }
  });

  it('follows a stream of events: chained patches, events left out and missed, refetches (seeded)', () => {
    const seed = fuzzSeed() + 1;
    const rng = new Rng(seed);
    // The service: generation → document, the chain since the last event, the events it sends.
    const docs = new Map<number, Discovery>();
    let gen = 1;
    docs.set(gen, clone(sampleDiscovery()) as unknown as Discovery);
    const chain = new PatchChain();
    chain.start(gen);
    // The client: its copy and the generation of it.
    let copy = clone(docs.get(1));
    let have = 1;
    let patched = 0;
    let refetched = 0;
    for (let t = 0; t < 300; t++) {
      const prev = docs.get(gen) as Discovery;
      const next = nextDiscovery(rng, prev, t);
      const bytes = JSON.stringify(next).length;
      const view = JSON.parse(stepView(prev, prev.startedAt, next, bytes)) as StepView;
      // Now and then the discovery worker restarted: its step was made against no model.
      const step = rng.chance(0.03) ? undefined : view.ops;
      chain.extend(gen, gen + 1, step, bytes);
      gen++;
      docs.set(gen, next);
      // Not every discovery is news (no topology or drift change): no event, the chain grows.
      if (rng.chance(0.4)) continue;
      const ev: ChangeEvent = {
        generation: gen,
        startedAt: next.startedAt,
        changes: NOTHING,
        ...chain.increment(),
      };
      chain.start(gen);
      // Now and then a client misses an event (a reconnect).
      if (rng.chance(0.05)) continue;
      const r = catchUpAll(copy, have, [ev]);
      patched += r.patched;
      if (r.refetch !== undefined) {
        refetched++;
        copy = clone(docs.get(gen));
        have = gen;
      } else {
        copy = r.discovery;
        have = r.generation;
      }
      assert.equal(have, gen, `seed ${seed}, step ${t}`);
      assert.deepEqual(
        clone(copy),
        clone(docs.get(gen)),
        `seed ${seed}, step ${t}: the copy equals a refetch`,
      );
    }
    assert.ok(patched > 100, `${patched} events patched, ${refetched} refetched`);
    assert.ok(refetched > 0, 'missed events were refetched');
  });

  it('refetches without a patch, from another base, or when the patch does not fit; skips what it has', () => {
    const d = clone(sampleDiscovery()) as unknown as Discovery;
    const ev = (e: Partial<ChangeEvent>): ChangeEvent => ({
      generation: 5,
      startedAt: '',
      changes: NOTHING,
      ...e,
    });
    assert.equal(catchUp(d, 4, ev({})).kind, 'refetch');
    assert.equal(catchUp(d, 3, ev({ base: 4, patch: [] })).kind, 'refetch');
    assert.equal(catchUp(undefined, 0, ev({ base: 4, patch: [] })).kind, 'refetch');
    const broken = catchUp(d, 4, ev({ base: 4, patch: [{ op: 'remove', path: '/networks/1' }] }));
    assert.equal(broken.kind, 'refetch');
    assert.equal(catchUp(d, 5, ev({})).kind, 'current', 'a refetch already brought generation 5');
    const ok = catchUp(d, 4, ev({ base: 4, patch: [{ op: 'replace', path: '/durationMs', value: 7 }] }));
    assert.ok(ok.kind === 'patched' && ok.discovery.durationMs === 7 && ok.generation === 5);
  });

  it("leaves the copy as it is on the census's namespace events (no patch), unless it has none", () => {
    const d = clone(sampleDiscovery()) as unknown as Discovery;
    const census: ChangeEvent = {
      generation: 7,
      startedAt: '',
      census: true,
      changes: { ...NOTHING, namespaces: { added: [4026531999], removed: [], changed: [] } },
    };
    assert.equal(catchUp(d, 4, census).kind, 'current');
    assert.equal(catchUp(undefined, 0, census).kind, 'refetch');
  });

  it('leaves out a step larger than the document, or than MAX_PATCH_BYTES', () => {
    const d = clone(sampleDiscovery());
    const small = JSON.parse(stepView(d, 'a', { ...d, durationMs: 1 }, 100_000)) as StepView;
    assert.equal(small.ops?.length, 1);
    const other = { completely: 'different' };
    const whole = JSON.parse(stepView(d, 'a', other, JSON.stringify(other).length)) as StepView;
    assert.deepEqual(whole, { from: 'a' }, 'a patch as long as the document is no patch');
    const huge = { ...d, blob: 'x'.repeat(MAX_PATCH_BYTES) };
    assert.equal((JSON.parse(stepView(d, 'a', huge, 10 * MAX_PATCH_BYTES)) as StepView).ops, undefined);
    // The chain breaks when it grows past its bound, and starts again at the next event.
    const chain = new PatchChain();
    chain.start(1);
    chain.extend(1, 2, [{ op: 'add', path: '/blob', value: 'x'.repeat(2000) }], 1000);
    assert.equal(chain.increment(), undefined);
    chain.start(2);
    assert.deepEqual(chain.increment(), { base: 2, patch: [] });
  });
});
