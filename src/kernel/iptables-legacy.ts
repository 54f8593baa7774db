/**
 * Legacy ip_tables / ip6_tables (x_tables, not nf_tables) read in-process:
 * getsockopt IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES (IP6T_SO_* for IPv6) on a
 * raw socket created in the target network namespace
 * (include/uapi/linux/netfilter_ipv4/ip_tables.h, netfilter_ipv6/ip6_tables.h,
 * net/ipv4/netfilter/ip_tables.c), and a pure decoder of the entry blob.
 *
 * Safety: since Linux 5.x x_tables tables are instantiated per namespace on
 * first use — IPT_SO_GET_INFO for a table that does not exist yet *creates* it
 * (xt_find_table_lock → template → table_init) and may load modules. So the
 * reader asks only for tables listed in /proc/thread-self/net/ip_tables_names
 * (ip6_tables_names) of the namespace it is in; a namespace without legacy
 * tables is never touched.
 */
import { readFileSync } from 'node:fs';
import { close, EAGAIN, getsockoptBuf, SyscallError, socket } from './libc.js';

export type IpFamily = 4 | 6;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;
const SOL_IP = 0;
const SOL_IPV6 = 41;
/** IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES; IP6T_SO_* have the same numbers. */
const IPT_SO_GET_INFO = 64;
const IPT_SO_GET_ENTRIES = 65;
const XT_TABLE_MAXNAMELEN = 32;
const NF_INET_NUMHOOKS = 5;

/**
 * struct ipt_entry / ip6t_entry layout on x86_64: size, where target_offset
 * sits (next_offset follows it), and the header fields.
 * ipt_entry: ipt_ip (84) + nfcache, offsets, comefrom (12) + xt_counters (16) = 112.
 * ip6t_entry: ip6t_ip6 (136) + nfcache, offsets, comefrom (12) + pad (4) + counters (16) = 168.
 */
const LAYOUT = {
  4: { size: 112, targetOffset: 88, addrLen: 4, dst: 4, dmsk: 12, proto: 80, flags: 82, invflags: 83 },
  6: { size: 168, targetOffset: 140, addrLen: 16, dst: 16, dmsk: 48, proto: 128, flags: 131, invflags: 132 },
} as const;
export const IPT_ENTRY_SIZE = LAYOUT[4].size;
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
  dst: Buffer;
  dmsk: Buffer;
  /** IP protocol the entry requires; 0 = any. */
  proto: number;
  dstInverted: boolean;
  protoInverted: boolean;
  /** The jump is a goto (IPT_F_GOTO / IP6T_F_GOTO). */
  goto: boolean;
  matches: IptMatch[];
  target: {
    name: string;
    rev: number;
    data: Buffer /** standard target: verdict or jump offset */;
    verdict?: number;
  };
}

// ipt_ip.flags / ip6t_ip6.flags and invflags.
const IPT_F_GOTO = 0x02;
const IP6T_F_PROTO = 0x01;
const IP6T_F_GOTO = 0x04;
const IPT_INV_DSTIP = 0x10; // IP6T_INV_DSTIP too
const IPT_INV_PROTO = 0x40; // IP6T_INV_PROTO too
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

/** sizeof(struct ipt_getinfo): name[32], valid_hooks, hook_entry[5], underflow[5], num_entries, size. */
const IPT_GETINFO_LEN = XT_TABLE_MAXNAMELEN + 4 + 2 * 4 * NF_INET_NUMHOOKS + 8;

export function decodeInfo(b: Buffer): IptInfo {
  if (b.length < IPT_GETINFO_LEN)
    throw new IptDecodeError(`ipt_getinfo of ${b.length} bytes, shorter than its ${IPT_GETINFO_LEN}`);
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
export function decodeEntries(
  blob: Buffer,
  info: Pick<IptInfo, 'validHooks' | 'hookEntry'>,
  family: IpFamily = 4,
): IptEntry[] {
  const L = LAYOUT[family];
  const hookAt = new Map<number, string>();
  for (let h = 0; h < NF_INET_NUMHOOKS; h++)
    if (info.validHooks & (1 << h)) hookAt.set(info.hookEntry[h] ?? -1, HOOK_CHAINS[h] ?? `HOOK${h}`);
  const out: IptEntry[] = [];
  let chain = '';
  let off = 0;
  while (off < blob.length) {
    if (off + L.size > blob.length) throw new IptDecodeError(`entry at ${off} truncated`);
    const targetOffset = blob.readUInt16LE(off + L.targetOffset);
    const nextOffset = blob.readUInt16LE(off + L.targetOffset + 2);
    // The target (at least its xt_entry_target header) lies inside the entry: the kernel's
    // check_entry_size_and_hooks asks the same of what it accepts.
    if (
      nextOffset < L.size + XT_ENTRY_HDR ||
      off + nextOffset > blob.length ||
      targetOffset < L.size ||
      targetOffset + XT_ENTRY_HDR > nextOffset
    )
      throw new IptDecodeError(
        `entry at ${off} has bad offsets (target ${targetOffset}, next ${nextOffset})`,
      );
    const hook = hookAt.get(off);
    if (hook) chain = hook;
    const matches: IptMatch[] = [];
    for (let m = off + L.size; m < off + targetOffset; ) {
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
    const flags = blob.readUInt8(off + L.flags);
    const invflags = blob.readUInt8(off + L.invflags);
    // ip6t_ip6.proto counts only with IP6T_F_PROTO; ipt_ip.proto 0 means any.
    const proto = family === 6 && !(flags & IP6T_F_PROTO) ? 0 : blob.readUInt16LE(off + L.proto);
    out.push({
      offset: off,
      chain,
      dst: blob.subarray(off + L.dst, off + L.dst + L.addrLen),
      dmsk: blob.subarray(off + L.dmsk, off + L.dmsk + L.addrLen),
      proto,
      dstInverted: (invflags & IPT_INV_DSTIP) !== 0,
      protoInverted: (invflags & IPT_INV_PROTO) !== 0,
      goto: (flags & (family === 6 ? IP6T_F_GOTO : IPT_F_GOTO)) !== 0,
      matches,
      target,
    });
    off += nextOffset;
  }
  return out;
}

/** The proc file listing a namespace's legacy tables (of the namespace the reading thread is in). */
export const tableNamesPath = (family: IpFamily): string =>
  `/proc/thread-self/net/${family === 6 ? 'ip6' : 'ip'}_tables_names`;

/** Tables listed for the calling thread's network namespace; [] when ip(6)_tables is not loaded. */
export function legacyTableNames(family: IpFamily = 4): string[] {
  try {
    return readFileSync(tableNamesPath(family), 'latin1').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * getsockopt whose buffer is read as well as written: IPT_SO_GET_INFO and
 * IPT_SO_GET_ENTRIES take the table name in it (koffi passes a Buffer by
 * pointer, in place).
 */
function getsockopt(fd: number, level: number, name: number, buf: Buffer): number {
  try {
    return getsockoptBuf(fd, level, name, buf);
  } catch (e) {
    if (e instanceof SyscallError) throw new SyscallError('getsockopt', e.errno, `IPT ${name}`);
    throw e;
  }
}

/** Opens a raw socket of the family in the calling thread's network namespace (needs CAP_NET_RAW there). */
export function openIptSocket(family: IpFamily = 4): number {
  return socket(family === 6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

export function closeIptSocket(fd: number): void {
  close(fd);
}

/**
 * Reads one existing table through a raw socket made in its namespace: the
 * raw ipt_getinfo struct and entry blob (decode with decodeInfo/decodeEntries).
 * The caller must have checked that the table exists (see legacyTableNames).
 */
export function readLegacyTable(
  fd: number,
  table: string,
  family: IpFamily = 4,
): { info: Buffer; entries: Buffer } {
  const level = family === 6 ? SOL_IPV6 : SOL_IP;
  for (let attempt = 0; ; attempt++) {
    const ib = Buffer.alloc(84);
    ib.write(table, 0, XT_TABLE_MAXNAMELEN - 1, 'latin1');
    getsockopt(fd, level, IPT_SO_GET_INFO, ib);
    const info = decodeInfo(ib);
    // struct ipt_get_entries: name[32], u32 size, then the entries at offset 40 (8-byte aligned).
    const eb = Buffer.alloc(40 + info.size);
    eb.write(table, 0, XT_TABLE_MAXNAMELEN - 1, 'latin1');
    eb.writeUInt32LE(info.size, XT_TABLE_MAXNAMELEN);
    try {
      getsockopt(fd, level, IPT_SO_GET_ENTRIES, eb);
    } catch (e) {
      // EAGAIN: the table changed size between the two calls; read again.
      if (e instanceof SyscallError && e.errno === EAGAIN && attempt < 3) continue;
      throw e;
    }
    return { info: ib, entries: eb.subarray(40) };
  }
}
