/**
 * nfnetlink framing for the nf_tables subsystem (include/uapi/linux/netfilter/nfnetlink.h,
 * nf_tables.h).
 *
 * Every nfnetlink message starts with a 4-byte `struct nfgenmsg` (family,
 * version, resource id) after the netlink header; the message type carries
 * the subsystem in its high byte. Unlike rtnetlink, nf_tables puts integer
 * attributes in network byte order (nla_put_be32/be64), so decoders here read
 * them big-endian.
 */
import type { NetlinkSocket, NlMsg } from '../netlink.js';

export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNETLINK_V0 = 0;

/** NFPROTO_* (include/uapi/linux/netfilter.h): the "family" of a table. */
export const NFPROTO_UNSPEC = 0;
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_ARP = 3;
export const NFPROTO_NETDEV = 5;
export const NFPROTO_BRIDGE = 7;
export const NFPROTO_IPV6 = 10;

/** nf_tables_msg_types. */
export const NFT_MSG_GETTABLE = 1;
export const NFT_MSG_GETCHAIN = 4;
export const NFT_MSG_GETRULE = 7;
export const NFT_MSG_GETSET = 10;
export const NFT_MSG_GETSETELEM = 13;
export const NFT_MSG_GETGEN = 16;

/** The netlink message type of an nf_tables message. */
export const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg;

/** nf_tables family names as `nft` prints them. */
export function familyName(family: number): string {
  switch (family) {
    case NFPROTO_INET:
      return 'inet';
    case NFPROTO_IPV4:
      return 'ip';
    case NFPROTO_ARP:
      return 'arp';
    case NFPROTO_NETDEV:
      return 'netdev';
    case NFPROTO_BRIDGE:
      return 'bridge';
    case NFPROTO_IPV6:
      return 'ip6';
    default:
      return `family${family}`;
  }
}

/** struct nfgenmsg: the 4-byte family header of every nfnetlink message. */
export function nfgenmsg(family: number, resId = 0): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(family, 0);
  b.writeUInt8(NFNETLINK_V0, 1);
  b.writeUInt16BE(resId, 2);
  return b;
}

export interface NfGenMsg {
  family: number;
  version: number;
  /** For dumps: the ruleset generation id (low 16 bits), see nf_tables_api.c nfnl_fill_hdr. */
  resId: number;
}

export function parseNfgenmsg(data: Buffer): NfGenMsg | undefined {
  if (data.length < 4) return undefined;
  return { family: data.readUInt8(0), version: data.readUInt8(1), resId: data.readUInt16BE(2) };
}

// Integer attribute readers. nf_tables writes them with nla_put_be32/nla_put_be64
// (network order, unlike rtnetlink's host order); unsigned 32-bit ones read with
// netlink.ts's u32be. A short or absent attribute reads as undefined so each
// decoder decides whether it is required.

/** Signed: verdict codes (NFTA_VERDICT_CODE) and hook priorities (NFTA_HOOK_PRIORITY) are negative. */
export const s32be = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 4 ? b.readInt32BE(0) : undefined;
/** Handles (NFTA_*_HANDLE) are be64 counters starting at 1; read as a number (exact below 2^53). */
export const u64be = (b: Buffer | undefined): number | undefined =>
  b && b.length >= 8 ? Number(b.readBigUInt64BE(0)) : undefined;

/**
 * `obj` with those of `fields` that are defined, set on it in place: an
 * optional attribute the kernel did not send leaves no key behind (decoded
 * objects compare and serialise the same whether or not a decoder read it).
 */
export function withPresent<T extends object, F extends Record<string, unknown>>(
  obj: T,
  fields: F,
): T & { [K in keyof F]?: Exclude<F[K], undefined> } {
  const out: Record<string, unknown> = obj as Record<string, unknown>;
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined) out[k] = v;
  }
  return obj;
}

/** Dumps one kind of nf_tables object for every family (NFPROTO_UNSPEC) unless a family is given. */
export function nftDump(
  sock: NetlinkSocket,
  msg: number,
  family = NFPROTO_UNSPEC,
  attrs: Buffer = Buffer.alloc(0),
): { messages: NlMsg[]; interrupted: boolean; truncated: boolean } {
  return sock.dump(nftType(msg), Buffer.concat([nfgenmsg(family), attrs]), `nf_tables dump ${msg}`);
}
