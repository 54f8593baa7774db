/** RTM_NEWADDR decoding (struct ifaddrmsg + IFA_* attributes, include/uapi/linux/if_addr.h). */
import { parseAttrs, str, u32 } from '../netlink.js';
import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_CACHEINFO,
  IFA_F_NAMES,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  SCOPES,
} from './constants.js';
import { bits, familyName, ip } from './format.js';

export interface RawAddress {
  index: number;
  family: 'inet' | 'inet6';
  address: string;
  prefixlen: number;
  scope: string;
  flags: string[];
  label?: string;
  local?: string;
  broadcast?: string;
  validLifetime?: number;
  preferredLifetime?: number;
  truncated: boolean;
}

/** INFINITY_LIFE_TIME (include/net/addrconf.h): "forever". */
const FOREVER = 0xffffffff;

export function decodeAddr(data: Buffer): RawAddress | undefined {
  if (data.length < IFADDRMSG_LEN) return undefined;
  const family = familyName(data[0] as number);
  if (!family) return undefined;
  const a = parseAttrs(data, IFADDRMSG_LEN);
  const m = a.map;
  // IFA_ADDRESS is the peer on point-to-point links and equals IFA_LOCAL otherwise (if_addr.h).
  const address = ip(m.get(IFA_ADDRESS)) ?? ip(m.get(IFA_LOCAL));
  if (address === undefined) return undefined;
  const scopeNum = data[3] as number;
  // IFA_FLAGS (u32) supersedes the 8-bit ifa_flags when present.
  const flags = u32(m.get(IFA_FLAGS)) ?? (data[2] as number);
  const out: RawAddress = {
    index: data.readUInt32LE(4),
    family,
    address,
    prefixlen: data[1] as number,
    scope: SCOPES[scopeNum] ?? String(scopeNum),
    flags: bits(flags, IFA_F_NAMES),
    truncated: a.truncated,
  };
  const local = ip(m.get(IFA_LOCAL));
  if (local !== undefined && local !== address) out.local = local;
  const label = str(m.get(IFA_LABEL));
  if (label) out.label = label;
  const brd = ip(m.get(IFA_BROADCAST));
  if (brd) out.broadcast = brd;
  // struct ifa_cacheinfo { __u32 ifa_prefered; __u32 ifa_valid; __u32 cstamp; __u32 tstamp; }
  const ci = m.get(IFA_CACHEINFO);
  if (ci && ci.length >= 8) {
    const pref = ci.readUInt32LE(0);
    const valid = ci.readUInt32LE(4);
    if (valid !== FOREVER) out.validLifetime = valid;
    if (pref !== FOREVER) out.preferredLifetime = pref;
  }
  return out;
}
