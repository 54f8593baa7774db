import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertSound,
  clearErrorOnly,
  FuzzViolation,
  fuzz,
  mutateBytes,
  mutateText,
  Rng,
  replay,
  shrinkBytes,
  shrinkText,
  tlvOffsets,
} from './fuzz.js';

class ParseError extends Error {
  override name = 'ParseError';
}

/** A toy TLV parser with three planted bugs the harness must find. */
function toyParse(b: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len === 0xfff0) for (;;); // hangs
    if (len < 4) throw new ParseError(`attribute at ${off} shorter than its header`);
    out.push(b.readUInt32LE(off + 4)); // RangeError when the value is short
    off += len;
  }
  return out;
}

const corpus = [Buffer.from('0800010001000000080002000200000008000300ffffffff', 'hex')];

describe('the fuzz harness', () => {
  it('draws the same cases from the same seed, and other cases from another', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 50 }, () => mutateBytes(a, corpus, { tlvStarts: [0] }).toString('hex'));
    const ys = Array.from({ length: 50 }, () => mutateBytes(b, corpus, { tlvStarts: [0] }).toString('hex'));
    const zs = Array.from({ length: 50 }, () => mutateBytes(c, corpus, { tlvStarts: [0] }).toString('hex'));
    assert.deepEqual(xs, ys);
    assert.notDeepEqual(xs, zs);
    assert.ok(new Set(xs).size > 25, 'mutations vary');
  });

  it('finds nested attribute headers for the TLV mutator', () => {
    // outer attribute (len 20, type 1) holding two 4+4 attributes, then a plain one
    const b = Buffer.from('1400010008000200aaaaaaaa08000300bbbbbbbb08000400cccccccc', 'hex');
    assert.deepEqual(
      tlvOffsets(b, 0).sort((x, y) => x - y),
      [0, 4, 12, 20],
    );
  });

  it('reports a RangeError escaping a parser, with the seed and a shrunk input', () => {
    const target = {
      name: 'toy-rangeerror',
      generate: (rng: Rng) => mutateBytes(rng, corpus, { tlvStarts: [0] }),
      check: (b: Buffer) => {
        clearErrorOnly(
          () => toyParse(b.length >= 2 && b.readUInt16LE(0) === 0xfff0 ? b.subarray(2) : b),
          [ParseError],
        );
      },
      shrink: shrinkBytes,
    };
    assert.throws(
      () => fuzz(target),
      (e: Error) => {
        assert.match(
          e.message,
          /fuzz toy-rangeerror: case \d+ of seed \d+ \(WIRESCOPE_FUZZ_SEED=\d+\) failed: RangeError/,
        );
        const min = /minimal input: hex ([0-9a-f]*)/.exec(e.message)?.[1];
        assert.ok(min !== undefined);
        // the smallest input that reads past the end: one 4..7-byte attribute header
        assert.ok(min.length <= 16, `shrunk to ${min}`);
        assert.throws(() => toyParse(Buffer.from(min, 'hex')), RangeError);
        return true;
      },
    );
  });

  it('stops a parser that hangs and names it a hang', () => {
    const hang = Buffer.from('f0ff0000', 'hex');
    const target = {
      name: 'toy-hang',
      generate: (rng: Rng) => (rng.chance(0.01) ? hang : rng.bytes(3)),
      check: (b: Buffer) => {
        clearErrorOnly(() => toyParse(b), [ParseError, RangeError]);
      },
      caseBudgetMs: 100,
    };
    assert.throws(() => fuzz(target), /failed: FuzzViolation: no answer within 100 ms \(a hang\)/);
  });

  it('accepts the clear error of the contract and refuses an unclear one', () => {
    assert.equal(
      clearErrorOnly(() => toyParse(Buffer.from('01000000', 'hex')), [ParseError]),
      undefined,
    );
    assert.throws(
      () =>
        clearErrorOnly(() => {
          throw new ParseError('two\nlines');
        }, [ParseError]),
      FuzzViolation,
    );
    assert.throws(
      () => clearErrorOnly(() => toyParse(Buffer.from('05000000', 'hex')), [ParseError]),
      RangeError,
    );
  });

  it('calls NaN, Infinity and fractional ids invented fields', () => {
    assert.doesNotThrow(() => assertSound({ a: 1, b: [2, { c: 'x' }], d: Buffer.from([1]) }, '$', ['*']));
    assert.throws(() => assertSound({ a: { b: Number.NaN } }), /\$\.a\.b is NaN/);
    assert.throws(() => assertSound([1, Number.POSITIVE_INFINITY]), /\$\[1\] is Infinity/);
    assert.throws(() => assertSound({ pid: 1.5 }, '$', ['pid']), /not an integer/);
  });

  it('replays kept regression inputs', () => {
    const t = { name: 'toy', check: (b: Buffer) => void clearErrorOnly(() => toyParse(b), [ParseError]) };
    assert.doesNotThrow(() => replay(t, [Buffer.from('01000000', 'hex')]));
    assert.throws(
      () => replay(t, [Buffer.from('05000000', 'hex')]),
      /regression input fails again: RangeError/,
    );
  });

  it('mutates text and shrinks it line by line, then character by character', () => {
    const rng = new Rng(1);
    const seen = new Set(Array.from({ length: 100 }, () => mutateText(rng, ['a b c\n1 2 3\n'])));
    assert.ok(seen.size > 50);
    assert.deepEqual([...shrinkText('x\ny')].slice(0, 2), ['y', 'x']);
  });
});
