/**
 * RTM_NEWLINK decoding (struct ifinfomsg + IFLA_* attributes, include/uapi/linux/if_link.h).
 * Kind-specific IFLA_INFO_DATA is left as bytes for the per-kind decoders.
 */
import { NLA_TYPE_MASK, parseAttrList, parseAttrs, str, u16be, u32 } from '../netlink.js';
import {
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_ALT_IFNAME,
  IFLA_BROADCAST,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_INFO_SLAVE_DATA,
  IFLA_INFO_SLAVE_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_MACVLAN_MODE,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  IFLA_PARENT_DEV_BUS_NAME,
  IFLA_PARENT_DEV_NAME,
  IFLA_PROP_LIST,
  IFLA_STATS64,
  IFLA_TXQLEN,
  IFLA_VXLAN_GROUP,
  IFLA_VXLAN_GROUP6,
  IFLA_VXLAN_ID,
  IFLA_VXLAN_LINK,
  IFLA_VXLAN_LOCAL,
  IFLA_VXLAN_LOCAL6,
  IFLA_VXLAN_PORT,
} from './constants.js';
import { ip, mac } from './format.js';

export interface LinkStats {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

export interface RawLink {
  index: number;
  /** ARPHRD_* device type. */
  type: number;
  flags: number;
  name: string;
  alias?: string;
  altnames: string[];
  mtu?: number;
  mac?: string;
  broadcast?: string;
  txqlen?: number;
  operstate?: number;
  stats?: LinkStats;
  master?: number;
  /** IFLA_LINK as sent; the kernel omits it when it equals the device's own ifindex. */
  link?: number;
  linkNetnsId?: number;
  kind?: string;
  infoData?: Buffer;
  slaveKind?: string;
  slaveData?: Buffer;
  parentDev?: string;
  parentBus?: string;
  /** An attribute was cut short: what was decoded is kept, the rest is missing. */
  truncated: boolean;
}

/** struct rtnl_link_stats64: rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped, ... (__u64 each). */
function stats64(b: Buffer, off: number): LinkStats {
  // Counters stay far below 2^53; reading two u32 halves avoids BigInt allocations.
  const q = (i: number) => b.readUInt32LE(off + i * 8) + b.readUInt32LE(off + i * 8 + 4) * 0x100000000;
  return {
    rxPackets: q(0),
    txPackets: q(1),
    rxBytes: q(2),
    txBytes: q(3),
    rxErrors: q(4),
    txErrors: q(5),
    rxDropped: q(6),
    txDropped: q(7),
  };
}

/** NUL-terminated string at [off, end). */
function cstr(b: Buffer, off: number, end: number): string {
  const z = b.indexOf(0, off);
  return b.toString('utf8', off, z < 0 || z > end ? end : z);
}

/**
 * Decodes one RTM_NEWLINK payload; undefined if even the fixed header is short.
 * The hottest decoder (every interface of every namespace, ~50 attributes each),
 * so it walks the attributes in place and only slices the nested ones it keeps.
 */
export function decodeLink(data: Buffer): RawLink | undefined {
  if (data.length < IFINFOMSG_LEN) return undefined;
  const link: RawLink = {
    index: data.readInt32LE(4),
    type: data.readUInt16LE(2),
    flags: data.readUInt32LE(8),
    name: '',
    altnames: [],
    truncated: false,
  };
  let off = IFINFOMSG_LEN;
  const n = data.length;
  while (off + 4 <= n) {
    const len = data.readUInt16LE(off);
    if (len < 4 || off + len > n) {
      link.truncated = true;
      break;
    }
    const type = data.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    const v = off + 4;
    const vlen = len - 4;
    const end = off + len;
    switch (type) {
      case IFLA_IFNAME:
        link.name = cstr(data, v, end);
        break;
      case IFLA_IFALIAS: {
        const a = cstr(data, v, end);
        if (a) link.alias = a;
        break;
      }
      case IFLA_MTU:
        if (vlen >= 4) link.mtu = data.readUInt32LE(v);
        break;
      case IFLA_ADDRESS:
        if (vlen > 0) link.mac = mac(data.subarray(v, end));
        break;
      case IFLA_BROADCAST:
        if (vlen > 0) link.broadcast = mac(data.subarray(v, end));
        break;
      case IFLA_TXQLEN:
        if (vlen >= 4) link.txqlen = data.readUInt32LE(v);
        break;
      case IFLA_OPERSTATE:
        if (vlen >= 1) link.operstate = data[v] as number;
        break;
      case IFLA_STATS64:
        if (vlen >= 64) link.stats = stats64(data, v);
        break;
      case IFLA_MASTER:
        if (vlen >= 4 && data.readUInt32LE(v)) link.master = data.readUInt32LE(v);
        break;
      case IFLA_LINK:
        if (vlen >= 4) link.link = data.readInt32LE(v);
        break;
      case IFLA_LINK_NETNSID:
        if (vlen >= 4) link.linkNetnsId = data.readInt32LE(v);
        break;
      case IFLA_PARENT_DEV_NAME: {
        const p = cstr(data, v, end);
        if (p) link.parentDev = p;
        break;
      }
      case IFLA_PARENT_DEV_BUS_NAME: {
        const p = cstr(data, v, end);
        if (p) link.parentBus = p;
        break;
      }
      case IFLA_PROP_LIST:
        for (const p of parseAttrList(data.subarray(v, end))) {
          if (p.type === IFLA_ALT_IFNAME) link.altnames.push(str(p.value) ?? '');
        }
        break;
      case IFLA_LINKINFO: {
        const li = parseAttrs(data.subarray(v, end));
        if (li.truncated) link.truncated = true;
        const kind = str(li.map.get(IFLA_INFO_KIND));
        if (kind) link.kind = kind;
        const d = li.map.get(IFLA_INFO_DATA);
        if (d) link.infoData = d;
        const sk = str(li.map.get(IFLA_INFO_SLAVE_KIND));
        if (sk) link.slaveKind = sk;
        const sd = li.map.get(IFLA_INFO_SLAVE_DATA);
        if (sd) link.slaveData = sd;
        break;
      }
    }
    off += (len + 3) & ~3;
  }
  return link;
}

/** IFLA_MACVLAN_MODE of a macvlan's IFLA_INFO_DATA (a MACVLAN_MODE_* bit). */
export function macvlanMode(infoData: Buffer): number | undefined {
  return u32(parseAttrs(infoData).map.get(IFLA_MACVLAN_MODE));
}

/** The creation parameters in a vxlan's IFLA_INFO_DATA (drivers/net/vxlan/vxlan_core.c vxlan_fill_info). */
export interface VxlanInfo {
  vni?: number;
  /** IFLA_VXLAN_GROUP/GROUP6: multicast group or unicast remote; the unset any-address is left out. */
  remote?: string;
  local?: string;
  port?: number;
  /** IFLA_VXLAN_LINK: underlay ifindex (in the namespace of the vxlan's UDP socket). */
  link?: number;
}

export function vxlanInfo(infoData: Buffer): VxlanInfo {
  const v = parseAttrs(infoData).map;
  const set = (x: string | undefined) => (x && x !== '0.0.0.0' && x !== '::' ? x : undefined);
  const out: VxlanInfo = {};
  const vni = u32(v.get(IFLA_VXLAN_ID));
  if (vni !== undefined) out.vni = vni;
  const remote = set(ip(v.get(IFLA_VXLAN_GROUP)) ?? ip(v.get(IFLA_VXLAN_GROUP6)));
  if (remote) out.remote = remote;
  const local = set(ip(v.get(IFLA_VXLAN_LOCAL)) ?? ip(v.get(IFLA_VXLAN_LOCAL6)));
  if (local) out.local = local;
  const port = u16be(v.get(IFLA_VXLAN_PORT));
  if (port !== undefined) out.port = port;
  const ul = u32(v.get(IFLA_VXLAN_LINK));
  if (ul) out.link = ul;
  return out;
}
