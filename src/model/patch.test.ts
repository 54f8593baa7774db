import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPatch,
  concatPatches,
  diffJson,
  jsonLengthReaches,
  PatchError,
  type PatchOp,
  sameJson,
} from './patch.js';

/** The document after `ops`, as JSON (what a client would hold). */
const json = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

function roundTrip(prev: unknown, next: unknown): PatchOp[] {
  const before = JSON.stringify(prev);
  const ops = diffJson(prev, next);
  assert.deepEqual(json(applyPatch(json(prev), ops)), json(next));
  assert.equal(JSON.stringify(prev), before, 'diffJson leaves its input alone');
  return ops;
}

describe('JSON Patch (RFC 6902) diff and apply', () => {
  it('applies the operations of RFC 6902 appendix A that it makes', () => {
    // A.1, A.2, A.3, A.4, A.5, A.16 (add to an array with "-"), A.10 (add to a nested member).
    assert.deepEqual(applyPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }]), {
      foo: 'bar',
      baz: 'qux',
    });
    assert.deepEqual(applyPatch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }]), {
      foo: ['bar', 'qux', 'baz'],
    });
    assert.deepEqual(applyPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }]), {
      foo: 'bar',
    });
    assert.deepEqual(applyPatch({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }]), {
      foo: ['bar', 'baz'],
    });
    assert.deepEqual(
      applyPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }]),
      {
        baz: 'boo',
        foo: 'bar',
      },
    );
    assert.deepEqual(applyPatch({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }]), {
      foo: ['bar', ['abc', 'def']],
    });
    assert.deepEqual(applyPatch({ foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }]), {
      foo: 'bar',
      child: { grandchild: {} },
    });
    // A.12: adding to a nonexistent target; A.9-like: removing what is not there; an index out of range.
    assert.throws(
      () => applyPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]),
      PatchError,
    );
    assert.throws(() => applyPatch({ foo: 'bar' }, [{ op: 'remove', path: '/baz' }]), PatchError);
    assert.throws(() => applyPatch({ foo: [1] }, [{ op: 'replace', path: '/foo/1', value: 2 }]), PatchError);
    assert.throws(() => applyPatch({ foo: [1] }, [{ op: 'add', path: '/foo/01', value: 2 }]), PatchError);
    assert.throws(() => applyPatch({ foo: [1] }, [{ op: 'add', path: 'foo', value: 2 }]), PatchError);
  });

  it('escapes "/" and "~" in keys (container keys are engine/namespace/id), and keeps "__proto__" a plain member', () => {
    const prev = json({ containers: { 'containerd/k8s.io/abc': { n: 1 }, 'a~b': 1 } });
    const next = json({ containers: { 'containerd/k8s.io/abc': { n: 2 }, 'a~1b': 2 } });
    const ops = roundTrip(prev, next);
    assert.ok(ops.some((o) => o.path === '/containers/containerd~1k8s.io~1abc/n'));
    assert.ok(ops.some((o) => o.path === '/containers/a~0b' && o.op === 'remove'));
    assert.ok(ops.some((o) => o.path === '/containers/a~01b' && o.op === 'add'));
    // Docker labels are anyone's words: a label named __proto__ or constructor is data, not a prototype.
    const labels = JSON.parse('{"labels":{"__proto__":{"x":1},"constructor":"c"}}') as unknown;
    const changed = JSON.parse('{"labels":{"__proto__":{"x":2},"toString":"t"}}') as unknown;
    const out = applyPatch(json(labels), roundTrip(labels, changed)) as { labels: object };
    assert.equal(Object.getPrototypeOf(out.labels), Object.prototype);
    assert.deepEqual(Object.keys(out.labels).sort(), ['__proto__', 'toString']);
    roundTrip({ a: 1 }, { a: 1, constructor: 2 });
  });

  it('treats undefined members as absent, as the serialisation does', () => {
    assert.deepEqual(diffJson({ a: 1, b: undefined }, { a: 1 }), []);
    assert.deepEqual(diffJson({ a: 1 }, { a: 1, c: undefined }), []);
    assert.ok(sameJson({ a: [1, { b: undefined }] }, { a: [1, {}] }));
    roundTrip({ a: undefined, b: 2 }, { a: 3, b: undefined });
  });

  it('touches only what changed: one element out of a sorted list, one in, an interface appended', () => {
    const pids = Array.from({ length: 90 }, (_, i) => 100 + i * 3);
    const gone = pids.filter((p) => p !== 154);
    assert.deepEqual(roundTrip({ pids }, { pids: gone }), [{ op: 'remove', path: '/pids/18' }]);
    assert.deepEqual(roundTrip({ pids }, { pids: [...pids.slice(0, 5), 7, ...pids.slice(5)] }), [
      { op: 'add', path: '/pids/5', value: 7 },
    ]);
    // Counters moved on every interface, and one was added: paired by position, the new one added.
    const nif = (index: number, rx: number) => ({ index, name: `eth${index}`, stats: { rx } });
    const before = [nif(1, 10), nif(2, 20), nif(3, 30)];
    const after = [nif(1, 11), nif(2, 21), nif(3, 31), nif(4, 0)];
    const ops = roundTrip({ ifs: before }, { ifs: after });
    assert.deepEqual(
      ops.map((o) => `${o.op} ${o.path}`),
      ['replace /ifs/0/stats/rx', 'replace /ifs/1/stats/rx', 'replace /ifs/2/stats/rx', 'add /ifs/3'],
    );
  });

  it('replaces a whole value where its operations would be longer', () => {
    const prev = { list: Array.from({ length: 60 }, (_, i) => i) };
    const next = { list: Array.from({ length: 60 }, (_, i) => i + 1000) };
    assert.deepEqual(roundTrip(prev, next), [{ op: 'replace', path: '/list', value: next.list }]);
    // One leaf changed: one replace, not the document.
    assert.deepEqual(
      roundTrip({ a: { b: { c: 1, d: 'x'.repeat(500) } } }, { a: { b: { c: 2, d: 'x'.repeat(500) } } }),
      [{ op: 'replace', path: '/a/b/c', value: 2 }],
    );
    // Types that change: an array becomes an object, a value becomes null.
    roundTrip({ a: [1, 2], b: 1 }, { a: { x: 1 }, b: null });
    roundTrip([1, 2, 3], { x: 1 });
  });

  it('measures a value only as far as the limit, never saying it reaches a length its JSON does not', () => {
    const values: unknown[] = [
      { a: [1, 2.5, -3e21, null, true, false], b: { c: 'text', d: undefined }, e: [undefined, {}] },
      ['quote " and \\ backslash', 'é and 😀', { '~/key': 'x'.repeat(300) }],
      Array.from({ length: 50 }, (_, i) => ({ index: i, name: `if${i}`, up: i % 2 === 0 })),
    ];
    for (const v of values) {
      const length = JSON.stringify(v).length;
      for (let limit = 1; limit <= length + 2; limit++) {
        if (jsonLengthReaches(v, limit)) assert.ok(length >= limit, `${length} ≥ ${limit}`);
      }
    }
    // Without escapes the measure is exact.
    const plain = values[2];
    const length = JSON.stringify(plain).length;
    assert.equal(jsonLengthReaches(plain, length), true);
    assert.equal(jsonLengthReaches(plain, length + 1), false);
  });

  it('leaves the input of applyPatch untouched and shares what did not change', () => {
    const doc = { a: { big: [1, 2, 3] }, b: { c: 1 } };
    const frozen = JSON.stringify(doc);
    const out = applyPatch(doc, [
      { op: 'replace', path: '/b/c', value: 2 },
      { op: 'add', path: '/b/d', value: 3 },
    ]);
    assert.equal(JSON.stringify(doc), frozen);
    assert.deepEqual(out, { a: { big: [1, 2, 3] }, b: { c: 2, d: 3 } });
    assert.equal(out.a, doc.a, 'an untouched branch is the same object');
    // A value taken from the patch is not changed by a later operation of the same patch.
    const value = { x: 1 };
    applyPatch({}, [
      { op: 'add', path: '/v', value },
      { op: 'replace', path: '/v/x', value: 2 },
    ]);
    assert.deepEqual(value, { x: 1 });
  });

  it('chains patches: folds a replace into an earlier one of the same path, unless something between touches it', () => {
    const step = (t: number): PatchOp[] => [
      { op: 'replace', path: '/startedAt', value: `t${t}` },
      { op: 'replace', path: '/durationMs', value: t },
    ];
    let chain: PatchOp[] = [];
    for (let t = 1; t <= 100; t++) chain = concatPatches(chain, step(t));
    assert.deepEqual(chain, step(100), 'a hundred discoveries, two operations');
    // An insertion before the element shifts it: the two replaces stay apart.
    const shifted = concatPatches(
      [
        { op: 'replace', path: '/a/1', value: 'x' },
        { op: 'add', path: '/a/0', value: 'new' },
      ],
      [{ op: 'replace', path: '/a/1', value: 'y' }],
    );
    assert.equal(shifted.length, 3);
    assert.deepEqual(applyPatch({ a: [0, 1, 2] }, shifted), { a: ['new', 'y', 'x', 2] });
    // A change inside a value between two replaces of it: kept apart as well.
    const inside = concatPatches(
      [
        { op: 'replace', path: '/o', value: { k: 1 } },
        { op: 'replace', path: '/o/k', value: 2 },
      ],
      [{ op: 'replace', path: '/o', value: { k: 3 } }],
    );
    assert.equal(inside.length, 3);
  });
});
