/**
 * Routing tables and policy routing rules of a lab (pure): table references,
 * firewall marks, and when a kernel rule (as the discovery model and the
 * builder's dump both decode it, src/kernel/rtnetlink/rule.ts) is a declared
 * one. A rule is identified by its family, priority and selector (from, to,
 * iif, oif, fwmark/mask); its table is what it does. fib_rules.c keeps both
 * rules when two share priority and selector (the first added wins), so a lab
 * may not declare such a pair.
 */
import type { Rule } from '../../model/types.js';
import { fwmarkLabel, tableName } from '../../views/labels.js';
import { type Cidr, type Family, routeDst } from './ip.js';

/** Table ids with names (include/uapi/linux/rtnetlink.h enum rt_class_t). */
export const TABLE_NAMES: Record<string, number> = { default: 253, main: 254, local: 255 };
export const RT_TABLE_MAIN = 254;
/** RT_TABLE_UNSPEC (0) means "no table" and 0xffffffff is RT_TABLE_MAX, never a table of its own. */
export const TABLE_MAX = 0xfffffffe;

/** A table reference of the file (id or name); undefined when invalid. */
export function parseTable(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= TABLE_MAX ? v : undefined;
  const named = TABLE_NAMES[v];
  if (named !== undefined) return named;
  // "100" written as a string is still a table id.
  return /^\d+$/.test(v) ? parseTable(Number(v)) : undefined;
}

/** A table's name as the views print it (views/labels.ts). */
export const tableText = tableName;

/**
 * "0x10", "16", "0x10/0xff" or a number → mark and mask as fib_rules.c stores
 * them: a mark without a mask matches all 32 bits (mark_mask 0xffffffff).
 */
export function parseFwmark(v: number | string): { mark: number; mask: number } | undefined {
  const num = (s: string): number | undefined => {
    const n = /^0x[0-9a-f]+$/i.test(s) ? Number.parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : Number.NaN;
    return Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
  };
  if (typeof v === 'number') return num(String(v)) === undefined ? undefined : { mark: v, mask: 0xffffffff };
  const [m = '', k, extra] = v.trim().split('/');
  if (extra !== undefined) return undefined;
  const mark = num(m);
  const mask = k === undefined ? 0xffffffff : num(k);
  if (mark === undefined || mask === undefined) return undefined;
  return { mark, mask };
}

export interface DesiredRule {
  /** Namespace-holding node (or HOST). */
  ns: string;
  node: string;
  family: Family;
  priority: number;
  /** Source and destination networks (host bits cleared). */
  src?: Cidr;
  dst?: Cidr;
  iif?: string;
  oif?: string;
  fwmark?: { mark: number; mask: number };
  table: number;
}

/** A kernel rule in the shape both the model and the builder's dump decode it to. */
export type FoundRule = Pick<
  Rule,
  'family' | 'priority' | 'action' | 'table' | 'src' | 'dst' | 'iif' | 'oif' | 'fwmark' | 'fwmask' | 'invert'
> & { protocol?: string | undefined };

/** fib_nl_fill_rule sends FRA_FWMARK only when non-zero and FRA_FWMASK when mark or mask is. */
function markOf(r: { fwmark?: number | undefined; fwmask?: number | undefined }): string {
  const mark = r.fwmark ?? 0;
  const mask = r.fwmask ?? (mark ? 0xffffffff : 0);
  return mask === 0 && mark === 0 ? '' : `${mark >>> 0}/${mask >>> 0}`;
}

const cidr = (c: Cidr | undefined): string => (c ? `${c.address}/${c.prefixlen}` : '');

/** A kernel rule's "addr/len" with host bits cleared (fib_rules keeps what it was given). */
function norm(s: string): string {
  const c = routeDst(s);
  return c ? cidr(c) : s;
}

/** The selector key of a declared rule: family, priority, from, to, iif, oif, mark. */
export function ruleKey(r: DesiredRule): string {
  return [
    r.family,
    r.priority,
    cidr(r.src),
    cidr(r.dst),
    r.iif ?? '',
    r.oif ?? '',
    r.fwmark ? markOf({ fwmark: r.fwmark.mark, fwmask: r.fwmark.mask }) : '',
  ].join('|');
}

/** The selector key of a kernel rule ("" for rules that are not plain table lookups we could declare). */
export function foundKey(a: FoundRule): string {
  return [
    a.family,
    a.priority,
    a.src ? norm(a.src) : '',
    a.dst ? norm(a.dst) : '',
    a.iif ?? '',
    a.oif ?? '',
    markOf(a),
  ].join('|');
}

/** Whether a kernel rule is the declared one: same selector, a plain lookup in the same table. */
export function ruleMatches(r: DesiredRule, a: FoundRule): boolean {
  return foundKey(a) === ruleKey(r) && a.action === 'to_tbl' && !a.invert && a.table === r.table;
}

/**
 * Rules the kernel makes itself (priority 0 lookup local, 32766 main, 32767
 * default) carry protocol "kernel" (FRA_PROTOCOL, Linux 4.17+); without the
 * attribute they are recognised by their well-known priority and table.
 */
export function kernelRule(a: FoundRule): boolean {
  if (a.protocol !== undefined) return a.protocol === 'kernel';
  return (
    !a.src &&
    !a.dst &&
    !a.iif &&
    !a.oif &&
    ((a.priority === 0 && a.table === 255) ||
      (a.priority === 32766 && a.table === 254) ||
      (a.priority === 32767 && a.table === 253))
  );
}

/** A declared rule as the kernel would hold it: a plain lookup in its table. */
export function asFoundRule(r: DesiredRule): FoundRule {
  return {
    family: r.family,
    priority: r.priority,
    action: 'to_tbl',
    table: r.table,
    invert: false,
    ...(r.src ? { src: cidr(r.src) } : {}),
    ...(r.dst ? { dst: cidr(r.dst) } : {}),
    ...(r.iif ? { iif: r.iif } : {}),
    ...(r.oif ? { oif: r.oif } : {}),
    ...(r.fwmark ? { fwmark: r.fwmark.mark, fwmask: r.fwmark.mask } : {}),
  };
}

/** `ip rule` style: "1000: from 10.1.0.0/24 iif eth0 fwmark 0x10/0xff lookup 100" (one text, declared or found). */
export const ruleText = (r: DesiredRule): string => foundRuleText(asFoundRule(r));

/** A kernel rule's text. */
export function foundRuleText(a: FoundRule): string {
  const parts = [`${a.priority}:`];
  parts.push(a.src ? `from ${a.src}` : 'from all');
  if (a.dst) parts.push(`to ${a.dst}`);
  if (a.iif) parts.push(`iif ${a.iif}`);
  if (a.oif) parts.push(`oif ${a.oif}`);
  const m = markOf(a);
  if (m) {
    const [mark = 0, mask = 0] = m.split('/').map(Number);
    parts.push(fwmarkLabel(mark, mask));
  }
  parts.push(a.action === 'to_tbl' ? `lookup ${tableText(a.table)}` : a.action);
  if (a.family === 'inet6' && !a.src && !a.dst) parts.push('(ipv6)');
  return parts.join(' ');
}
