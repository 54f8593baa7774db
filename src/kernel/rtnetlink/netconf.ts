/**
 * RTM_NEWNETCONF decoding (include/uapi/linux/netconf.h): per-family device
 * configuration; the NETCONFA_IFINDEX_ALL (-1) entry carries the namespace-wide
 * "all" forwarding switch (net.ipv4.conf.all.forwarding / net.ipv6.conf.all.forwarding),
 * read here without entering the namespace's /proc/sys.
 */
import { parseAttrs, s32 } from '../netlink.js';
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

export function decodeNetconf(data: Buffer): RawNetconf | undefined {
  if (data.length < NETCONFMSG_LEN) return undefined;
  const family = familyName(data[0] as number);
  if (!family) return undefined;
  const m = parseAttrs(data, NETCONFMSG_LEN).map;
  const ifindex = s32(m.get(NETCONFA_IFINDEX));
  if (ifindex === undefined) return undefined;
  const out: RawNetconf = { family, ifindex };
  const fwd = s32(m.get(NETCONFA_FORWARDING));
  if (fwd !== undefined) out.forwarding = fwd !== 0;
  return out;
}
