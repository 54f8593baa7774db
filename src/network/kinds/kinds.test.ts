/**
 * Kind decoders over IFLA_INFO_DATA. bridge, vxlan, macvlan and tun come from
 * messages recorded on Linux 6.18; vlan, bond, dummy, geneve and ipvlan are
 * not built into this kernel, so their messages are built by hand from the
 * uapi headers (include/uapi/linux/if_link.h enums IFLA_VLAN_*, IFLA_BOND_*,
 * IFLA_GENEVE_*, IFLA_IPVLAN_*; values as the kernel's fill_info puts them).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttrBuilder } from '../../kernel/netlink.js';
import { decodeLink } from '../../kernel/rtnetlink/link.js';
import { bytes } from '../../kernel/rtnetlink/testdata.js';
import { buildInterface, iflinkIndex } from '../dump.js';
import { kindHandler } from './index.js';

const IFLA_IFNAME = 3;
const IFLA_LINK = 5;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;

/** struct ifinfomsg (ARPHRD_ETHER, index) + IFLA_IFNAME + IFLA_LINK + IFLA_LINKINFO{KIND, DATA}. */
function linkMsg(
  index: number,
  name: string,
  kind: string,
  data: AttrBuilder | undefined,
  lower?: number,
): Buffer {
  const hdr = Buffer.alloc(16);
  hdr.writeUInt16LE(1, 2);
  hdr.writeInt32LE(index, 4);
  const info = new AttrBuilder().str(IFLA_INFO_KIND, kind);
  if (data) info.nested(IFLA_INFO_DATA, data);
  const attrs = new AttrBuilder().str(IFLA_IFNAME, name);
  if (lower !== undefined) attrs.u32(IFLA_LINK, lower);
  attrs.nested(IFLA_LINKINFO, info);
  return Buffer.concat([hdr, attrs.build()]);
}

const build = (b: Buffer) => {
  const raw = decodeLink(b);
  assert.ok(raw);
  return { raw, iface: buildInterface(7, raw, false) };
};

describe('interface kinds', () => {
  it('bridge (recorded): STP on, no VLAN filtering, times in 1/100 s', () => {
    const { iface } = build(bytes('link_br0'));
    assert.equal(iface.kind, 'bridge');
    // This kernel lacks CONFIG_BRIDGE_VLAN_FILTERING, so no IFLA_BR_VLAN_PROTOCOL / _DEFAULT_PVID.
    assert.deepEqual(iface.bridge, {
      stp: true,
      vlanFiltering: false,
      forwardDelay: 1500,
      ageingTime: 30000,
    });
  });

  it('bridge (hand-built): VLAN filtering, protocol and default PVID', () => {
    // IFLA_BR_STP_STATE = 5 (u32), VLAN_FILTERING = 7 (u8), VLAN_PROTOCOL = 8 (__be16), VLAN_DEFAULT_PVID = 39 (u16)
    const data = new AttrBuilder().u32(5, 0).u8(7, 1).u16be(8, 0x88a8).u16(39, 10);
    assert.deepEqual(build(linkMsg(3, 'br1', 'bridge', data)).iface.bridge, {
      stp: false,
      vlanFiltering: true,
      vlanProtocol: '802.1ad',
      defaultPvid: 10,
    });
  });

  it('bridge port (recorded): port state, cost and priority from the slave data', () => {
    const { iface } = build(bytes('link_ve0'));
    assert.equal(iface.kind, 'veth');
    assert.deepEqual(iface.veth, {});
    assert.deepEqual(iface.bridgePort, { state: 'disabled', cost: 2, priority: 32 });
  });

  it('vxlan (recorded): VNI, remote, local, port, TTL and the underlay ifindex', () => {
    const { raw, iface } = build(bytes('link_vx0'));
    assert.deepEqual(iface.vxlan, {
      vni: 4242,
      remote: '10.1.2.3',
      local: '10.1.2.1',
      port: 4789,
      ttl: 16,
      learning: true,
    });
    assert.equal(kindHandler('vxlan')?.lower?.(decodeLink(bytes('link_vx0'))?.infoData), 2);
    assert.equal(raw.link, undefined, 'a vxlan has no IFLA_LINK');
  });

  it('macvlan (recorded) and tap (recorded)', () => {
    assert.deepEqual(build(bytes('link_mv0')).iface.macvlan, { mode: 'bridge', macvtap: false });
    const tap = build(bytes('link_tp0')).iface;
    assert.equal(tap.kind, 'tun');
    assert.deepEqual(tap.tuntap, { mode: 'tap', flags: ['persist'], holders: [] });
  });

  it('vlan (hand-built): id and protocol, parent from IFLA_LINK', () => {
    // IFLA_VLAN_ID = 1 (u16), IFLA_VLAN_PROTOCOL = 5 (__be16, ETH_P_8021AD = 0x88a8)
    const { raw, iface } = build(
      linkMsg(5, 'eth0.100', 'vlan', new AttrBuilder().u16(1, 100).u16be(5, 0x88a8), 2),
    );
    assert.deepEqual(iface.vlan, { id: 100, protocol: '802.1ad' });
    assert.equal(iflinkIndex(raw, kindHandler('vlan')?.hasIflink === true), 2);
    const q = build(linkMsg(6, 'eth0.7', 'vlan', new AttrBuilder().u16(1, 7).u16be(5, 0x8100), 2)).iface;
    assert.deepEqual(q.vlan, { id: 7, protocol: '802.1Q' });
  });

  it('bond (hand-built): mode, miimon, active slave in the same namespace', () => {
    // IFLA_BOND_MODE = 1 (u8, BOND_MODE_ACTIVEBACKUP = 1), ACTIVE_SLAVE = 2 (u32), MIIMON = 3 (u32)
    const { iface } = build(linkMsg(8, 'bond0', 'bond', new AttrBuilder().u8(1, 1).u32(2, 3).u32(3, 100)));
    assert.deepEqual(iface.bond, { mode: 'active-backup', miimon: 100, activeSlave: { netns: 7, index: 3 } });
    assert.equal(build(linkMsg(8, 'bond1', 'bond', new AttrBuilder().u8(1, 4))).iface.bond?.mode, '802.3ad');
  });

  it('dummy (hand-built): no kind data, kind kept', () => {
    const { iface } = build(linkMsg(9, 'dummy0', 'dummy', undefined));
    assert.equal(iface.kind, 'dummy');
    assert.equal(iface.link, undefined);
  });

  it('geneve (hand-built): VNI, remote, port, TTL', () => {
    // IFLA_GENEVE_ID = 1 (u32), REMOTE = 2 (in_addr), TTL = 3 (u8), PORT = 5 (__be16)
    const data = new AttrBuilder()
      .u32(1, 5000)
      .raw(2, Buffer.from([192, 0, 2, 9]))
      .u8(3, 64)
      .u16be(5, 6081);
    assert.deepEqual(build(linkMsg(10, 'gnv0', 'geneve', data)).iface.geneve, {
      vni: 5000,
      remote: '192.0.2.9',
      port: 6081,
      ttl: 64,
    });
    // IFLA_GENEVE_REMOTE6 = 7
    const v6 = new AttrBuilder().u32(1, 1).raw(7, Buffer.from('20010db8000000000000000000000001', 'hex'));
    assert.equal(build(linkMsg(11, 'gnv1', 'geneve', v6)).iface.geneve?.remote, '2001:db8::1');
  });

  it('ipvlan (hand-built): mode and flags, parent from IFLA_LINK', () => {
    // IFLA_IPVLAN_MODE = 1 (u16, IPVLAN_MODE_L3 = 1), IFLA_IPVLAN_FLAGS = 2 (u16, IPVLAN_F_PRIVATE = 1)
    const { raw, iface } = build(linkMsg(12, 'ipvl0', 'ipvlan', new AttrBuilder().u16(1, 1).u16(2, 1), 4));
    assert.deepEqual(iface.ipvlan, { mode: 'l3', flags: ['private'] });
    assert.equal(iflinkIndex(raw, true), 4);
    assert.deepEqual(build(linkMsg(13, 'ipvl1', 'ipvlan', new AttrBuilder().u16(1, 0))).iface.ipvlan, {
      mode: 'l2',
      flags: ['bridge'],
    });
  });

  it('gre and ipip tunnels (hand-built): endpoints, TTL, keys; underlay from IFLA_LINK', () => {
    // IFLA_GRE_IKEY = 4 / OKEY = 5 (__be32), LOCAL = 6, REMOTE = 7 (in_addr), TTL = 8 (u8)
    const gre = new AttrBuilder()
      .u32be(4, 77)
      .u32be(5, 78)
      .raw(6, Buffer.from([192, 0, 2, 1]))
      .raw(7, Buffer.from([198, 51, 100, 2]))
      .u8(8, 64);
    const { raw, iface } = build(linkMsg(20, 'gre1', 'gretap', gre, 4));
    assert.deepEqual(iface.tunnel, {
      type: 'gretap',
      local: '192.0.2.1',
      remote: '198.51.100.2',
      ttl: 64,
      ikey: 77,
      okey: 78,
    });
    assert.equal(iflinkIndex(raw, kindHandler('gretap')?.hasIflink === true), 4);
    // IFLA_IPTUN_LOCAL = 2, REMOTE = 3, TTL = 4
    const ipip = new AttrBuilder()
      .raw(2, Buffer.from([10, 0, 0, 1]))
      .raw(3, Buffer.from([10, 0, 0, 2]))
      .u8(4, 0);
    assert.deepEqual(build(linkMsg(21, 'tun0', 'ipip', ipip)).iface.tunnel, {
      type: 'ipip',
      local: '10.0.0.1',
      remote: '10.0.0.2',
      ttl: 0,
    });
  });

  it('vrf (hand-built): its routing table', () => {
    // IFLA_VRF_TABLE = 1 (u32)
    assert.deepEqual(build(linkMsg(22, 'vrf-blue', 'vrf', new AttrBuilder().u32(1, 1001))).iface.vrf, {
      table: 1001,
    });
  });

  it('keeps an unknown kind as its kind string', () => {
    const { iface } = build(linkMsg(14, 'x0', 'frobnicator', new AttrBuilder().u32(1, 1)));
    assert.equal(iface.kind, 'frobnicator');
  });

  it('resolves the same-index peer that older kernels leave out of IFLA_LINK', () => {
    const raw = decodeLink(bytes('link_ve0'));
    assert.ok(raw);
    assert.equal(iflinkIndex(raw, true), 2);
    const old = { ...raw, link: undefined };
    assert.equal(iflinkIndex(old, true), raw.index, 'peer at the own ifindex in the link namespace');
    assert.equal(iflinkIndex({ ...old, linkNetnsId: undefined }, true), undefined);
    assert.equal(iflinkIndex(old, false), undefined, 'a vxlan-like device without ndo_get_iflink');
    assert.equal(iflinkIndex({ ...raw, link: 0 }, true), undefined, 'peer gone');
  });
});
