/** Equality over the model's plain data, for the stages and views that compare discoveries. */

/**
 * Deep equality of JSON-like model data (objects, arrays, primitives; no
 * cycles, no classes) as their JSON texts would compare, optionally ignoring
 * some keys of the outermost object.
 * A walk over two models answers "unchanged?" without building a string per
 * object, which is what comparing JSON texts costs.
 */
export function sameData(a: unknown, b: unknown, ignore?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // As JSON sees it: a key whose value is undefined is no key.
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) {
    if (!ignore?.has(k) && !sameData(x[k], y[k])) return false;
  }
  for (const k in y) {
    if (!(k in x) && y[k] !== undefined && !ignore?.has(k)) return false;
  }
  return true;
}
