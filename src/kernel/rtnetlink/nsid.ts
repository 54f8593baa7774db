/**
 * RTM_GETNSID (include/uapi/linux/net_namespace.h, net/core/net_namespace.c rtnl_net_getid):
 * asks the namespace a NETLINK_ROUTE socket lives in which nsid it assigned to
 * the namespace behind an fd. The answer is RTM_NEWNSID with NETNSA_NSID, -1 when
 * none is assigned (a GET never allocates one).
 */
import { AttrBuilder, parseAttrs } from '../netlink.js';
import { NETNSA_FD, NETNSA_NSID, RTGENMSG_LEN } from './constants.js';

/** Payload of RTM_GETNSID for a target namespace fd: struct rtgenmsg (AF_UNSPEC, padded) + NETNSA_FD. */
export function buildGetNsid(fd: number): Buffer {
  return Buffer.concat([Buffer.alloc(RTGENMSG_LEN), new AttrBuilder().u32(NETNSA_FD, fd).build()]);
}

/** NETNSA_NSID of an RTM_NEWNSID payload (s32; -1 = not assigned), undefined if absent. */
export function decodeNsid(data: Buffer): number | undefined {
  if (data.length < RTGENMSG_LEN) return undefined;
  const v = parseAttrs(data, RTGENMSG_LEN).map.get(NETNSA_NSID);
  return v && v.length >= 4 ? v.readInt32LE(0) : undefined;
}
