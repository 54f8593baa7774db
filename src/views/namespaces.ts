/**
 * Human output of `wirescope namespaces`: the user and PID namespace trees
 * (what lsns cannot show), then one line per namespace with how it is held
 * (processes, bind mounts, fds) and its leaders. Pure: scan in, text out.
 */
import type { Draft, NamespaceType } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';
import { escapeTerminal, escapeTerminalDeep } from './terminal.js';

type Ns = Draft.Namespace;

const MAX_LEADERS = 3;

function proc(scan: NamespaceScan, pid: number): string {
  const p = scan.processes[pid];
  return p === undefined ? String(pid) : `${pid} ${p.comm}`;
}

/** In a PID namespace, a leader's PID as seen inside it is worth showing ("as 1"). */
function leaders(scan: NamespaceScan, ns: Ns): string {
  if (ns.leaders.length === 0) return '-';
  const shown = ns.leaders.slice(0, MAX_LEADERS).map((pid) => {
    const inner = ns.type === 'pid' ? scan.processes[pid]?.nspid : undefined;
    const own = inner !== undefined && inner.length > 1 ? inner[inner.length - 1] : undefined;
    return own === undefined ? proc(scan, pid) : `${proc(scan, pid)} (as ${own})`;
  });
  const more = ns.leaders.length - shown.length;
  return more > 0 ? `${shown.join(', ')} +${more} more` : shown.join(', ');
}

function heldBy(scan: NamespaceScan, ns: Ns, ownMnt: number | undefined): string {
  const parts: string[] = [];
  if (ns.processes.length > 0)
    parts.push(`${ns.processes.length} process${ns.processes.length === 1 ? '' : 'es'}`);
  for (const b of ns.bindMounts) {
    parts.push(b.mntns === ownMnt ? `bind mount ${b.path}` : `bind mount ${b.path} (in mnt ${b.mntns})`);
  }
  for (const f of ns.fds) parts.push(`fd ${f.fd} of ${proc(scan, f.pid)}`);
  for (const pid of ns.forChildrenOf ?? []) parts.push(`${ns.type}_for_children of ${proc(scan, pid)}`);
  if (parts.length === 0) return ns.processes.length === 0 ? 'kernel only (parent/owner of others)' : '-';
  return parts.join(', ');
}

function label(scan: NamespaceScan, ns: Ns): string {
  const bits = [`${ns.type}:[${ns.ino}]`];
  if (scan.initial[ns.type] === ns.ino) bits.push('initial');
  if (ns.ownerUid !== undefined) bits.push(`uid ${ns.ownerUid}`);
  bits.push(`procs ${ns.processes.length}`);
  if (ns.processes.length === 0) bits.push(`held by ${heldBy(scan, ns, scan.ownMntns)}`);
  if (ns.leaders.length > 0) bits.push(`leaders ${leaders(scan, ns)}`);
  return bits.join('  ');
}

/** A tree over parent links; namespaces whose parent is unknown are roots. */
function tree(scan: NamespaceScan, type: 'user' | 'pid', extra?: (ns: Ns) => string | undefined): string[] {
  const all = Object.values(scan.namespaces).filter((n) => n.type === type);
  const children = new Map<number, Ns[]>();
  const roots: Ns[] = [];
  for (const ns of all) {
    const parent = ns.parent !== undefined ? scan.namespaces[ns.parent] : undefined;
    if (parent === undefined) roots.push(ns);
    else children.set(parent.ino, [...(children.get(parent.ino) ?? []), ns]);
  }
  const out: string[] = [];
  const walk = (ns: Ns, lead: string, branch: string): void => {
    out.push(`${lead}${branch}${label(scan, ns)}`);
    const kids = (children.get(ns.ino) ?? []).sort((a, b) => a.ino - b.ino);
    const cont = branch === '' ? lead : `${lead}${branch === '└─ ' ? '   ' : '│  '}`;
    const info = extra?.(ns);
    if (info !== undefined) out.push(`${cont}${kids.length > 0 ? '│  ' : '   '}${info}`);
    kids.forEach((k, i) => {
      walk(k, cont, i === kids.length - 1 ? '└─ ' : '├─ ');
    });
  };
  for (const r of roots.sort((a, b) => a.ino - b.ino)) walk(r, '', '');
  return out;
}

const TYPE_ORDER: readonly NamespaceType[] = ['user', 'pid', 'net', 'mnt', 'uts', 'ipc', 'cgroup', 'time'];

function owned(scan: NamespaceScan, user: Ns): string | undefined {
  const counts = new Map<NamespaceType, number[]>();
  for (const ns of Object.values(scan.namespaces)) {
    if (ns.owner !== user.ino || ns.type === 'user') continue;
    counts.set(ns.type, [...(counts.get(ns.type) ?? []), ns.ino]);
  }
  if (counts.size === 0) return undefined;
  const parts = TYPE_ORDER.filter((t) => counts.has(t)).map((t) => {
    const inos = counts.get(t) ?? [];
    return inos.length <= 3 ? inos.map((i) => `${t}:[${i}]`).join(' ') : `${inos.length} ${t}`;
  });
  return `owns ${parts.join(', ')}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function renderNamespaces(raw: NamespaceScan): string {
  // For a terminal: process names and bind-mount paths made inert (views/terminal.ts), of the
  // parts the text reads (the scan's fd owners are Maps, and not shown).
  const scan: NamespaceScan = escapeTerminalDeep({
    namespaces: raw.namespaces,
    processes: raw.processes,
    initial: raw.initial,
    warnings: raw.warnings,
    missingPrivileges: raw.missingPrivileges,
    ...(raw.ownMntns !== undefined ? { ownMntns: raw.ownMntns } : {}),
  });
  const lines: string[] = [];
  const types = new Set(Object.values(scan.namespaces).map((n) => n.type));
  if (types.has('user')) {
    lines.push('USER NAMESPACES', ...tree(scan, 'user', (ns) => owned(scan, ns)), '');
  }
  if (types.has('pid')) lines.push('PID NAMESPACES', ...tree(scan, 'pid'), '');
  const rows = Object.values(scan.namespaces).sort(
    (a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || a.ino - b.ino,
  );
  const header = ['TYPE', 'NS', 'PROCS', 'OWNER', 'HELD BY', 'LEADERS'];
  const table = rows.map((ns) => [
    ns.type,
    String(ns.ino) + (scan.initial[ns.type] === ns.ino ? '*' : ''),
    String(ns.processes.length),
    ns.owner === undefined ? '-' : String(ns.owner),
    heldBy(scan, ns, scan.ownMntns),
    leaders(scan, ns),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
  // The last two columns can be long: only the fixed ones are padded.
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => (i < 4 ? pad(c, widths[i] ?? 0) : i === 4 ? pad(c, Math.min(widths[i] ?? 0, 40)) : c))
      .join('  ')
      .trimEnd();
  lines.push('NAMESPACES (* = initial)', fmt(header), ...table.map(fmt));
  // What lsns cannot show at all, gathered so it is not lost in a long table.
  const orphans = rows.filter((ns) => ns.processes.length === 0);
  if (orphans.length > 0) {
    lines.push('', 'HELD WITHOUT A PROCESS');
    for (const ns of orphans) lines.push(`${ns.type}:[${ns.ino}]  ${heldBy(scan, ns, scan.ownMntns)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line for stderr about missing capabilities, or undefined. */
export function privilegeLine(scan: {
  readonly missingPrivileges: readonly { readonly capability: string; readonly effect: string }[];
}): string | undefined {
  if (scan.missingPrivileges.length === 0) return undefined;
  return escapeTerminal(
    `missing ${scan.missingPrivileges.map((m) => `${m.capability} (${m.effect})`).join('; ')}`,
  );
}

/** One line for stderr summing up the warnings, or undefined. */
export function warningLine(warnings: readonly Draft.Warning[]): string | undefined {
  if (warnings.length === 0) return undefined;
  if (warnings.length === 1) return `warning: ${escapeTerminal(warnings[0]?.message ?? '')}`;
  const byCode = new Map<string, number>();
  for (const w of warnings) byCode.set(w.code, (byCode.get(w.code) ?? 0) + 1);
  const parts = [...byCode].map(([code, n]) => `${n} ${escapeTerminal(code)}`);
  return `${warnings.length} warnings (${parts.join(', ')}); --json lists them`;
}
