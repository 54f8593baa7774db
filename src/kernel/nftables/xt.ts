/**
 * The private structs of the xtables extensions that matter for port
 * forwarding, as carried verbatim by iptables-nft's `match`/`target`
 * expressions (NFTA_MATCH_INFO/NFTA_TARGET_INFO) and by legacy ip_tables
 * entries (the data after struct xt_entry_match/xt_entry_target).
 * Pure functions; x86_64 layout (host byte order where the struct uses plain
 * integer types, network order for addresses and nf_conntrack_man_proto ports).
 */
import { NftDecodeError } from './expr.js';

export interface PortRange {
  min: number;
  max: number;
}

/** struct xt_tcp / xt_udp (linux/netfilter/xt_tcpudp.h): ports are host byte order. */
export interface XtTcpUdp {
  sport: PortRange;
  dport: PortRange;
  /** XT_TCP_INV_DSTPT (0x02) / XT_UDP_INV_DSTPT (0x02). */
  dportInverted: boolean;
  sportInverted: boolean;
}

export function decodeXtTcpUdp(info: Buffer, name: 'tcp' | 'udp'): XtTcpUdp {
  // xt_tcp: spts[2], dpts[2], option, flg_mask, flg_cmp, invflags (12 bytes);
  // xt_udp: spts[2], dpts[2], invflags (9 → 10 bytes).
  const invAt = name === 'tcp' ? 11 : 8;
  if (info.length < invAt + 1)
    throw new NftDecodeError(`xt ${name} match info too short (${info.length} bytes)`);
  const inv = info.readUInt8(invAt);
  return {
    sport: { min: info.readUInt16LE(0), max: info.readUInt16LE(2) },
    dport: { min: info.readUInt16LE(4), max: info.readUInt16LE(6) },
    sportInverted: (inv & 0x01) !== 0,
    dportInverted: (inv & 0x02) !== 0,
  };
}

export const XT_ADDRTYPE_LOCAL = 1 << 2;

/** xt_addrtype rev 0 / rev 1: whether the rule requires a local destination address. */
export function decodeXtAddrtype(info: Buffer, rev: number): { dest: number; destInverted: boolean } {
  if (info.length < 8) throw new NftDecodeError(`xt addrtype match info too short (${info.length} bytes)`);
  const dest = info.readUInt16LE(2);
  if (rev === 0) {
    // struct xt_addrtype_info: u16 source, u16 dest, u32 invert_source, u32 invert_dest
    if (info.length < 12) throw new NftDecodeError('xt addrtype rev 0 match info too short');
    return { dest, destInverted: info.readUInt32LE(8) !== 0 };
  }
  // struct xt_addrtype_info_v1: u16 source, u16 dest, u32 flags (XT_ADDRTYPE_INVERT_DEST = 0x2)
  return { dest, destInverted: (info.readUInt32LE(4) & 0x2) !== 0 };
}

/** xt_multiport v1 (struct xt_multiport_v1): destination ports, when the match is on them. */
export function decodeXtMultiport(
  info: Buffer,
  rev: number,
): { ports: PortRange[]; which: 'source' | 'destination' | 'either' } | undefined {
  if (rev !== 1 || info.length < 2 + 30 + 15 + 1) return undefined;
  // u8 flags (XT_MULTIPORT_SOURCE 0, DESTINATION 1, EITHER 2), u8 count, u16 ports[15], u8 pflags[15], u8 invert
  const flags = info.readUInt8(0);
  const count = Math.min(info.readUInt8(1), 15);
  const invert = info.readUInt8(2 + 30 + 15);
  if (invert) return undefined;
  const ports: PortRange[] = [];
  for (let i = 0; i < count; i++) {
    const p = info.readUInt16LE(2 + i * 2);
    const isRange = info.readUInt8(32 + i) !== 0;
    if (isRange && i + 1 < count) {
      ports.push({ min: p, max: info.readUInt16LE(2 + (i + 1) * 2) });
      i++;
    } else ports.push({ min: p, max: p });
  }
  return { ports, which: flags === 0 ? 'source' : flags === 1 ? 'destination' : 'either' };
}

export const NF_NAT_RANGE_MAP_IPS = 1 << 0;
export const NF_NAT_RANGE_PROTO_SPECIFIED = 1 << 1;

/** A DNAT/SNAT target's range: addresses (network order bytes) and ports, when specified. */
export interface NatRange {
  family: 'inet' | 'inet6';
  minAddress?: Buffer;
  maxAddress?: Buffer;
  minPort?: number;
  maxPort?: number;
}

/**
 * The DNAT target's info by revision (net/netfilter/xt_nat.c):
 * rev 0: struct nf_nat_ipv4_multi_range_compat (IPv4 only, rangesize must be 1);
 * rev 1: struct nf_nat_range; rev 2: struct nf_nat_range2 (adds base_proto).
 */
export function decodeXtNat(info: Buffer, rev: number, ipv6Table: boolean): NatRange {
  if (rev === 0) {
    // u32 rangesize; { u32 flags; be32 min_ip; be32 max_ip; be16 min; be16 max }
    if (info.length < 20) throw new NftDecodeError(`NAT target rev 0 info too short (${info.length} bytes)`);
    const rangesize = info.readUInt32LE(0);
    if (rangesize !== 1) throw new NftDecodeError(`NAT target rev 0 with rangesize ${rangesize}`);
    return rangeOf(
      info.readUInt32LE(4),
      'inet',
      info.subarray(8, 12),
      info.subarray(12, 16),
      info.readUInt16BE(16),
      info.readUInt16BE(18),
    );
  }
  if (rev === 1 || rev === 2) {
    // u32 flags; nf_inet_addr min_addr (16); nf_inet_addr max_addr (16); be16 min_proto; be16 max_proto [; be16 base_proto]
    if (info.length < 40)
      throw new NftDecodeError(`NAT target rev ${rev} info too short (${info.length} bytes)`);
    const family = ipv6Table ? 'inet6' : 'inet';
    const addr = (off: number) => info.subarray(off, off + (ipv6Table ? 16 : 4));
    return rangeOf(
      info.readUInt32LE(0),
      family,
      addr(4),
      addr(20),
      info.readUInt16BE(36),
      info.readUInt16BE(38),
    );
  }
  throw new NftDecodeError(`NAT target revision ${rev} is not known`);
}

function rangeOf(
  flags: number,
  family: 'inet' | 'inet6',
  minA: Buffer,
  maxA: Buffer,
  minP: number,
  maxP: number,
): NatRange {
  const r: NatRange = { family };
  if (flags & NF_NAT_RANGE_MAP_IPS) {
    r.minAddress = Buffer.from(minA);
    r.maxAddress = Buffer.from(maxA);
  }
  if (flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    r.minPort = minP;
    r.maxPort = maxP;
  }
  return r;
}
