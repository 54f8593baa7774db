/**
 * RTM_NEWNETCONF decoding (include/uapi/linux/netconf.h): per-family device
 * configuration; the NETCONFA_IFINDEX_ALL (-1) entry carries the namespace-wide
 * "all" forwarding switch (net.ipv4.conf.all.forwarding / net.ipv6.conf.all.forwarding),
 * read here without entering the namespace's /proc/sys.
 */
import { NLA_TYPE_MASK } from '../netlink.js';
import { familyName } from './format.js';

export const RTM_NEWNETCONF = 80;
export const RTM_GETNETCONF = 82;
const NETCONFA_IFINDEX = 1;
const NETCONFA_FORWARDING = 2;
export const NETCONFA_IFINDEX_ALL = -1;
/** struct netconfmsg { __u8 ncm_family; }, padded to 4. */
export const NETCONFMSG_LEN = 4;

export interface RawNetconf {
  family: 'inet' | 'inet6';
  ifindex: number;
  forwarding?: boolean;
}

/** Walked in place: a host answers with one entry per device and family, and only "all" matters. */
export function decodeNetconf(data: Buffer): RawNetconf | undefined {
  if (data.length < NETCONFMSG_LEN) return undefined;
  const family = familyName(data[0] as number);
  if (!family) return undefined;
  let ifindex: number | undefined;
  let forwarding: number | undefined;
  const n = data.length;
  let off = NETCONFMSG_LEN;
  while (off + 4 <= n) {
    const len = data.readUInt16LE(off);
    if (len < 4 || off + len > n) break;
    const type = data.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len >= 8 && type === NETCONFA_IFINDEX) ifindex = data.readInt32LE(off + 4);
    else if (len >= 8 && type === NETCONFA_FORWARDING) forwarding = data.readInt32LE(off + 4);
    off += (len + 3) & ~3;
  }
  if (ifindex === undefined) return undefined;
  const out: RawNetconf = { family, ifindex };
  if (forwarding !== undefined) out.forwarding = forwarding !== 0;
  return out;
}
