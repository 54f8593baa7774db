/**
 * Pure parsers for the per-process procfs files the scan reads. Each takes the
 * file's text and returns only the fields the model needs.
 */
import type { NamespaceType } from '../model/types.js';

export interface StatFields {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  starttime: number;
}

/**
 * /proc/PID/stat (proc(5)). comm (field 2) is in parentheses and may itself
 * contain spaces and ')', so the fields after it are located from the *last*
 * ')'. starttime is field 22: clock ticks after boot.
 */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number.parseInt(text.slice(0, open), 10);
  const comm = text.slice(open + 1, close);
  // Fields from 3 (state) on, separated by single spaces; walk to the ones
  // needed instead of splitting all ~50 (this runs once per process).
  let at = close + 2;
  const state = text.charAt(at);
  let field = 3;
  let ppid = Number.NaN;
  let starttime = Number.NaN;
  while (field < 22) {
    const sp = text.indexOf(' ', at);
    if (sp < 0) break;
    at = sp + 1;
    field++;
    if (field === 4) ppid = Number.parseInt(text.slice(at, text.indexOf(' ', at)), 10);
  }
  if (field === 22) {
    const end = text.indexOf(' ', at);
    starttime = Number(text.slice(at, end < 0 ? undefined : end));
  }
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(starttime)) return undefined;
  return { pid, comm, state, ppid, starttime };
}

export interface StatusFields {
  uid: number;
  capBnd: string;
  capEff: string;
  nspid: number[];
  threads: number;
}

/** Value of the "Key:\t..." line of a status file, without the key; undefined if absent. */
function statusField(text: string, key: string): string | undefined {
  const at = text.startsWith(`${key}:`) ? 0 : text.indexOf(`\n${key}:`);
  if (at < 0) return undefined;
  const start = at === 0 ? key.length + 1 : at + key.length + 2;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? undefined : end).trim();
}

/**
 * /proc/PID/status: real UID, CapBnd/CapEff (hex, kept as 0x-prefixed
 * strings), NSpid, Threads. Looks up the few keys instead of splitting all
 * ~55 lines (this runs once per process).
 */
export function parseStatus(text: string): StatusFields {
  const uid = decimal(statusField(text, 'Uid')?.split(/\s/)[0]);
  const capBnd = statusField(text, 'CapBnd');
  const capEff = statusField(text, 'CapEff');
  const nspid = statusField(text, 'NSpid');
  const threads = decimal(statusField(text, 'Threads'));
  const pids = nspid === undefined || nspid === '' ? [] : nspid.split(/\s+/).map(decimal);
  // A field that is not what the kernel writes reads as unknown (uid -1, no NSpid, one
  // thread), never as NaN: a value read from garbage would be invented.
  return {
    uid: uid ?? -1,
    capBnd: capBnd === undefined ? '' : `0x${capBnd}`,
    capEff: capEff === undefined ? '' : `0x${capEff}`,
    nspid: pids.every((p) => p !== undefined) ? (pids as number[]) : [],
    threads: threads ?? 1,
  };
}

/** A non-negative decimal integer as procfs prints one (%u, %d of an id), else undefined. */
function decimal(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,15}$/.test(s)) return undefined;
  return Number(s);
}

/** /proc/PID/cmdline: NUL-separated arguments, usually NUL-terminated. */
export function parseCmdline(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export interface CgroupEntry {
  hierarchy: number;
  controllers: string[];
  path: string;
}

/** /proc/PID/cgroup lines "hierarchy-ID:controller-list:cgroup-path" (cgroups(7)). */
export function parseCgroup(text: string): CgroupEntry[] {
  const out: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const controllers = line.slice(a + 1, b);
    const hierarchy = decimal(line.slice(0, a));
    if (hierarchy === undefined) continue; // not a line the kernel writes
    out.push({
      hierarchy,
      controllers: controllers === '' ? [] : controllers.split(','),
      // The path may itself contain ':'.
      path: line.slice(b + 1),
    });
  }
  return out;
}

const NS_TYPES: ReadonlySet<string> = new Set(['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']);

export interface NsLink {
  type: NamespaceType;
  ino: number;
}

/**
 * The target of a namespace symlink ("net:[4026531833]"): what readlink(2)
 * returns for /proc/PID/ns/X, for an fd that refers to a namespace, and the
 * root field of an nsfs mount in mountinfo.
 */
export function parseNsLink(link: string): NsLink | undefined {
  const colon = link.indexOf(':[');
  if (colon <= 0 || link.charCodeAt(link.length - 1) !== 93 /* ] */) return undefined;
  const type = link.slice(0, colon);
  if (!NS_TYPES.has(type)) return undefined;
  const digits = link.slice(colon + 2, -1);
  if (!/^\d{1,20}$/.test(digits)) return undefined; // "%s:[%lu]" (ns_dname): no "1e3", no "12.5"
  const ino = Number(digits);
  if (!Number.isSafeInteger(ino) || ino <= 0) return undefined;
  return { type: type as NamespaceType, ino };
}

export interface MountEntry {
  mountId: number;
  parentId: number;
  dev: string;
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
}

/** Undo mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountField(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * /proc/PID/mountinfo (proc(5)): "id parent major:minor root mountpoint opts
 * [optional fields...] - fstype source superopts". The optional fields vary in
 * number, so the fields after them are found from the " - " separator.
 * The mount point is relative to the reading process's root directory.
 */
export function parseMountinfo(text: string, filter?: (fstype: string) => boolean): MountEntry[] {
  return parseMountinfoLines(text.split('\n'), filter);
}

/**
 * Only the mounts of one filesystem type, found by searching for its
 * " - fstype " separator instead of parsing every line: a host with many
 * mounts has few nsfs ones.
 */
export function parseMountinfoOfType(text: string, fstype: string): MountEntry[] {
  const needle = ` - ${fstype} `;
  const lines: string[] = [];
  let at = text.indexOf(needle);
  while (at >= 0) {
    const start = text.lastIndexOf('\n', at) + 1;
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    lines.push(text.slice(start, end));
    at = text.indexOf(needle, end);
  }
  return parseMountinfoLines(lines, (t) => t === fstype);
}

function parseMountinfoLines(all: readonly string[], filter?: (fstype: string) => boolean): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of all) {
    if (line === '') continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const tail = line.slice(sep + 3).split(' ');
    const fstype = tail[0] ?? '';
    if (filter && !filter(fstype)) continue;
    const head = line.slice(0, sep).split(' ');
    if (head.length < 6) continue;
    const mountId = decimal(head[0]);
    const parentId = decimal(head[1]);
    if (mountId === undefined || parentId === undefined) continue; // not a line the kernel writes
    out.push({
      mountId,
      parentId,
      dev: head[2] ?? '',
      root: unescapeMountField(head[3] ?? ''),
      mountPoint: unescapeMountField(head[4] ?? ''),
      fstype,
      source: unescapeMountField(tail[1] ?? ''),
    });
  }
  return out;
}

/** An nsfs mount: the namespace it shows and where (relative to the reader's root). */
export interface NsfsMount extends NsLink {
  mountPoint: string;
}

/**
 * The nsfs mounts in a mountinfo text: bind mounts of namespace files
 * (`ip netns add`, `mount --bind /proc/PID/ns/X path`), whose root field
 * names the namespace ("net:[4026532475]").
 */
export function parseNsfsMounts(text: string): NsfsMount[] {
  const out: NsfsMount[] = [];
  for (const m of parseMountinfoOfType(text, 'nsfs')) {
    const ns = parseNsLink(m.root);
    if (ns !== undefined) out.push({ type: ns.type, ino: ns.ino, mountPoint: m.mountPoint });
  }
  return out;
}
