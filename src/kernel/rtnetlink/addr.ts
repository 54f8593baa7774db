/** RTM_NEWADDR decoding (struct ifaddrmsg + IFA_* attributes, include/uapi/linux/if_addr.h). */
import { NLA_TYPE_MASK, str } from '../netlink.js';
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
import { bits, familyName, ipAt } from './format.js';

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
  let address: string | undefined;
  let local: string | undefined;
  let flags = data[2] as number;
  let truncated = false;
  let label: string | undefined;
  let broadcast: string | undefined;
  let pref: number | undefined;
  let valid: number | undefined;
  const n = data.length;
  let off = IFADDRMSG_LEN;
  while (off + 4 <= n) {
    const len = data.readUInt16LE(off);
    if (len < 4 || off + len > n) {
      truncated = true;
      break;
    }
    const type = data.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    const v = off + 4;
    const vlen = len - 4;
    switch (type) {
      case IFA_ADDRESS:
        address = ipAt(data, v, vlen);
        break;
      case IFA_LOCAL:
        local = ipAt(data, v, vlen);
        break;
      case IFA_LABEL:
        label = str(data.subarray(v, v + vlen));
        break;
      case IFA_BROADCAST:
        broadcast = ipAt(data, v, vlen);
        break;
      case IFA_FLAGS:
        // IFA_FLAGS (u32) supersedes the 8-bit ifa_flags.
        if (vlen >= 4) flags = data.readUInt32LE(v);
        break;
      case IFA_CACHEINFO:
        // struct ifa_cacheinfo { __u32 ifa_prefered; __u32 ifa_valid; __u32 cstamp; __u32 tstamp; }
        if (vlen >= 8) {
          pref = data.readUInt32LE(v);
          valid = data.readUInt32LE(v + 4);
        }
        break;
    }
    off += (len + 3) & ~3;
  }
  // IFA_ADDRESS is the peer on point-to-point links and equals IFA_LOCAL otherwise (if_addr.h).
  address ??= local;
  if (address === undefined) return undefined;
  const scopeNum = data[3] as number;
  const out: RawAddress = {
    index: data.readUInt32LE(4),
    family,
    address,
    prefixlen: data[1] as number,
    scope: SCOPES[scopeNum] ?? String(scopeNum),
    flags: bits(flags, IFA_F_NAMES),
    truncated,
  };
  if (local !== undefined && local !== address) out.local = local;
  if (label) out.label = label;
  if (broadcast) out.broadcast = broadcast;
  if (valid !== undefined && valid !== FOREVER) out.validLifetime = valid;
  if (pref !== undefined && pref !== FOREVER) out.preferredLifetime = pref;
  return out;
}
