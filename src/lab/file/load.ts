/**
 * Reading a lab file: YAML syntax, then the schema, then the topology checks;
 * every error with the line and column of the YAML node it concerns, before
 * anything on the host is touched.
 */
import { readFileSync } from 'node:fs';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { printable, shown } from './names.js';
import { type LabDecl, LabDeclSchema } from './schema.js';
import type { Path, Topology } from './topology.js';
import { buildTopology } from './topology-build.js';

export interface LabError {
  line: number;
  col: number;
  message: string;
}

/** file:line:col, or just the file for errors about the whole file (line 0). */
const where = (file: string, e: LabError): string => (e.line > 0 ? `${file}:${e.line}:${e.col}` : file);

export class LabFileError extends Error {
  readonly errors: LabError[];
  constructor(
    readonly file: string,
    errors: LabError[],
  ) {
    // Messages quote names from the file: a newline or an escape sequence in one must not
    // split the error or reach the terminal as is.
    errors = errors.map((e) => ({ ...e, message: printable(e.message) }));
    const first = errors[0];
    super(
      first
        ? `${printable(where(file, first))}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`
        : `${file}: invalid`,
    );
    this.name = 'LabFileError';
    this.errors = errors;
  }
  /** Every error, one per line, as file:line:col: message. */
  details(): string {
    return this.errors.map((e) => `${printable(where(this.file, e))}: ${e.message}`).join('\n');
  }
}

export interface LoadedLab {
  file: string;
  decl: LabDecl;
  topology: Topology;
}

/** Deepest, most specific error of a failed union (TypeBox reports "Expected union value" only). */
function refine(e: ValueError): ValueError {
  if (e.type !== ValueErrorType.Union || e.errors.length === 0) return e;
  let best: ValueError | undefined;
  for (const it of e.errors) {
    const first = it.First();
    if (!first) continue;
    const r = refine(first);
    // Prefer the variant that got furthest into the value (matched its shape best).
    if (!best || r.path.length > best.path.length) best = r;
  }
  if (best && best.path.length > e.path.length) return best;
  return e;
}

/** Options schema.ts puts on a schema: what a name is, and what its pattern allows in words. */
interface Described {
  what?: string;
  rule?: string;
}

function describe(e: ValueError): string {
  const key = (e.path.split('/').pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
  const d = e.schema as Described;
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      if (d.what && d.rule) return `${d.what} ${shown(key)} is not valid (${d.rule})`;
      return `unknown field "${key}"`;
    case ValueErrorType.StringPattern:
      if (d.rule) return `${key}: ${shown(String(e.value))} is not ${d.rule}`;
      return `${key}: ${e.message}`;
    case ValueErrorType.ObjectRequiredProperty:
      return `missing required field "${key}"`;
    case ValueErrorType.Union: {
      const anyOf = (e.schema as { anyOf?: { const?: unknown }[] }).anyOf ?? [];
      if (anyOf.length > 0 && anyOf.every((v) => v.const !== undefined))
        return `${key}: expected one of ${anyOf.map((v) => String(v.const)).join(', ')}`;
      return `${key}: unexpected value`;
    }
    default:
      return key ? `${key}: ${e.message}` : e.message;
  }
}

/** Parses and checks a lab file's text; throws LabFileError with line/column. */
export function parseLab(text: string, file = '<lab>'): LoadedLab {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): { line: number; col: number } => lc.linePos(offset);
  if (doc.errors.length > 0) {
    throw new LabFileError(
      file,
      doc.errors.map((e) => ({ ...pos(e.pos[0]), message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  /** A map key's own position (errors about a field point at its name, not its value). */
  const keyPos = (path: Path): { line: number; col: number } | undefined => {
    const last = path[path.length - 1];
    if (typeof last !== 'string') return undefined;
    const parent = doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return undefined;
    for (const item of parent.items) {
      const k = item.key;
      if (isScalar(k) && String(k.value) === last && k.range) return pos(k.range[0]);
    }
    return undefined;
  };
  const locate = (path: Path): { line: number; col: number } => {
    const k = keyPos(path);
    if (k) return k;
    // Walk up as far as the path exists; a missing field points at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return pos(node.range[0]);
    }
    return { line: 1, col: 1 };
  };
  const value: unknown = doc.toJS();
  if (!Value.Check(LabDeclSchema, value)) {
    const errs: LabError[] = [];
    const seen = new Set<string>();
    const all = [...Value.Errors(LabDeclSchema, value)].map(refine);
    // A missing field also fails its type check: say only that it is missing.
    const required = new Set(
      all.filter((e) => e.type === ValueErrorType.ObjectRequiredProperty).map((e) => e.path),
    );
    for (const e of all) {
      if (required.has(e.path) && e.type !== ValueErrorType.ObjectRequiredProperty) continue;
      const segs = e.path
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      const path: Path = segs.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const where = locate(path);
      const msg = describe(e);
      const k = `${where.line}:${where.col}:${msg}`;
      if (seen.has(k)) continue;
      seen.add(k);
      errs.push({ ...where, message: msg });
      if (errs.length >= 20) break;
    }
    throw new LabFileError(file, errs);
  }
  const decl = value as LabDecl;
  const { topology, errors } = buildTopology(decl);
  if (errors.length > 0) {
    throw new LabFileError(
      file,
      errors.map((e) => ({ ...locate(e.path), message: e.message })),
    );
  }
  return { file, decl, topology };
}

export function loadLab(file: string): LoadedLab {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabFileError(file, [
      {
        line: 0,
        col: 0,
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
  return parseLab(text, file);
}
