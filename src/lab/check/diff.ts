/**
 * The one comparison behind every check of `verifyLab`: declared items
 * against found ones, each kind described by a `DiffSpec` (how an item is
 * keyed, which fields must agree) and a `Present` (how its differences read).
 * Pure.
 *
 * Items with the same key are candidates for one object: a declared route
 * and a found route to the same destination in the same table, a declared
 * rule and a found rule with the same selector, a declared address and a
 * found one of the same family. Within a key, pairs whose fields all agree
 * are taken first; what is left pairs up in order as "changed" (one `~` with
 * the fields that differ, not a `-` and a `+`); the rest is "missing" (`-`)
 * or "unexpected" (`+`). Every message is derived from the operation and the
 * item's label (src/views/labels.ts words), so the three forms read the same
 * for every kind of object.
 */
import type { ChangeOp, Drift } from '../../model/changes.js';

/** One field two items must agree on. */
export interface Field<D, F> {
  /** Its name in a drift's path, e.g. "mtu", "vxlan.vni", "ipv4". */
  name: string;
  /** The declared value as text; undefined: not declared, any found value will do. */
  declared(d: D): string | undefined;
  found(f: F): string;
  /** Whether they agree, when equal texts are not the test (a reference to a device, say). */
  same?(d: D, f: F): boolean;
  /**
   * A field that decides the rest: when it differs, only it is reported (an
   * interface of another kind has no MTU worth comparing).
   */
  decisive?: boolean;
}

export interface DiffSpec<D, F> {
  key(d: D): string;
  foundKey(f: F): string;
  fields: readonly Field<D, F>[];
  /**
   * Found items that may satisfy a declared one but are never reported:
   * kernel-made state (connected routes, the kernel's own rules).
   */
  quiet?(f: F): boolean;
}

export interface FieldDiff {
  name: string;
  declared: string;
  found: string;
}

export interface Changed<D, F> {
  declared: D;
  found: F;
  fields: FieldDiff[];
}

export interface DiffResult<D, F> {
  /** Pairs that agree on every field (their parts may still be compared, an interface's addresses). */
  matched: [D, F][];
  missing: D[];
  unexpected: F[];
  changed: Changed<D, F>[];
}

/** The fields of a pair that differ ([] when they agree); a decisive difference stops the comparison. */
export function fieldDiffs<D, F>(fields: readonly Field<D, F>[], d: D, f: F): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const field of fields) {
    const want = field.declared(d);
    if (want === undefined) continue;
    const got = field.found(f);
    if (field.same ? field.same(d, f) : want === got) continue;
    if (field.decisive) return [{ name: field.name, declared: want, found: got }];
    out.push({ name: field.name, declared: want, found: got });
  }
  return out;
}

/** Declared against found, as described above. Missing and changed come in declared order. */
export function diff<D, F>(
  declared: readonly D[],
  found: readonly F[],
  spec: DiffSpec<D, F>,
): DiffResult<D, F> {
  const byKey = new Map<string, F[]>();
  for (const f of found) {
    const k = spec.foundKey(f);
    const list = byKey.get(k) ?? [];
    list.push(f);
    byKey.set(k, list);
  }
  const taken = new Set<F>();
  const open: D[] = [];
  const matched: [D, F][] = [];
  // Exact pairs first, so an item that is there is never taken as another's changed version.
  for (const d of declared) {
    const same = byKey
      .get(spec.key(d))
      ?.find((f) => !taken.has(f) && fieldDiffs(spec.fields, d, f).length === 0);
    if (same === undefined) open.push(d);
    else {
      taken.add(same);
      matched.push([d, same]);
    }
  }
  const result: DiffResult<D, F> = { matched, missing: [], unexpected: [], changed: [] };
  for (const d of open) {
    const other = byKey.get(spec.key(d))?.find((f) => !taken.has(f) && !spec.quiet?.(f));
    if (other === undefined) {
      result.missing.push(d);
      continue;
    }
    taken.add(other);
    result.changed.push({ declared: d, found: other, fields: fieldDiffs(spec.fields, d, other) });
  }
  result.unexpected = found.filter((f) => !taken.has(f) && !spec.quiet?.(f));
  return result;
}

/** Where a drift points: the node, and the kernel object when there is one. */
export type DriftAt = Pick<Drift, 'node' | 'netns' | 'index'>;

/** How one kind of object's differences read. */
export interface Present<D, F> {
  /** The drift's object (its group in `formatDrift`), for a declared and a found item. */
  object(d: D): string;
  foundObject(f: F): string;
  /** The subject of a "-" or "+" line, e.g. "route default via 10.0.0.1 in guest1". */
  label(d: D): string;
  foundLabel(f: F): string;
  at(d: D, f?: F): DriftAt;
  foundAt(f: F): DriftAt;
  /**
   * How a changed pair reads: one line per field (`<subject>.<field>`, the
   * attributes of an interface), or, with `whole`, one line for the item
   * with both texts (a route, a rule: their fields make sense together).
   */
  changed:
    | { subject(d: D): string }
    | { whole: { subject(d: D): string; declared(d: D): string; found(f: F): string } };
  /** Values never shown (an nft rule's hash): a change then reads "declared one <noun>, found another". */
  opaque?: string;
  /** What a "-" or "+" of a part carries besides its line (an address: the interface's path and the value). */
  missingDetail?(d: D): Pick<Drift, 'path' | 'declared'>;
  unexpectedDetail?(f: F): Pick<Drift, 'path' | 'found'>;
}

/** The one line of a difference: every drift message is made here from its operation and subject. */
export const driftLine = (op: ChangeOp, subject: string, declared?: string, found?: string): string =>
  op === '-'
    ? `${subject}: declared, missing`
    : op === '+'
      ? `${subject}: present, undeclared`
      : `${subject}: declared ${declared}, found ${found}`;

/** A missing item's drift. */
export function missingDrift<D, F>(p: Present<D, F>, d: D): Drift {
  return {
    object: p.object(d),
    op: '-',
    ...p.missingDetail?.(d),
    message: driftLine('-', p.label(d)),
    ...p.at(d),
  };
}

/** An unexpected item's drift. */
export function unexpectedDrift<D, F>(p: Present<D, F>, f: F): Drift {
  return {
    object: p.foundObject(f),
    op: '+',
    ...p.unexpectedDetail?.(f),
    message: driftLine('+', p.foundLabel(f)),
    ...p.foundAt(f),
  };
}

/** A changed pair's drifts: one per differing field, or one for the whole item. */
export function changedDrifts<D, F>(p: Present<D, F>, c: Changed<D, F>): Drift[] {
  const at = p.at(c.declared, c.found);
  const object = p.object(c.declared);
  if (p.opaque !== undefined) {
    const path = 'whole' in p.changed ? p.changed.whole.subject(c.declared) : p.changed.subject(c.declared);
    return [{ object, op: '~', path, message: `${path}: declared one ${p.opaque}, found another`, ...at }];
  }
  if ('whole' in p.changed) {
    const { subject, declared, found } = p.changed.whole;
    const path = subject(c.declared);
    const [want, got] = [declared(c.declared), found(c.found)];
    return [
      { object, op: '~', path, declared: want, found: got, message: driftLine('~', path, want, got), ...at },
    ];
  }
  const base = p.changed.subject(c.declared);
  return c.fields.map((x) => {
    const path = `${base}.${x.name}`;
    return {
      object,
      op: '~',
      path,
      declared: x.declared,
      found: x.found,
      message: driftLine('~', path, x.declared, x.found),
      ...at,
    };
  });
}

/**
 * Every drift of a diff: missing and changed in declared order, then
 * unexpected. `excused` declared items are consequences reported elsewhere
 * (a route through a missing device): neither they nor their changed
 * partner are reported again.
 */
export function diffDrifts<D, F>(
  r: DiffResult<D, F>,
  p: Present<D, F>,
  opts: { declared: readonly D[]; excused?: (d: D) => boolean; unexpected?: boolean },
): Drift[] {
  const order = new Map(opts.declared.map((d, i) => [d, i]));
  const ranked: [number, Drift[]][] = [];
  for (const d of r.missing) if (!opts.excused?.(d)) ranked.push([order.get(d) ?? 0, [missingDrift(p, d)]]);
  for (const c of r.changed)
    if (!opts.excused?.(c.declared)) ranked.push([order.get(c.declared) ?? 0, changedDrifts(p, c)]);
  ranked.sort((a, b) => a[0] - b[0]);
  const out = ranked.flatMap(([, xs]) => xs);
  if (opts.unexpected !== false) for (const f of r.unexpected) out.push(unexpectedDrift(p, f));
  return out;
}
