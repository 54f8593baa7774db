/**
 * One handler per interface kind (IFLA_INFO_KIND): decodes the kind's
 * IFLA_INFO_DATA into the model and says where the kind's relations go once
 * the referenced interface (possibly in another namespace) is resolved.
 */
import type { RawLink } from '../../kernel/rtnetlink/link.js';
import type { Draft, InterfaceRef } from '../../model/types.js';

export interface KindHandler {
  /** IFLA_INFO_KIND values handled. */
  kinds: readonly string[];
  /**
   * The device implements ndo_get_iflink, so IFLA_LINK names its lower device or
   * peer — and the kernel omits IFLA_LINK when that equals the device's own
   * ifindex (rtnl_fill_link_ifindex → nla_put_iflink), which only happens when
   * the lower device lives in another namespace (IFLA_LINK_NETNSID present).
   */
  hasIflink?: boolean;
  /** Fills the kind-specific field from IFLA_INFO_DATA (attributes, may be absent). */
  decode?(iface: Draft.Interface, data: Buffer | undefined, link: RawLink): void;
  /**
   * ifindex of a lower device named in IFLA_INFO_DATA instead of IFLA_LINK (vxlan's
   * IFLA_VXLAN_LINK), in the link namespace (IFLA_LINK_NETNSID, else the own one).
   */
  lower?(data: Buffer | undefined): number | undefined;
  /** Stores the resolved IFLA_LINK device in the kind's field (veth peer, macvlan parent...). */
  onLink?(iface: Draft.Interface, ref: InterfaceRef): void;
  /** Stores the resolved `lower()` device. */
  onLower?(iface: Draft.Interface, ref: InterfaceRef): void;
}
