/**
 * A pcapng reader (draft-ietf-opsawg-pcapng) for the blocks the capture
 * writes: Section Header, Interface Description, Enhanced Packet and
 * Interface Statistics blocks; other block types are skipped by their length.
 * Either byte order (the SHB's byte-order magic decides). The tests check the
 * stream with it beside tshark; it bounds every length by the input and
 * throws PcapngError on anything malformed.
 */

export class PcapngError extends Error {}

export interface PcapngOption {
  code: number;
  value: Buffer;
}

export interface PcapngInterface {
  linktype: number;
  snaplen: number;
  name?: string;
  description?: string;
  /** if_tsresol as written (9 = nanoseconds); 6 when absent. */
  tsresol: number;
  filter?: string;
}

export interface PcapngPacket {
  ifid: number;
  /** Timestamp in units of the interface's tsresol. */
  ts: bigint;
  caplen: number;
  origlen: number;
  data: Buffer;
  comment?: string;
}

export interface PcapngStats {
  ifid: number;
  ts: bigint;
  comment?: string;
  ifrecv?: bigint;
  ifdrop?: bigint;
  osdrop?: bigint;
}

export interface PcapngFile {
  sections: { comment?: string; os?: string; application?: string }[];
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
  stats: PcapngStats[];
  /** Bytes after the last whole block (a stream cut mid-block). */
  trailing: number;
}

const SHB = 0x0a0d0d0a;
const MAGIC = 0x1a2b3c4d;

function parseOptions(b: Buffer, start: number, end: number, le: boolean): PcapngOption[] {
  const out: PcapngOption[] = [];
  let at = start;
  while (at + 4 <= end) {
    const code = le ? b.readUInt16LE(at) : b.readUInt16BE(at);
    const len = le ? b.readUInt16LE(at + 2) : b.readUInt16BE(at + 2);
    if (code === 0) break;
    const vEnd = at + 4 + len;
    if (vEnd > end) throw new PcapngError(`option ${code} at ${at} runs past its block`);
    out.push({ code, value: b.subarray(at + 4, vEnd) });
    at = at + 4 + ((len + 3) & ~3);
  }
  return out;
}

const textOf = (opts: PcapngOption[], code: number): string | undefined => {
  const o = opts.find((x) => x.code === code);
  return o ? o.value.toString('utf8') : undefined;
};

export function readPcapng(b: Buffer): PcapngFile {
  const file: PcapngFile = { sections: [], interfaces: [], packets: [], stats: [], trailing: 0 };
  let le = true;
  let at = 0;
  while (at < b.length) {
    if (at + 12 > b.length) {
      file.trailing = b.length - at;
      break;
    }
    const typeLE = b.readUInt32LE(at);
    if (typeLE === SHB) {
      if (at + 12 > b.length) break;
      const magic = b.readUInt32LE(at + 8);
      if (magic === MAGIC) le = true;
      else if (b.readUInt32BE(at + 8) === MAGIC) le = false;
      else throw new PcapngError(`section header at ${at} has no byte-order magic`);
    } else if (file.sections.length === 0) {
      throw new PcapngError('the stream does not start with a section header block');
    }
    const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const type = u32(at);
    const len = u32(at + 4);
    if (len < 12 || len % 4 !== 0) throw new PcapngError(`block at ${at} has length ${len}`);
    if (at + len > b.length) {
      file.trailing = b.length - at;
      break;
    }
    if (u32(at + len - 4) !== len) throw new PcapngError(`block at ${at}: trailing length differs`);
    const end = at + len - 4;
    const body = at + 8;
    switch (type) {
      case SHB: {
        if (len < 28) throw new PcapngError(`section header at ${at} is too short`);
        const opts = parseOptions(b, body + 16, end, le);
        file.sections.push({ comment: textOf(opts, 1), os: textOf(opts, 3), application: textOf(opts, 4) });
        file.interfaces = [];
        break;
      }
      case 1: {
        if (len < 20) throw new PcapngError(`interface description at ${at} is too short`);
        const opts = parseOptions(b, body + 8, end, le);
        const filter = opts.find((o) => o.code === 11);
        file.interfaces.push({
          linktype: u16(body),
          snaplen: u32(body + 4),
          name: textOf(opts, 2),
          description: textOf(opts, 3),
          tsresol: opts.find((o) => o.code === 9)?.value[0] ?? 6,
          ...(filter ? { filter: filter.value.subarray(1).toString('utf8') } : {}),
        });
        break;
      }
      case 6: {
        if (len < 32) throw new PcapngError(`enhanced packet at ${at} is too short`);
        const ifid = u32(body);
        if (ifid >= file.interfaces.length) throw new PcapngError(`packet at ${at} names interface ${ifid}`);
        const caplen = u32(body + 12);
        const dataEnd = body + 20 + caplen;
        if (dataEnd > end)
          throw new PcapngError(`packet at ${at}: captured length ${caplen} exceeds the block`);
        const opts = parseOptions(b, body + 20 + ((caplen + 3) & ~3), end, le);
        file.packets.push({
          ifid,
          ts: (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8)),
          caplen,
          origlen: u32(body + 16),
          data: b.subarray(body + 20, dataEnd),
          comment: textOf(opts, 1),
        });
        break;
      }
      case 5: {
        if (len < 24) throw new PcapngError(`interface statistics at ${at} is too short`);
        const opts = parseOptions(b, body + 12, end, le);
        const u64 = (code: number): bigint | undefined => {
          const o = opts.find((x) => x.code === code);
          if (!o || o.value.length < 8) return undefined;
          return le ? o.value.readBigUInt64LE(0) : o.value.readBigUInt64BE(0);
        };
        file.stats.push({
          ifid: u32(body),
          ts: (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8)),
          comment: textOf(opts, 1),
          ifrecv: u64(4),
          ifdrop: u64(5),
          osdrop: u64(7),
        });
        break;
      }
      default:
        break;
    }
    at += len;
  }
  return file;
}
