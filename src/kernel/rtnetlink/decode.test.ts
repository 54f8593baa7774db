import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttrBuilder } from '../netlink.js';
import { decodeAddr } from './addr.js';
import {
  IFLA_IFNAME,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_MTU,
  NETNSA_NSID,
  RTM_GETNSID,
} from './constants.js';
import { bits, ipv6, mac } from './format.js';
import { newIssues } from './issues.js';
import { decodeLink } from './link.js';
import { decodeNeigh } from './neigh.js';
import { buildGetNsid, decodeNsid } from './nsid.js';
import { decodeRoute } from './route.js';
import { decodeRule } from './rule.js';
import { bytes } from './testdata.js';

describe('rtnetlink decoders (messages recorded from Linux 6.18)', () => {
  it('decodes a veth bridge port with its peer netnsid and bridge slave data', () => {
    const l = decodeLink(bytes('link_ve0'));
    assert.ok(l);
    assert.equal(l.name, 've0');
    assert.equal(l.index, 2);
    assert.equal(l.kind, 'veth');
    assert.equal(l.master, 3);
    assert.equal(l.link, 2);
    assert.equal(l.linkNetnsId, 0);
    assert.equal(l.mtu, 1500);
    assert.equal(l.mac, '7a:15:c7:6a:f0:81');
    assert.equal(l.slaveKind, 'bridge');
    assert.ok(l.slaveData && l.slaveData.length > 0);
    assert.equal(l.stats?.rxBytes, 0);
    assert.equal(l.truncated, false);
  });

  it('keeps kind data of bridge, vxlan, macvlan and tun links as bytes for the kind decoders', () => {
    for (const [k, kind] of [
      ['link_br0', 'bridge'],
      ['link_vx0', 'vxlan'],
      ['link_mv0', 'macvlan'],
      ['link_tp0', 'tun'],
    ] as const) {
      const l = decodeLink(bytes(k));
      assert.equal(l?.kind, kind);
      assert.ok(l?.infoData && l.infoData.length > 0, k);
    }
    assert.equal(decodeLink(bytes('link_mv0'))?.link, 6);
  });

  it('flags a link whose attributes are cut short and keeps what it read', () => {
    const b = bytes('link_ve0');
    const l = decodeLink(b.subarray(0, 52));
    assert.equal(l?.truncated, true);
    assert.equal(l?.index, 2);
    assert.equal(decodeLink(b.subarray(0, 8)), undefined);
  });

  it('decodes an address with label and broadcast', () => {
    assert.deepEqual(decodeAddr(bytes('addr_v4')), {
      index: 2,
      family: 'inet',
      address: '10.1.2.1',
      prefixlen: 24,
      scope: 'global',
      flags: ['permanent'],
      truncated: false,
      label: 've0',
      broadcast: '10.1.2.255',
    });
  });

  it('decodes a multipath route and a route in table 1000 with an MTU metric', () => {
    assert.deepEqual(decodeRoute(bytes('route_multipath')), {
      family: 'inet',
      type: 'unicast',
      protocol: 'boot',
      scope: 'global',
      table: 254,
      dst: '10.9.0.0/16',
      flags: ['linkdown'],
      nexthops: [
        { flags: ['linkdown'], weight: 1, dev: 2, gateway: '10.1.2.7' },
        { flags: ['linkdown'], weight: 3, dev: 2, gateway: '10.1.2.8' },
      ],
    });
    const r = decodeRoute(bytes('route_table1000'));
    assert.equal(r?.table, 1000);
    assert.equal(r?.mtu, 1400);
    assert.equal(r?.gateway, '10.1.2.7');
  });

  it('counts a route with a truncated attribute', () => {
    const issues = newIssues();
    const b = bytes('route_table1000');
    decodeRoute(b.subarray(0, b.length - 2), issues);
    assert.equal(issues.truncated, 1);
    assert.equal(decodeRoute(b.subarray(0, 6), issues), undefined);
    assert.equal(issues.malformed, 1);
  });

  it('decodes a policy rule and a permanent neighbour', () => {
    assert.deepEqual(decodeRule(bytes('rule_500')), {
      family: 'inet',
      priority: 500,
      action: 'to_tbl',
      table: 1000,
      invert: false,
      src: '10.1.2.0/24',
      protocol: 'unspec',
    });
    assert.deepEqual(decodeNeigh(bytes('neigh_perm')), {
      family: 'inet',
      dev: 2,
      state: ['permanent'],
      flags: [],
      address: '10.1.2.9',
      mac: '02:00:00:00:00:09',
    });
  });

  it('builds RTM_GETNSID for an fd and reads the nsid answer', () => {
    const req = buildGetNsid(7);
    assert.equal(req.length, 4 + 8);
    assert.equal(req.readUInt16LE(6), 3); // NETNSA_FD
    assert.equal(req.readUInt32LE(8), 7);
    assert.equal(RTM_GETNSID, 90);
    const answer = Buffer.concat([Buffer.alloc(4), new AttrBuilder().s32(NETNSA_NSID, 5).build()]);
    assert.equal(decodeNsid(answer), 5);
    const none = Buffer.concat([Buffer.alloc(4), new AttrBuilder().s32(NETNSA_NSID, -1).build()]);
    assert.equal(decodeNsid(none), -1);
  });

  it('decodes a link built by hand without IFLA_LINK (older kernels omit it for a same-index peer)', () => {
    const hdr = Buffer.alloc(16);
    hdr.writeInt32LE(9, 4);
    const b = Buffer.concat([
      hdr,
      new AttrBuilder().str(IFLA_IFNAME, 'eth0').u32(IFLA_MTU, 9000).s32(IFLA_LINK_NETNSID, 3).build(),
    ]);
    const l = decodeLink(b);
    assert.equal(l?.link, undefined);
    assert.equal(l?.linkNetnsId, 3);
    const withLink = Buffer.concat([b, new AttrBuilder().u32(IFLA_LINK, 0).build()]);
    assert.equal(decodeLink(withLink)?.link, 0);
  });
});

describe('address and flag formatting', () => {
  it('writes IPv6 addresses in RFC 5952 form', () => {
    const v6 = (s: string) => Buffer.from(s.replace(/:/g, ''), 'hex');
    assert.equal(ipv6(v6('2001:0db8:0000:0000:0000:0000:0000:0001')), '2001:db8::1');
    assert.equal(ipv6(v6('2001:0db8:0000:0001:0000:0000:0000:0001')), '2001:db8:0:1::1');
    assert.equal(ipv6(v6('0000:0000:0000:0000:0000:0000:0000:0000')), '::');
    assert.equal(ipv6(v6('fe80:0000:0000:0000:1005:98ff:fe56:dfbe')), 'fe80::1005:98ff:fe56:dfbe');
    assert.equal(ipv6(v6('2001:0db8:0000:0001:0001:0001:0001:0001')), '2001:db8:0:1:1:1:1:1');
    assert.equal(ipv6(v6('0000:0000:0000:0000:0000:ffff:0a01:0203')), '::ffff:10.1.2.3');
  });
  it('names known bits and keeps unknown ones as hex', () => {
    assert.deepEqual(
      bits(0x1 | 0x40 | 0x100000, [
        [0x1, 'up'],
        [0x40, 'running'],
      ]),
      ['up', 'running', '0x100000'],
    );
    assert.equal(mac(Buffer.from([2, 0, 0, 0xab, 0, 9])), '02:00:00:ab:00:09');
    assert.equal(mac(Buffer.alloc(0)), undefined);
  });
});

describe('netconf decoder', () => {
  it('reads the namespace-wide forwarding switch of the "all" entry', async () => {
    const { decodeNetconf } = await import('./netconf.js');
    const msg = (family: number, ifindex: number, fwd: number) =>
      Buffer.concat([Buffer.from([family, 0, 0, 0]), new AttrBuilder().s32(1, ifindex).s32(2, fwd).build()]);
    assert.deepEqual(decodeNetconf(msg(2, -1, 1)), { family: 'inet', ifindex: -1, forwarding: true });
    assert.deepEqual(decodeNetconf(msg(10, 3, 0)), { family: 'inet6', ifindex: 3, forwarding: false });
    assert.equal(decodeNetconf(Buffer.from([2])), undefined);
  });
});
