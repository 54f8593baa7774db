/**
 * RTM_NEWADDR / RTM_DELADDR request payloads (struct ifaddrmsg + IFA_*
 * attributes, include/uapi/linux/if_addr.h), the inverse of decodeAddr().
 * Pure: the caller sends them on a NETLINK_ROUTE socket.
 */
import { AttrBuilder } from '../netlink.js';
import {
  AF_INET,
  AF_INET6,
  IFA_ADDRESS,
  IFA_F_NODAD,
  IFA_FLAGS,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  RT_SCOPE_UNIVERSE,
} from './constants.js';

/**
 * An address (bytes, 4 or 16) with its prefix on interface `index`, scope
 * universe, IFA_LOCAL and IFA_ADDRESS both set (no peer). IPv6 addresses
 * skip duplicate address detection (IFA_F_NODAD), so they are usable at
 * once, not "tentative".
 */
export function addrMsg(index: number, addr: Buffer, prefixlen: number): Buffer {
  const v6 = addr.length === 16;
  const h = Buffer.alloc(IFADDRMSG_LEN);
  h.writeUInt8(v6 ? AF_INET6 : AF_INET, 0);
  h.writeUInt8(prefixlen, 1);
  h.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  h.writeUInt32LE(index, 4);
  const a = new AttrBuilder().raw(IFA_LOCAL, addr).raw(IFA_ADDRESS, addr);
  if (v6) a.u32(IFA_FLAGS, IFA_F_NODAD);
  return Buffer.concat([h, a.build()]);
}
