/**
 * pcapng blocks (draft-ietf-opsawg-pcapng): Section Header, Interface
 * Description, Enhanced Packet and Interface Statistics blocks, written in
 * host byte order (little-endian; the byte-order magic says so). Pure
 * functions: each returns the bytes of one block.
 */

const SHB = 0x0a0d0d0a;
const IDB = 1;
const ISB = 5;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_COMMENT = 1;
const SHB_HARDWARE = 2;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FILTER = 11;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const ISB_OSDROP = 7;

const pad4 = (n: number): number => (n + 3) & ~3;

type Option = [code: number, value: Buffer];

function options(opts: Option[]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of opts) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value, Buffer.alloc(pad4(value.length) - value.length));
  }
  if (opts.length > 0) parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

const text = (s: string): Buffer => {
  // An option value is at most 65535 bytes (16-bit length).
  const b = Buffer.from(s, 'utf8');
  return b.length > 65535 ? b.subarray(0, 65535) : b;
};

export interface SectionInfo {
  comment?: string;
  hardware?: string;
  os?: string;
  application?: string;
}

export function sectionHeader(info: SectionInfo): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  head.writeUInt16LE(1, 4);
  head.writeUInt16LE(0, 6);
  head.writeBigInt64LE(-1n, 8); // section length unknown: it is streamed
  const opts: Option[] = [];
  if (info.comment) opts.push([OPT_COMMENT, text(info.comment)]);
  if (info.hardware) opts.push([SHB_HARDWARE, text(info.hardware)]);
  if (info.os) opts.push([SHB_OS, text(info.os)]);
  if (info.application) opts.push([SHB_USERAPPL, text(info.application)]);
  return block(SHB, Buffer.concat([head, options(opts)]));
}

export interface InterfaceInfo {
  linktype: number;
  snaplen: number;
  name: string;
  description?: string;
  /** The capture filter as typed (if_filter with type 0, a libpcap expression). */
  filter?: string;
}

export function interfaceDescription(i: InterfaceInfo): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(i.linktype, 0);
  head.writeUInt32LE(i.snaplen, 4);
  const opts: Option[] = [[IF_NAME, text(i.name)]];
  if (i.description) opts.push([IF_DESCRIPTION, text(i.description)]);
  opts.push([IF_TSRESOL, Buffer.from([9])]); // nanoseconds, as TPACKET_V3 stamps them
  if (i.filter) opts.push([IF_FILTER, Buffer.concat([Buffer.from([0]), text(i.filter)])]);
  return block(IDB, Buffer.concat([head, options(opts)]));
}

/**
 * Nanoseconds since the epoch, sec * 1e9 + nsec, as the (high, low) 32-bit
 * halves pcapng stores — exactly, without BigInt (the product passes 2^53):
 * sec is split at 2^16 so every partial sum stays below 2^53.
 */
export function nsHalves(sec: number, nsec: number): [number, number] {
  const sh = Math.floor(sec / 65536);
  const sl = sec % 65536;
  const x = sl * 1e9 + nsec;
  const y = sh * 1e9;
  const yh = Math.floor(y / 65536);
  const yl = y % 65536;
  const z = yl * 65536 + x;
  return [yh + Math.floor(z / 4294967296), z % 4294967296];
}

/** Bytes an Enhanced Packet Block of `caplen` bytes takes. */
export const epbSize = (caplen: number): number => 32 + pad4(caplen);

/**
 * Writes an Enhanced Packet Block into `out` at `at` (the caller made room:
 * epbSize) and returns the offset after it. The packet is `insert` put at
 * `insertAt` into src[start, start+caplen) — a VLAN tag back into a frame or
 * a cooked header before one — so nothing is copied twice.
 */
export function writeEpb(
  out: Buffer,
  at: number,
  ifid: number,
  sec: number,
  nsec: number,
  src: Uint8Array,
  start: number,
  snaplen: number,
  origlen: number,
  insert: Uint8Array | undefined,
  insertAt: number,
): number {
  const extra = insert ? insert.length : 0;
  const caplen = snaplen + extra;
  const total = epbSize(caplen);
  const [hi, lo] = nsHalves(sec, nsec);
  out.writeUInt32LE(EPB, at);
  out.writeUInt32LE(total, at + 4);
  out.writeUInt32LE(ifid, at + 8);
  out.writeUInt32LE(hi, at + 12);
  out.writeUInt32LE(lo, at + 16);
  out.writeUInt32LE(caplen, at + 20);
  out.writeUInt32LE(origlen + extra, at + 24);
  let d = at + 28;
  if (insert) {
    out.set(src.subarray(start, start + insertAt), d);
    out.set(insert, d + insertAt);
    out.set(src.subarray(start + insertAt, start + snaplen), d + insertAt + insert.length);
  } else {
    out.set(src.subarray(start, start + snaplen), d);
  }
  d += caplen;
  out.fill(0, d, at + total - 4);
  out.writeUInt32LE(total, at + total - 4);
  return at + total;
}

export interface InterfaceStatistics {
  startNs?: [number, number];
  endNs: [number, number];
  received: number;
  kernelDrops: number;
  /** Packets wirescope dropped itself (a slow reader). */
  ownDrops: number;
  comment?: string;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function ts([hi, lo]: [number, number]): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(hi, 0);
  b.writeUInt32LE(lo, 4);
  return b;
}

export function interfaceStatistics(ifid: number, s: InterfaceStatistics): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(ifid, 0);
  head.writeUInt32LE(s.endNs[0], 4);
  head.writeUInt32LE(s.endNs[1], 8);
  const opts: Option[] = [];
  if (s.comment) opts.push([OPT_COMMENT, text(s.comment)]);
  if (s.startNs) opts.push([ISB_STARTTIME, ts(s.startNs)]);
  opts.push([ISB_ENDTIME, ts(s.endNs)]);
  opts.push([ISB_IFRECV, u64(s.received)]);
  opts.push([ISB_IFDROP, u64(s.kernelDrops)]);
  opts.push([ISB_OSDROP, u64(s.ownDrops)]);
  return block(ISB, Buffer.concat([head, options(opts)]));
}

export function nowNs(): [number, number] {
  const ms = Date.now();
  return nsHalves(Math.floor(ms / 1000), (ms % 1000) * 1e6);
}
