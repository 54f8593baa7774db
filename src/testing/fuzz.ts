/**
 * A small seeded fuzzer for the parsers of untrusted bytes and text (test helper, not shipped
 * behaviour). Each `fuzz.test.ts` feeds a parser random and mutated real inputs — recorded
 * kernel replies, files from this host, bytes captured live in the test — and checks that it
 * either returns a sound value or fails with the error its contract names, and never hangs.
 *
 * Deterministic: every target draws from its own PRNG stream, seeded from WIRESCOPE_FUZZ_SEED
 * (default FUZZ_DEFAULT_SEED, so CI runs the same cases every time) and the target's name (so
 * adding a target does not move the cases of another). WIRESCOPE_FUZZ_CASES scales the number
 * of cases for a longer hunt. A failure names the seed, the case and the smallest input found
 * that still fails the same way, ready to paste into the test's regression list.
 *
 * Why hand-written and not fast-check: the inputs that matter are byte-level mutations of
 * recorded netlink datagrams — attribute length fields set to boundary values, splices of two
 * real messages — which a TLV-aware mutator of thirty lines expresses directly; and a hang
 * must be caught, which needs the vm watchdog below around synchronous parser code.
 */
import { AssertionError } from 'node:assert';
import vm from 'node:vm';

/** The seed CI uses. Any other run: WIRESCOPE_FUZZ_SEED=<n>. */
export const FUZZ_DEFAULT_SEED = 0x5eed_2026;

/** The run's base seed: WIRESCOPE_FUZZ_SEED (decimal or 0x-hex) or the fixed default. */
export function fuzzSeed(): number {
  const env = process.env.WIRESCOPE_FUZZ_SEED;
  if (env === undefined || env === '') return FUZZ_DEFAULT_SEED;
  const n = Number(env);
  if (!Number.isSafeInteger(n)) throw new Error(`WIRESCOPE_FUZZ_SEED=${env} is not an integer`);
  return n >>> 0;
}

/** Cases per target: `base`, scaled by WIRESCOPE_FUZZ_CASES (a factor, default 1). */
export function fuzzCases(base: number): number {
  const f = Number(process.env.WIRESCOPE_FUZZ_CASES ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(f) && f > 0 ? f : 1)));
}

/** FNV-1a of a string: derives a target's stream from the base seed and its name. */
function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** sfc32 (Small Fast Counter): a 128-bit state PRNG with good statistics; deterministic per seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick from an empty list');
    return xs[this.int(xs.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte mutators

/** Integers that break length and count fields: zero, one, around the header sizes, sign bits, all ones. */
export const BOUNDARY_U16 = [
  0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff,
];
export const BOUNDARY_U32 = [
  0, 1, 2, 4, 16, 0x7f, 0xff, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff,
];
const BOUNDARY_U8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

export interface ByteMutateOptions {
  /** Offsets where a run of netlink attributes (struct nlattr) starts, for TLV-aware mutations. */
  tlvStarts?: readonly number[];
  /** How many mutations to stack on one input at most (default 4). */
  maxStack?: number;
}

/** Offsets of every attribute header reachable from `start`, descending into nested-looking values. */
export function tlvOffsets(b: Buffer, start: number, depth = 0): number[] {
  const out: number[] = [];
  let off = start;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) break;
    out.push(off);
    // A value that parses as attributes end to end is probably a nest: mutate inside it too.
    if (depth < 4 && len >= 8) {
      const inner = tlvOffsets(b.subarray(0, off + len), off + 4, depth + 1);
      if (inner.length > 0) out.push(...inner);
    }
    off += (len + 3) & ~3;
  }
  return out;
}

type ByteMutator = (rng: Rng, b: Buffer, corpus: readonly Buffer[], o: ByteMutateOptions) => Buffer;

const byteMutators: ByteMutator[] = [
  // flip one bit
  (rng, b) => {
    if (b.length === 0) return b;
    const out = Buffer.from(b);
    const i = rng.int(out.length);
    out[i] = (out[i] as number) ^ (1 << rng.int(8));
    return out;
  },
  // set one byte to a boundary or random value
  (rng, b) => {
    if (b.length === 0) return b;
    const out = Buffer.from(b);
    out[rng.int(out.length)] = rng.chance(0.5) ? rng.pick(BOUNDARY_U8) : rng.int(256);
    return out;
  },
  // insert random bytes
  (rng, b) => {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at)]);
  },
  // delete a range
  (rng, b) => {
    if (b.length === 0) return b;
    const at = rng.int(b.length);
    const n = rng.range(1, Math.min(16, b.length - at));
    return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
  },
  // duplicate a range in place
  (rng, b) => {
    if (b.length === 0) return b;
    const at = rng.int(b.length);
    const n = rng.range(1, Math.min(64, b.length - at));
    return Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
  },
  // truncate
  (rng, b) => b.subarray(0, rng.int(b.length + 1)),
  // splice: head of this input, tail of another real one
  (rng, b, corpus) => {
    const other = rng.pick(corpus);
    return Buffer.concat([b.subarray(0, rng.int(b.length + 1)), other.subarray(rng.int(other.length + 1))]);
  },
  // a boundary integer over any 16- or 32-bit field, either byte order
  (rng, b) => {
    if (b.length < 2) return b;
    const out = Buffer.from(b);
    const wide = out.length >= 4 && rng.chance(0.5);
    const at = rng.int(out.length - (wide ? 3 : 1)) & (rng.chance(0.7) ? ~1 : ~0);
    if (wide) {
      const v = rng.pick(BOUNDARY_U32);
      if (rng.chance(0.5)) out.writeUInt32LE(v, at);
      else out.writeUInt32BE(v, at);
    } else {
      const v = rng.pick(BOUNDARY_U16);
      if (rng.chance(0.5)) out.writeUInt16LE(v, at);
      else out.writeUInt16BE(v, at);
    }
    return out;
  },
  // TLV-aware: a boundary value in one attribute's length, or its type, or the attribute dropped/doubled
  (rng, b, _c, o) => {
    const starts = o.tlvStarts ?? [];
    if (starts.length === 0) return b;
    const offs = tlvOffsets(b, rng.pick(starts));
    if (offs.length === 0) return b;
    const at = rng.pick(offs);
    const len = b.readUInt16LE(at);
    const out = Buffer.from(b);
    switch (rng.int(5)) {
      case 0: {
        const rest = b.length - at;
        const v = rng.pick([...BOUNDARY_U16, len - 1, len + 1, rest, rest + 1, rest - 1]);
        out.writeUInt16LE(Math.max(0, Math.min(0xffff, v)), at);
        return out;
      }
      case 1:
        out.writeUInt16LE(rng.chance(0.5) ? rng.int(64) : rng.pick(BOUNDARY_U16), at + 2);
        return out;
      case 2: {
        // shrink the value to 0..len-4 bytes, keeping the header consistent
        const keep = rng.int(Math.max(1, len - 4));
        out.writeUInt16LE(4 + keep, at);
        return Buffer.concat([
          out.subarray(0, at + 4 + keep),
          Buffer.alloc((4 - (keep % 4)) % 4),
          b.subarray(at + ((len + 3) & ~3)),
        ]);
      }
      case 3:
        return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + ((len + 3) & ~3)))]);
      default: {
        const whole = b.subarray(at, Math.min(b.length, at + ((len + 3) & ~3)));
        return Buffer.concat([b.subarray(0, at), whole, whole, b.subarray(at + whole.length)]);
      }
    }
  },
];

/** One input built from a corpus entry with 1..maxStack stacked mutations (or, rarely, random bytes). */
export function mutateBytes(rng: Rng, corpus: readonly Buffer[], o: ByteMutateOptions = {}): Buffer {
  if (corpus.length === 0 || rng.chance(0.03)) return rng.bytes(rng.int(96));
  let b: Buffer = Buffer.from(rng.pick(corpus));
  const n = rng.range(1, o.maxStack ?? 4);
  for (let i = 0; i < n; i++) b = rng.pick(byteMutators)(rng, b, corpus, o);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Text mutators (procfs files, /etc files, YAML)

/** Characters that break line-oriented parsers: separators, signs, control and wide characters. */
const NASTY = [
  ' ',
  '\t',
  '\n',
  '\r',
  '\0',
  ':',
  '-',
  '+',
  '(',
  ')',
  '[',
  ']',
  '/',
  '\\',
  ',',
  '.',
  '#',
  '"',
  "'",
  '=',
  '0',
  '9',
  'x',
  'e',
  'NaN',
  'Infinity',
  '-1',
  '4294967296',
  '9007199254740993',
  '1e309',
  '0x',
  '\u001b[2J',
  '\u0085',
  '\u2028',
  '\uFFFD',
  '\uD800',
  'é',
  '𝕏',
];

type TextMutator = (rng: Rng, t: string, corpus: readonly string[]) => string;

const lines = (t: string) => t.split('\n');

const textMutators: TextMutator[] = [
  // insert a nasty token
  (rng, t) => {
    const at = rng.int(t.length + 1);
    return t.slice(0, at) + rng.pick(NASTY) + t.slice(at);
  },
  // replace a character
  (rng, t) => {
    if (t.length === 0) return t;
    const at = rng.int(t.length);
    return t.slice(0, at) + rng.pick(NASTY) + t.slice(at + 1);
  },
  // delete a range
  (rng, t) => {
    const at = rng.int(t.length + 1);
    return t.slice(0, at) + t.slice(at + rng.range(1, 24));
  },
  // truncate
  (rng, t) => t.slice(0, rng.int(t.length + 1)),
  // drop, duplicate or swap whole lines
  (rng, t) => {
    const ls = lines(t);
    const i = rng.int(ls.length);
    const j = rng.int(ls.length);
    switch (rng.int(3)) {
      case 0:
        ls.splice(i, 1);
        break;
      case 1:
        ls.splice(i, 0, ls[j] ?? '');
        break;
      default: {
        const x = ls[i] ?? '';
        ls[i] = ls[j] ?? '';
        ls[j] = x;
      }
    }
    return ls.join('\n');
  },
  // replace one whitespace-separated field of a line
  (rng, t) => {
    const ls = lines(t);
    const i = rng.int(ls.length);
    const f = (ls[i] ?? '').split(' ');
    f[rng.int(f.length)] = rng.pick(NASTY);
    ls[i] = f.join(' ');
    return ls.join('\n');
  },
  // replace a number with a boundary one
  (rng, t) => {
    const nums = [...t.matchAll(/\d+/g)];
    if (nums.length === 0) return t;
    const m = rng.pick(nums);
    const at = m.index ?? 0;
    const v = rng.pick([
      '0',
      '-1',
      '4294967295',
      '4294967296',
      '18446744073709551616',
      '99999999999999999999',
      '007',
      '0x10',
    ]);
    return t.slice(0, at) + v + t.slice(at + m[0].length);
  },
  // splice with another corpus entry
  (rng, t, corpus) => {
    const o = rng.pick(corpus);
    return t.slice(0, rng.int(t.length + 1)) + o.slice(rng.int(o.length + 1));
  },
  // a byte-level mutation through UTF-8 (invalid sequences decode as U+FFFD, as Node reads files)
  (rng, t) => mutateBytes(rng, [Buffer.from(t, 'utf8')], { maxStack: 2 }).toString('utf8'),
];

/** One text input built from a corpus entry with 1..maxStack stacked mutations. */
export function mutateText(rng: Rng, corpus: readonly string[], maxStack = 4): string {
  if (corpus.length === 0 || rng.chance(0.03))
    return Array.from({ length: rng.int(40) }, () => rng.pick(NASTY)).join('');
  let t = rng.pick(corpus);
  const n = rng.range(1, maxStack);
  for (let i = 0; i < n; i++) t = rng.pick(textMutators)(rng, t, corpus);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Contracts

/** What a case did wrong: thrown by a check, or recorded by the runner (a throw, a hang). */
export class FuzzViolation extends Error {
  override name = 'FuzzViolation';
}

/** A constructor of the errors a target may throw as its "clear error". */
// biome-ignore lint/suspicious/noExplicitAny: any constructor of an Error subclass
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Runs `fn`; a throw is fine only when it is one of `allowed` and its message is one non-empty
 * line (no stack, no embedded newline). Anything else — TypeError, RangeError, a bare Error — is
 * a violation. Returns the value, or undefined when the parser refused the input cleanly.
 */
export function clearErrorOnly<T>(fn: () => T, allowed: readonly ErrorClass[]): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FuzzViolation) throw e;
    if (allowed.some((c) => e instanceof c)) {
      const m = (e as Error).message;
      if (m === '' || /[\n\r]/.test(m))
        throw new FuzzViolation(`unclear ${(e as Error).name} message: ${JSON.stringify(m)}`);
      return undefined;
    }
    throw e;
  }
}

/**
 * Every number in `v` is finite (no NaN or ±Infinity: a field read from garbage must be
 * absent, not invented); `integers` demands whole numbers for the listed keys (or for all
 * numbers with '*'; u64 counters past 2^53 round, which is not invention). Buffers are opaque
 * bytes, skipped.
 */
export function assertSound(
  v: unknown,
  where = '$',
  integers: readonly string[] = [],
  seen = new Set<unknown>(),
): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new FuzzViolation(`${where} is ${v}`);
    const key = where.slice(where.lastIndexOf('.') + 1);
    if ((integers.includes('*') || integers.includes(key)) && !Number.isInteger(v))
      throw new FuzzViolation(`${where} is ${v}, not an integer`);
    return;
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || seen.has(v)) return;
  seen.add(v);
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      assertSound(x, `${where}[${i}]`, integers, seen);
    });
    return;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) assertSound(x, `${where}.${String(k)}`, integers, seen);
    return;
  }
  for (const [k, x] of Object.entries(v)) assertSound(x, `${where}.${k}`, integers, seen);
}

// ---------------------------------------------------------------------------------------------
// Runner

export interface FuzzTarget<I> {
  /** Names the target in reports and derives its PRNG stream. */
  name: string;
  /** Builds one input (from the corpus, mutated, or random). */
  generate: (rng: Rng) => I;
  /** The contract: returns when the parser behaved, throws (anything) when it did not. */
  check: (input: I) => void;
  /** Smaller variants of a failing input, tried in order (see shrinkBytes, shrinkText). */
  shrink?: (input: I) => Iterable<I>;
  /** How a (minimal) input is printed in the report. */
  show?: (input: I) => string;
  /** Cases to run (default 2000, scaled by WIRESCOPE_FUZZ_CASES). */
  cases?: number;
  /** A case that runs longer than this is a hang (default 1000 ms). */
  caseBudgetMs?: number;
}

export interface FuzzReport {
  name: string;
  seed: number;
  cases: number;
  ms: number;
}

/** Candidates one step smaller: drop halves, quarters, ... down to single bytes. */
export function* shrinkBytes(b: Buffer): Iterable<Buffer> {
  for (let chunk = b.length >> 1; chunk >= 1; chunk >>= 1) {
    for (let at = 0; at + chunk <= b.length; at += chunk)
      yield Buffer.concat([b.subarray(0, at), b.subarray(at + chunk)]);
  }
  // then simplify bytes towards zero
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0) {
      const z = Buffer.from(b);
      z[i] = 0;
      yield z;
    }
  }
}

export function* shrinkText(t: string): Iterable<string> {
  const ls = t.split('\n');
  if (ls.length > 1)
    for (let i = 0; i < ls.length; i++) yield [...ls.slice(0, i), ...ls.slice(i + 1)].join('\n');
  for (let chunk = t.length >> 1; chunk >= 1; chunk >>= 1) {
    for (let at = 0; at + chunk <= t.length; at += chunk) yield t.slice(0, at) + t.slice(at + chunk);
  }
}

const showBytes = (b: unknown): string =>
  Buffer.isBuffer(b) ? `hex ${b.toString('hex')}` : JSON.stringify(b);

/** The kind of a failure, compared while shrinking so the minimal input fails the same way. */
function kindOf(e: unknown): string {
  if (e instanceof FuzzViolation) return `violation:${e.message.replace(/\d+/g, '#').slice(0, 40)}`;
  if (e instanceof Error) return `${e.name}:${(e as NodeJS.ErrnoException).code ?? ''}`;
  return typeof e;
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const frame = e.stack?.split('\n').find((l) => l.includes(' at ')) ?? '';
  return `${e.name}: ${e.message}${frame ? ` (${frame.trim()})` : ''}`;
}

/**
 * The vm watchdog is the only way to stop a synchronous parser stuck in a loop without
 * leaving the thread: a script run with `timeout` is interrupted by V8 (TerminateExecution)
 * and fails with ERR_SCRIPT_EXECUTION_TIMEOUT. Cases run in batches under one watchdog (it
 * costs a thread hand-off per run); a batch that times out names the case in progress.
 */
const BATCH = 32;
const runner = new vm.Script('globalThis.__wirescopeFuzzBatch()');

interface Outcome {
  /** Index of the failing case in the batch, with its error; undefined if all passed. */
  failed?: { index: number; error: unknown };
}

function runBatch<I>(inputs: readonly I[], check: (i: I) => void, timeoutMs: number): Outcome {
  let current = 0;
  const g = globalThis as { __wirescopeFuzzBatch?: () => void };
  g.__wirescopeFuzzBatch = () => {
    for (current = 0; current < inputs.length; current++) check(inputs[current] as I);
  };
  try {
    runner.runInThisContext({ timeout: timeoutMs });
    return {};
  } catch (error) {
    return { failed: { index: current, error } };
  } finally {
    g.__wirescopeFuzzBatch = undefined;
  }
}

const isTimeout = (e: unknown): boolean =>
  (e as NodeJS.ErrnoException)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';

/** One input alone under the per-case budget: the error it fails with, or undefined. */
function runOne<I>(input: I, check: (i: I) => void, budgetMs: number): unknown {
  const o = runBatch([input], check, budgetMs);
  if (!o.failed) return undefined;
  return isTimeout(o.failed.error)
    ? new FuzzViolation(`no answer within ${budgetMs} ms (a hang)`)
    : o.failed.error;
}

function shrink<I>(t: FuzzTarget<I>, input: I, error: unknown, budgetMs: number, deadline: number): I {
  if (!t.shrink) return input;
  const kind = kindOf(error);
  let best = input;
  let progress = true;
  while (progress && Date.now() < deadline) {
    progress = false;
    for (const c of t.shrink(best)) {
      if (Date.now() >= deadline) break;
      const e = runOne(c, t.check, budgetMs);
      if (e !== undefined && kindOf(e) === kind) {
        best = c;
        progress = true;
        break;
      }
    }
  }
  return best;
}

/**
 * Runs a target's cases; throws an AssertionError naming the target, the seed (to reproduce:
 * WIRESCOPE_FUZZ_SEED=<base seed>), the case, the error and the minimal input.
 */
export function fuzz<I>(t: FuzzTarget<I>): FuzzReport {
  const base = fuzzSeed();
  const seed = hash32(t.name, base);
  const rng = new Rng(seed);
  const cases = fuzzCases(t.cases ?? 2000);
  const budget = t.caseBudgetMs ?? 1000;
  const show = t.show ?? showBytes;
  const started = Date.now();
  const fail = (n: number, input: I, error: unknown): never => {
    const min = shrink(t, input, error, budget, Date.now() + 5_000);
    const minError = runOne(min, t.check, budget) ?? error;
    throw new AssertionError({
      message:
        `fuzz ${t.name}: case ${n} of seed ${base} (WIRESCOPE_FUZZ_SEED=${base}) failed: ${describeError(minError)}\n` +
        `  minimal input: ${show(min)}\n  original input: ${show(input)}`,
    });
  };
  for (let done = 0; done < cases; ) {
    const batch: I[] = [];
    for (let i = 0; i < BATCH && done + i < cases; i++) batch.push(t.generate(rng));
    for (let from = 0; from < batch.length; ) {
      const o = runBatch(batch.slice(from), t.check, budget * 4);
      if (!o.failed) break;
      const at = from + o.failed.index;
      const input = batch[at] as I;
      // A batch past its watchdog names the case in progress; alone, under the per-case
      // budget, it tells a hang from a batch of merely slow cases.
      const error = isTimeout(o.failed.error) ? runOne(input, t.check, budget) : o.failed.error;
      if (error !== undefined) fail(done + at, input, error);
      from = at + 1;
    }
    done += batch.length;
  }
  return { name: t.name, seed, cases, ms: Date.now() - started };
}

/** Runs the check on each kept regression input (minimal inputs of past findings). */
export function replay<I>(
  t: Pick<FuzzTarget<I>, 'name' | 'check' | 'show' | 'caseBudgetMs'>,
  inputs: readonly I[],
): void {
  for (const input of inputs) {
    const e = runOne(input, t.check, t.caseBudgetMs ?? 1000);
    if (e !== undefined)
      throw new AssertionError({
        message: `fuzz ${t.name}: regression input fails again: ${describeError(e)}\n  input: ${(t.show ?? showBytes)(input)}`,
      });
  }
}
