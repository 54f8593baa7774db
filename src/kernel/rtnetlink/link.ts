/**
 * RTM_NEWLINK decoding (struct ifinfomsg + IFLA_* attributes, include/uapi/linux/if_link.h).
 * Kind-specific IFLA_INFO_DATA is left as bytes for the per-kind decoders.
 */
import { parseAttrList, parseAttrs, str, u8, u32 } from '../netlink.js';
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
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  IFLA_PARENT_DEV_BUS_NAME,
  IFLA_PARENT_DEV_NAME,
  IFLA_PROP_LIST,
  IFLA_STATS64,
  IFLA_TXQLEN,
} from './constants.js';
import { mac } from './format.js';

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
function stats64(b: Buffer | undefined): LinkStats | undefined {
  if (!b || b.length < 64) return undefined;
  const q = (i: number) => Number(b.readBigUInt64LE(i * 8));
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

/** Decodes one RTM_NEWLINK payload; undefined if even the fixed header is short. */
export function decodeLink(data: Buffer): RawLink | undefined {
  if (data.length < IFINFOMSG_LEN) return undefined;
  const a = parseAttrs(data, IFINFOMSG_LEN);
  const m = a.map;
  const link: RawLink = {
    index: data.readInt32LE(4),
    type: data.readUInt16LE(2),
    flags: data.readUInt32LE(8),
    name: str(m.get(IFLA_IFNAME)) ?? '',
    altnames: [],
    truncated: a.truncated,
  };
  const alias = str(m.get(IFLA_IFALIAS));
  if (alias) link.alias = alias;
  const mtu = u32(m.get(IFLA_MTU));
  if (mtu !== undefined) link.mtu = mtu;
  const hw = mac(m.get(IFLA_ADDRESS));
  if (hw !== undefined) link.mac = hw;
  const brd = mac(m.get(IFLA_BROADCAST));
  if (brd !== undefined) link.broadcast = brd;
  const txq = u32(m.get(IFLA_TXQLEN));
  if (txq !== undefined) link.txqlen = txq;
  const op = u8(m.get(IFLA_OPERSTATE));
  if (op !== undefined) link.operstate = op;
  const st = stats64(m.get(IFLA_STATS64));
  if (st) link.stats = st;
  const master = u32(m.get(IFLA_MASTER));
  if (master) link.master = master;
  const lk = m.get(IFLA_LINK);
  if (lk && lk.length >= 4) link.link = lk.readInt32LE(0);
  const nsid = m.get(IFLA_LINK_NETNSID);
  if (nsid && nsid.length >= 4) link.linkNetnsId = nsid.readInt32LE(0);
  const pdev = str(m.get(IFLA_PARENT_DEV_NAME));
  if (pdev) link.parentDev = pdev;
  const pbus = str(m.get(IFLA_PARENT_DEV_BUS_NAME));
  if (pbus) link.parentBus = pbus;
  const props = m.get(IFLA_PROP_LIST);
  if (props) {
    for (const p of parseAttrList(props)) {
      if (p.type === IFLA_ALT_IFNAME) link.altnames.push(str(p.value) ?? '');
    }
  }
  const info = m.get(IFLA_LINKINFO);
  if (info) {
    const li = parseAttrs(info);
    if (li.truncated) link.truncated = true;
    const kind = str(li.map.get(IFLA_INFO_KIND));
    if (kind) link.kind = kind;
    const d = li.map.get(IFLA_INFO_DATA);
    if (d) link.infoData = d;
    const sk = str(li.map.get(IFLA_INFO_SLAVE_KIND));
    if (sk) link.slaveKind = sk;
    const sd = li.map.get(IFLA_INFO_SLAVE_DATA);
    if (sd) link.slaveData = sd;
  }
  return link;
}
