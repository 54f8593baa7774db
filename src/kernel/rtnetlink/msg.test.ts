/**
 * Link, address and route requests decode back to what they describe (the
 * decoders discovery uses), so a request and a dump cannot disagree on a
 * field. The lab tests send them to the real kernel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAddr } from './addr.js';
import { addrMsg } from './addr-msg.js';
import { decodeLink, macvlanMode, vxlanInfo } from './link.js';
import { bridgeMsg, macvlanMsg, setLinkMsg, vethMsg, vxlanMsg } from './link-msg.js';
import { decodeRoute } from './route.js';
import { routeMsg } from './route-msg.js';

describe('RTM_NEWLINK payloads', () => {
  it('carry name, MTU, MAC and kind, and a veth peer with its own ifinfomsg', () => {
    const l = decodeLink(vethMsg('a1', { mtu: 1400, mac: '02:00:00:00:00:01' }, 'b1', { nsFd: 7 }));
    assert.equal(l?.name, 'a1');
    assert.equal(l?.mtu, 1400);
    assert.equal(l?.mac, '02:00:00:00:00:01');
    assert.equal(l?.kind, 'veth');
    // VETH_INFO_PEER: a 4-byte attribute header, then the peer's message.
    assert.ok(l?.infoData);
    const peer = decodeLink(l.infoData.subarray(4));
    assert.equal(peer?.name, 'b1');
    assert.equal(decodeLink(bridgeMsg('br0', {}))?.kind, 'bridge');
  });

  it('give macvlan its parent and mode, vxlan its VNI, port, remote and underlay', () => {
    const m = decodeLink(macvlanMsg('mv0', 3, 'vepa', {}));
    assert.equal(m?.link, 3);
    assert.ok(m?.infoData);
    assert.equal(macvlanMode(m.infoData), 2);
    const v = decodeLink(
      vxlanMsg('vx0', { vni: 42, port: 4789, remote: Buffer.from([192, 0, 2, 9]), underlayIndex: 5 }, {}),
    );
    assert.ok(v?.infoData);
    assert.deepEqual(vxlanInfo(v.infoData), { vni: 42, remote: '192.0.2.9', port: 4789, link: 5 });
  });

  it('change only the fields given, with IFF_UP in the change mask when up is', () => {
    const b = setLinkMsg(9, { up: true, alias: 'x' });
    assert.equal(b.readInt32LE(4), 9);
    assert.equal(b.readUInt32LE(8), 1);
    assert.equal(b.readUInt32LE(12), 1);
    const l = decodeLink(b);
    assert.equal(l?.alias, 'x');
    assert.equal(l?.mtu, undefined);
    assert.equal(setLinkMsg(9, { mtu: 1000 }).readUInt32LE(12), 0);
  });
});

describe('RTM_NEWADDR and RTM_NEWROUTE payloads', () => {
  it('an IPv6 address is marked nodad; local and address agree', () => {
    const addr = Buffer.alloc(16);
    addr[0] = 0x20;
    addr[1] = 0x01;
    addr[2] = 0x0d;
    addr[3] = 0xb8;
    addr[15] = 1;
    const a = decodeAddr(addrMsg(4, addr, 64));
    assert.deepEqual(a && { ...a, truncated: undefined }, {
      index: 4,
      family: 'inet6',
      address: '2001:db8::1',
      prefixlen: 64,
      scope: 'global',
      flags: ['nodad'],
      truncated: undefined,
    });
  });

  it('a route goes to a 32-bit table as protocol static; a delete leaves the protocol open', () => {
    const spec = {
      family: 'inet' as const,
      dst: { addr: Buffer.from([10, 2, 0, 0]), len: 16 },
      gateway: Buffer.from([10, 0, 0, 1]),
      oif: 2,
      metric: 50,
      table: 1000,
    };
    const r = decodeRoute(routeMsg(spec, false));
    assert.equal(r?.dst, '10.2.0.0/16');
    assert.equal(r?.gateway, '10.0.0.1');
    assert.equal(r?.dev, 2);
    assert.equal(r?.metric, 50);
    assert.equal(r?.table, 1000);
    assert.equal(r?.protocol, 'static');
    assert.equal(r?.scope, 'global');
    assert.equal(r?.type, 'unicast');
    assert.equal(decodeRoute(routeMsg(spec, true))?.protocol, 'unspec');
    const d = decodeRoute(routeMsg({ family: 'inet6', dst: { addr: Buffer.alloc(16), len: 0 } }, false));
    assert.equal(d?.dst, '::/0');
    assert.equal(d?.scope, 'link');
    assert.equal(d?.table, 254);
  });
});
