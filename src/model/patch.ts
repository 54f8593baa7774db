/**
 * JSON Patch (RFC 6902) between two versions of a JSON document — the
 * increments of `/api/events` that bring a client's copy of the discovery
 * from one generation to the next (ARCHITECTURE.md "Live updates"). Pure, no
 * node types: the web UI bundles it to apply what the service diffs.
 *
 * Only `add`, `remove` and `replace` are produced and applied: a diff of two
 * documents never needs `move`, `copy` or `test`, and an applier that knows
 * fewer operations is less to get wrong. Values are JSON values: a property
 * whose value is `undefined` is absent, as JSON.stringify leaves it out, so a
 * patch computed on two models brings their serialisations together.
 */

export type PatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** A patch that does not apply (a client whose copy is not the patch's base): refetch the document. */
export class PatchError extends Error {}

/**
 * Below this many bytes of operations for one object or array, they are kept
 * without asking whether replacing the whole value would be shorter: the
 * saving could only be small, and measuring it means serialising the value.
 */
const SMALL_OPS_BYTES = 256;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** An own member only: a container's label may be called "constructor" or "__proto__". */
const get = (o: Obj, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);
const put = (o: Obj, key: string, value: unknown): void => {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
};

/** RFC 6901 reference token. */
const toToken = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
const fromToken = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');

/** Deep equality of JSON values (undefined properties count as absent). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (!isObj(a) || !isObj(b)) return false;
  let n = 0;
  for (const k of Object.keys(a)) {
    const v = a[k];
    if (v === undefined) continue;
    n++;
    if (!sameJson(v, get(b, k))) return false;
  }
  for (const k of Object.keys(b)) if (b[k] !== undefined) n--;
  return n === 0;
}

const opBytes = (op: PatchOp): number => JSON.stringify(op).length + 1;

/**
 * Whether JSON.stringify(v) is at least `limit` characters long; walks only
 * until it knows. Counts a lower bound (a string without its escapes), so a
 * "yes" is always right; a "no" near the limit only costs the caller the
 * exact measure.
 */
export function jsonLengthReaches(v: unknown, limit: number): boolean {
  let n = 0;
  const visit = (x: unknown): boolean => {
    if (typeof x === 'string') n += x.length + 2;
    else if (typeof x === 'number') n += Number.isFinite(x) ? String(x).length : 4;
    else if (typeof x === 'boolean') n += x ? 4 : 5;
    else if (x === null) n += 4;
    else if (Array.isArray(x)) {
      n += 1 + x.length;
      for (const e of x) {
        if (e === undefined) n += 4;
        else if (visit(e)) return true;
      }
    } else if (typeof x === 'object' && !('toJSON' in x)) {
      n += 1;
      for (const [k, e] of Object.entries(x)) {
        if (e === undefined) continue;
        n += k.length + 4;
        if (visit(e)) return true;
      }
    }
    // Anything else (undefined, functions, toJSON): counted as nothing, a lower bound still.
    return n >= limit;
  };
  return visit(v);
}

/**
 * The operations that turn `prev` into `next`. Objects are diffed key by key;
 * arrays (sorted lists in the model: PIDs, interfaces by index, routes) lose
 * their common head and tail, the rest is paired by position, and what is
 * left over is removed or added. Wherever the operations for one object or
 * array come out longer than the new value itself, that value replaces the
 * old one instead, so a patch is never much longer than what changed.
 */
export function diffJson(prev: unknown, next: unknown): PatchOp[] {
  const out: PatchOp[] = [];
  diffInto(prev, next, '', out);
  return out;
}

/** Appends the ops for one location to `out`; returns their size in bytes (JSON). */
function diffInto(a: unknown, b: unknown, path: string, out: PatchOp[]): number {
  if (a === b) return 0;
  const bothObj = isObj(a) && isObj(b);
  const bothArr = Array.isArray(a) && Array.isArray(b);
  if (!bothObj && !bothArr) {
    if (sameJson(a, b)) return 0;
    const op: PatchOp = { op: 'replace', path, value: b };
    out.push(op);
    return opBytes(op);
  }
  const start = out.length;
  const bytes = bothObj
    ? diffObjects(a, b, path, out)
    : diffArrays(a as unknown[], b as unknown[], path, out);
  if (path === '' || bytes <= SMALL_OPS_BYTES) return bytes;
  // A value whose JSON alone is as long as the operations cannot replace them shorter; measured
  // only that far (a host's `/networks` is megabytes, its operations kilobytes).
  if (jsonLengthReaches(b, bytes)) return bytes;
  const whole: PatchOp = { op: 'replace', path, value: b };
  const wholeBytes = opBytes(whole);
  if (wholeBytes >= bytes) return bytes;
  out.length = start;
  out.push(whole);
  return wholeBytes;
}

function diffObjects(a: Obj, b: Obj, path: string, out: PatchOp[]): number {
  let bytes = 0;
  for (const k of Object.keys(a)) {
    if (a[k] === undefined || get(b, k) !== undefined) continue;
    const op: PatchOp = { op: 'remove', path: `${path}/${toToken(k)}` };
    out.push(op);
    bytes += opBytes(op);
  }
  for (const k of Object.keys(b)) {
    const v = b[k];
    if (v === undefined) continue;
    const at = `${path}/${toToken(k)}`;
    const was = get(a, k);
    if (was === undefined) {
      const op: PatchOp = { op: 'add', path: at, value: v };
      out.push(op);
      bytes += opBytes(op);
    } else bytes += diffInto(was, v, at, out);
  }
  return bytes;
}

function diffArrays(a: unknown[], b: unknown[], path: string, out: PatchOp[]): number {
  const n = a.length;
  const m = b.length;
  let head = 0;
  while (head < n && head < m && sameJson(a[head], b[head])) head++;
  let tail = 0;
  while (tail < n - head && tail < m - head && sameJson(a[n - 1 - tail], b[m - 1 - tail])) tail++;
  const oldMid = n - head - tail;
  const newMid = m - head - tail;
  const paired = Math.min(oldMid, newMid);
  let bytes = 0;
  for (let i = head; i < head + paired; i++) bytes += diffInto(a[i], b[i], `${path}/${i}`, out);
  // Each removal shifts the rest down: the same index, as often as there are elements to go.
  for (let i = paired; i < oldMid; i++) {
    const op: PatchOp = { op: 'remove', path: `${path}/${head + paired}` };
    out.push(op);
    bytes += opBytes(op);
  }
  for (let i = paired; i < newMid; i++) {
    const op: PatchOp = { op: 'add', path: `${path}/${head + i}`, value: b[head + i] };
    out.push(op);
    bytes += opBytes(op);
  }
  return bytes;
}

/** Parses an RFC 6901 pointer into reference tokens ("" is the whole document). */
function tokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`"${path}" is not a JSON pointer`);
  return path.slice(1).split('/').map(fromToken);
}

/** An array index of RFC 6901 (no sign, no leading zero), within `max`. */
function arrayIndex(token: string, max: number, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`"${path}": "${token}" is not an array index`);
  const i = Number(token);
  if (i > max) throw new PatchError(`"${path}": index ${i} is out of range`);
  return i;
}

/**
 * Applies a patch to a document and returns the new document; the input is
 * left untouched (what it shares with the result is what the patch did not
 * touch: each changed object or array is copied once, along its path).
 * Throws PatchError when an operation does not fit the document.
 */
export function applyPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  let root: unknown = doc;
  // Containers copied for this patch: changed in place from then on, not copied again.
  const mine = new WeakSet<object>();
  const own = <C extends object>(c: C): C => {
    if (mine.has(c)) return c;
    const copy = (Array.isArray(c) ? [...c] : { ...c }) as C;
    mine.add(copy);
    return copy;
  };
  for (const op of ops) {
    const path = tokens(op.path);
    if (path.length === 0) {
      if (op.op === 'remove') throw new PatchError('the whole document cannot be removed');
      root = op.value;
      continue;
    }
    if (typeof root !== 'object' || root === null) throw new PatchError(`"${op.path}": no such parent`);
    root = own(root);
    let parent = root as Obj | unknown[];
    for (const t of path.slice(0, -1)) {
      const child: unknown = Array.isArray(parent)
        ? parent[arrayIndex(t, parent.length - 1, op.path)]
        : get(parent, t);
      if (typeof child !== 'object' || child === null) throw new PatchError(`"${op.path}": no such parent`);
      const copy = own(child);
      if (Array.isArray(parent)) parent[Number(t)] = copy;
      else put(parent, t, copy);
      parent = copy as Obj | unknown[];
    }
    const last = path[path.length - 1] as string;
    if (Array.isArray(parent)) {
      if (op.op === 'add') {
        const i = last === '-' ? parent.length : arrayIndex(last, parent.length, op.path);
        parent.splice(i, 0, op.value);
      } else {
        const i = arrayIndex(last, parent.length - 1, op.path);
        if (op.op === 'remove') parent.splice(i, 1);
        else parent[i] = op.value;
      }
    } else if (op.op === 'add') put(parent, last, op.value);
    else {
      if (!Object.hasOwn(parent, last)) throw new PatchError(`"${op.path}": no such member`);
      if (op.op === 'remove') delete parent[last];
      else put(parent, last, op.value);
    }
  }
  return root as T;
}

const within = (ancestor: string, path: string): boolean => path.startsWith(`${ancestor}/`);
const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/'));
const lastToken = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/**
 * Whether operation `b`, applied before a later operation at `path`, can
 * change what `path` refers to or whether it exists: it is at the path, above
 * it, inside it, or it inserts or removes an element of an array on the way
 * (shifting the indices after it; a numeric key is taken for an index).
 */
function touches(b: PatchOp, path: string): boolean {
  if (b.path === '' || b.path === path || within(b.path, path) || within(path, b.path)) return true;
  return b.op !== 'replace' && /^(\d+|-)$/.test(lastToken(b.path)) && within(parentOf(b.path), path);
}

/**
 * `first` then `then` as one patch (for a client that skipped the generation
 * in between): the operations in order, with a `replace` folded into an
 * earlier `add` or `replace` of the same path when nothing between them
 * touches that path — so values that change with every discovery (its start
 * time, its duration) are carried once, however many discoveries the patch
 * spans. Returns a new array.
 */
export function concatPatches(first: readonly PatchOp[], then: readonly PatchOp[]): PatchOp[] {
  const out = [...first];
  next: for (const op of then) {
    if (op.op === 'replace') {
      for (let j = out.length - 1; j >= 0; j--) {
        const b = out[j] as PatchOp;
        if (b.path === op.path && b.op !== 'remove') {
          out[j] = { op: b.op, path: b.path, value: op.value };
          continue next;
        }
        if (touches(b, op.path)) break;
      }
    }
    out.push(op);
  }
  return out;
}
