/**
 * RTM_NEWLINK / RTM_DELLINK request payloads (struct ifinfomsg + IFLA_*
 * attributes, include/uapi/linux/if_link.h, veth.h), the inverse of
 * decodeLink(). Pure: the caller sends them on a NETLINK_ROUTE socket with
 * NLM_F_CREATE|NLM_F_EXCL to create, no flags to change or delete.
 */
import { AttrBuilder } from '../netlink.js';
import {
  AF_UNSPEC,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MACVLAN_MODE,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_VXLAN_GROUP,
  IFLA_VXLAN_GROUP6,
  IFLA_VXLAN_ID,
  IFLA_VXLAN_LINK,
  IFLA_VXLAN_LOCAL,
  IFLA_VXLAN_LOCAL6,
  IFLA_VXLAN_PORT,
  MACVLAN_MODES,
  VETH_INFO_PEER,
} from './constants.js';

/** struct ifinfomsg: family, type, index, flags and the mask of flags to change. */
export function ifinfomsg(index = 0, flags = 0, change = 0, family = AF_UNSPEC): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

const macBytes = (mac: string): Buffer => Buffer.from(mac.split(':').map((h) => Number.parseInt(h, 16)));

/** Common attributes of a new interface. */
export interface NewLinkOpts {
  mtu?: number;
  mac?: string;
  /** Namespace fd to create the device in (else the socket's namespace). */
  nsFd?: number;
}

function common(name: string, o: NewLinkOpts): AttrBuilder {
  const a = new AttrBuilder().str(IFLA_IFNAME, name);
  if (o.mtu !== undefined) a.u32(IFLA_MTU, o.mtu);
  if (o.mac !== undefined) a.raw(IFLA_ADDRESS, macBytes(o.mac));
  if (o.nsFd !== undefined) a.u32(IFLA_NET_NS_FD, o.nsFd);
  return a;
}

const newLink = (a: AttrBuilder): Buffer => Buffer.concat([ifinfomsg(), a.build()]);

/** veth pair: `name` here, `peer` where `po.nsFd` says (VETH_INFO_PEER carries its own ifinfomsg). */
export function vethMsg(name: string, o: NewLinkOpts, peer: string, po: NewLinkOpts): Buffer {
  const data = new AttrBuilder().raw(VETH_INFO_PEER, newLink(common(peer, po)));
  const a = common(name, o);
  a.nested(IFLA_LINKINFO, new AttrBuilder().str(IFLA_INFO_KIND, 'veth').nested(IFLA_INFO_DATA, data));
  return newLink(a);
}

export function bridgeMsg(name: string, o: NewLinkOpts): Buffer {
  const a = common(name, o);
  a.nested(IFLA_LINKINFO, new AttrBuilder().str(IFLA_INFO_KIND, 'bridge'));
  return newLink(a);
}

/** macvlan on `parentIndex` (in the socket's namespace); `mode` a MACVLAN_MODES name (default bridge). */
export function macvlanMsg(name: string, parentIndex: number, mode: string, o: NewLinkOpts): Buffer {
  const a = common(name, o);
  a.u32(IFLA_LINK, parentIndex);
  a.nested(
    IFLA_LINKINFO,
    new AttrBuilder()
      .str(IFLA_INFO_KIND, 'macvlan')
      .nested(IFLA_INFO_DATA, new AttrBuilder().u32(IFLA_MACVLAN_MODE, MACVLAN_MODES[mode] ?? 4)),
  );
  return newLink(a);
}

export interface VxlanSpec {
  vni: number;
  /** Remote or group address bytes (4 or 16). */
  remote?: Buffer;
  local?: Buffer;
  port: number;
  underlayIndex?: number;
}

/** vxlan; its UDP socket lives in the socket's namespace (the kernel keeps vxlan->net). */
export function vxlanMsg(name: string, v: VxlanSpec, o: NewLinkOpts): Buffer {
  const d = new AttrBuilder().u32(IFLA_VXLAN_ID, v.vni).u16be(IFLA_VXLAN_PORT, v.port);
  if (v.remote) d.raw(v.remote.length === 4 ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, v.remote);
  if (v.local) d.raw(v.local.length === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, v.local);
  if (v.underlayIndex !== undefined) d.u32(IFLA_VXLAN_LINK, v.underlayIndex);
  const a = common(name, o);
  a.nested(IFLA_LINKINFO, new AttrBuilder().str(IFLA_INFO_KIND, 'vxlan').nested(IFLA_INFO_DATA, d));
  return newLink(a);
}

export interface LinkChange {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Master ifindex; 0 = no master. */
  master?: number;
  alias?: string;
}

/** RTM_NEWLINK without NLM_F_CREATE on an existing index: changes only the given fields. */
export function setLinkMsg(index: number, s: LinkChange): Buffer {
  const a = new AttrBuilder();
  if (s.mtu !== undefined) a.u32(IFLA_MTU, s.mtu);
  if (s.mac !== undefined) a.raw(IFLA_ADDRESS, macBytes(s.mac));
  if (s.master !== undefined) a.u32(IFLA_MASTER, s.master);
  if (s.alias !== undefined) a.str(IFLA_IFALIAS, s.alias);
  const flags = s.up ? IFF_UP : 0;
  const change = s.up !== undefined ? IFF_UP : 0;
  return Buffer.concat([ifinfomsg(index, flags, change), a.build()]);
}

/** RTM_DELLINK of an index. */
export const delLinkMsg = (index: number): Buffer => ifinfomsg(index);
