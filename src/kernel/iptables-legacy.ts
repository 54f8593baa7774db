/**
 * Legacy ip_tables (x_tables, not nf_tables) read in-process: getsockopt
 * IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES on a raw IPv4 socket created in the
 * target network namespace (include/uapi/linux/netfilter_ipv4/ip_tables.h,
 * net/ipv4/netfilter/ip_tables.c), and a pure decoder of the entry blob.
 *
 * Safety: since Linux 5.x x_tables tables are instantiated per namespace on
 * first use — IPT_SO_GET_INFO for a table that does not exist yet *creates* it
 * (xt_find_table_lock → template → table_init) and may load modules. So the
 * reader asks only for tables listed in /proc/thread-self/net/ip_tables_names
 * of the namespace it is in; a namespace without legacy tables is never touched.
 */
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { close, EAGAIN, errno, SyscallError, socket } from './libc.js';

const libc = koffi.load('libc.so.6');
const getsockoptC = libc.func(
  'int getsockopt(int fd, int level, int name, _Inout_ void *val, _Inout_ uint32_t *len)',
);

const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;
const SOL_IP = 0;
const IPT_SO_GET_INFO = 64;
const IPT_SO_GET_ENTRIES = 65;
const XT_TABLE_MAXNAMELEN = 32;
const NF_INET_NUMHOOKS = 5;

/** sizeof(struct ipt_entry) on x86_64: ipt_ip (84) + nfcache, offsets, comefrom (12) + xt_counters (16). */
export const IPT_ENTRY_SIZE = 112;
/** sizeof(struct xt_entry_match) == sizeof(struct xt_entry_target): u16 size, char name[29], u8 revision. */
export const XT_ENTRY_HDR = 32;

export interface IptInfo {
  validHooks: number;
  hookEntry: number[];
  underflow: number[];
  numEntries: number;
  size: number;
}

export interface IptMatch {
  name: string;
  rev: number;
  data: Buffer;
}

export interface IptEntry {
  offset: number;
  /** Chain the entry belongs to: a built-in chain (PREROUTING...) or a user chain name. */
  chain: string;
  src: Buffer;
  dst: Buffer;
  smsk: Buffer;
  dmsk: Buffer;
  proto: number;
  flags: number;
  invflags: number;
  matches: IptMatch[];
  target: {
    name: string;
    rev: number;
    data: Buffer /** standard target: verdict or jump offset */;
    verdict?: number;
  };
}

export const IPT_F_GOTO = 0x02;
export const IPT_INV_DSTIP = 0x10;
export const IPT_INV_PROTO = 0x40;
/** Standard-target verdicts: XT_RETURN = -NF_REPEAT - 1. */
export const XT_RETURN = -5;

const HOOK_CHAINS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

export class IptDecodeError extends Error {
  override name = 'IptDecodeError';
}

function cstr(b: Buffer, off: number, max: number): string {
  const end = b.indexOf(0, off);
  return b.toString('latin1', off, end < 0 || end > off + max ? off + max : end);
}

export function decodeInfo(b: Buffer): IptInfo {
  let off = XT_TABLE_MAXNAMELEN;
  const validHooks = b.readUInt32LE(off);
  off += 4;
  const hookEntry: number[] = [];
  const underflow: number[] = [];
  for (let i = 0; i < NF_INET_NUMHOOKS; i++) hookEntry.push(b.readUInt32LE(off + i * 4));
  off += 4 * NF_INET_NUMHOOKS;
  for (let i = 0; i < NF_INET_NUMHOOKS; i++) underflow.push(b.readUInt32LE(off + i * 4));
  off += 4 * NF_INET_NUMHOOKS;
  return { validHooks, hookEntry, underflow, numEntries: b.readUInt32LE(off), size: b.readUInt32LE(off + 4) };
}

/**
 * Splits the entry blob (ipt_get_entries.entrytable) into entries with their
 * chain. Built-in chains start at hook_entry[]; a user chain starts after an
 * entry whose target is "ERROR" carrying the chain name (the last "ERROR"
 * entry, named "ERROR", ends the table) — the layout libiptc writes.
 * Standard-target jumps are byte offsets of the target chain's first entry.
 */
export function decodeEntries(blob: Buffer, info: Pick<IptInfo, 'validHooks' | 'hookEntry'>): IptEntry[] {
  const hookAt = new Map<number, string>();
  for (let h = 0; h < NF_INET_NUMHOOKS; h++)
    if (info.validHooks & (1 << h)) hookAt.set(info.hookEntry[h] ?? -1, HOOK_CHAINS[h] ?? `HOOK${h}`);
  const out: IptEntry[] = [];
  let chain = '';
  let off = 0;
  while (off < blob.length) {
    if (off + IPT_ENTRY_SIZE > blob.length) throw new IptDecodeError(`entry at ${off} truncated`);
    const targetOffset = blob.readUInt16LE(off + 88);
    const nextOffset = blob.readUInt16LE(off + 90);
    if (
      nextOffset < IPT_ENTRY_SIZE + XT_ENTRY_HDR ||
      off + nextOffset > blob.length ||
      targetOffset < IPT_ENTRY_SIZE
    )
      throw new IptDecodeError(
        `entry at ${off} has bad offsets (target ${targetOffset}, next ${nextOffset})`,
      );
    const hook = hookAt.get(off);
    if (hook) chain = hook;
    const matches: IptMatch[] = [];
    for (let m = off + IPT_ENTRY_SIZE; m < off + targetOffset; ) {
      const size = blob.readUInt16LE(m);
      if (size < XT_ENTRY_HDR || m + size > off + targetOffset)
        throw new IptDecodeError(`match at ${m} has bad size ${size}`);
      matches.push({
        name: cstr(blob, m + 2, 29),
        rev: blob.readUInt8(m + 31),
        data: blob.subarray(m + XT_ENTRY_HDR, m + size),
      });
      m += size;
    }
    const t = off + targetOffset;
    const tsize = blob.readUInt16LE(t);
    if (tsize < XT_ENTRY_HDR || t + tsize > off + nextOffset)
      throw new IptDecodeError(`target at ${t} has bad size ${tsize}`);
    const tname = cstr(blob, t + 2, 29);
    const tdata = blob.subarray(t + XT_ENTRY_HDR, t + tsize);
    if (tname === 'ERROR') {
      // struct xt_error_target: errorname[XT_FUNCTION_MAXNAMELEN] — a user chain head (or the table end).
      chain = cstr(tdata, 0, Math.min(tdata.length, 30));
      off += nextOffset;
      continue;
    }
    const target: IptEntry['target'] = { name: tname, rev: blob.readUInt8(t + 31), data: tdata };
    if (tname === '' && tdata.length >= 4) target.verdict = tdata.readInt32LE(0);
    out.push({
      offset: off,
      chain,
      src: blob.subarray(off, off + 4),
      dst: blob.subarray(off + 4, off + 8),
      smsk: blob.subarray(off + 8, off + 12),
      dmsk: blob.subarray(off + 12, off + 16),
      proto: blob.readUInt16LE(off + 80),
      flags: blob.readUInt8(off + 82),
      invflags: blob.readUInt8(off + 83),
      matches,
      target,
    });
    off += nextOffset;
  }
  return out;
}

/** Tables listed for the calling thread's network namespace; [] when ip_tables is not loaded. */
export function legacyTableNames(): string[] {
  try {
    return readFileSync('/proc/thread-self/net/ip_tables_names', 'latin1').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function getsockopt(fd: number, name: number, buf: Buffer): number {
  const len = [buf.length];
  if ((getsockoptC(fd, SOL_IP, name, buf, len) as number) < 0)
    throw new SyscallError('getsockopt', errno(), `IPT ${name}`);
  return len[0] ?? 0;
}

/** Opens a raw IPv4 socket in the calling thread's network namespace (needs CAP_NET_RAW there). */
export function openIptSocket(): number {
  return socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

export function closeIptSocket(fd: number): void {
  close(fd);
}

/**
 * Reads one existing table through a raw socket made in its namespace: the
 * raw ipt_getinfo struct and entry blob (decode with decodeInfo/decodeEntries).
 * The caller must have checked that the table exists (see legacyTableNames).
 */
export function readLegacyTable(fd: number, table: string): { info: Buffer; entries: Buffer } {
  for (let attempt = 0; ; attempt++) {
    const ib = Buffer.alloc(84);
    ib.write(table, 0, XT_TABLE_MAXNAMELEN - 1, 'latin1');
    getsockopt(fd, IPT_SO_GET_INFO, ib);
    const info = decodeInfo(ib);
    // struct ipt_get_entries: name[32], u32 size, then the entries at offset 40 (8-byte aligned).
    const eb = Buffer.alloc(40 + info.size);
    eb.write(table, 0, XT_TABLE_MAXNAMELEN - 1, 'latin1');
    eb.writeUInt32LE(info.size, XT_TABLE_MAXNAMELEN);
    try {
      getsockopt(fd, IPT_SO_GET_ENTRIES, eb);
    } catch (e) {
      // EAGAIN: the table changed size between the two calls; read again.
      if (e instanceof SyscallError && e.errno === EAGAIN && attempt < 3) continue;
      throw e;
    }
    return { info: ib, entries: eb.subarray(40) };
  }
}
