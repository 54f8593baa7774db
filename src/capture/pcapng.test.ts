import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  epbSize,
  interfaceDescription,
  interfaceStatistics,
  nsHalves,
  sectionHeader,
  writeEpb,
} from './pcapng.js';
import { PcapngError, readPcapng } from './read.js';
import { tshark } from './testing/fixtures.js';

function packet(
  ifid: number,
  sec: number,
  nsec: number,
  data: Buffer,
  insert?: Buffer,
  insertAt = 0,
): Buffer {
  const out = Buffer.alloc(epbSize(data.length + (insert?.length ?? 0)));
  const end = writeEpb(out, 0, ifid, sec, nsec, data, 0, data.length, data.length, insert, insertAt);
  assert.equal(end, out.length);
  return out;
}

/** An Ethernet frame carrying an IPv4 UDP datagram from 10.0.0.1:1000 to 10.0.0.2:2000. */
function udpFrame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const eth = Buffer.from('02000000000202000000000108004500', 'hex');
  const ip = Buffer.alloc(18); // the IPv4 header after its first two bytes (in eth)
  ip.writeUInt16BE(20 + 8 + body.length, 0);
  ip.writeUInt8(64, 6);
  ip.writeUInt8(17, 7);
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(ip, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(1000, 0);
  udp.writeUInt16BE(2000, 2);
  udp.writeUInt16BE(8 + body.length, 4);
  return Buffer.concat([eth, ip, udp, body]);
}

describe('pcapng blocks', () => {
  it('writes nanosecond timestamps exactly, beyond 2^53 ns', () => {
    for (const [sec, nsec] of [
      [0, 0],
      [1, 999_999_999],
      [1_764_900_000, 123_456_789],
      [4_294_967_295, 999_999_999],
    ] as const) {
      const [hi, lo] = nsHalves(sec, nsec);
      assert.equal((BigInt(hi) << 32n) | BigInt(lo), BigInt(sec) * 1_000_000_000n + BigInt(nsec));
    }
  });

  it('reads back what it writes: section comment, interfaces, packets with inserted bytes, statistics', () => {
    const frame = udpFrame('abc');
    const tag = Buffer.from([0x81, 0x00, 0x00, 0x05]);
    const stream = Buffer.concat([
      sectionHeader({ comment: 'targets: [a]', os: 'Linux', application: 'wirescope test' }),
      interfaceDescription({ linktype: 1, snaplen: 262144, name: '4026531840/host:eth0', filter: 'udp' }),
      interfaceDescription({
        linktype: 1,
        snaplen: 65535,
        name: '4026532000/web:eth1',
        description: 'a veth',
      }),
      packet(0, 1_764_900_000, 5, frame),
      packet(1, 1_764_900_001, 6, frame, tag, 12),
      interfaceStatistics(0, { endNs: nsHalves(1_764_900_002, 0), received: 2, kernelDrops: 1, ownDrops: 3 }),
      interfaceStatistics(1, {
        endNs: nsHalves(1_764_900_002, 0),
        received: 1,
        kernelDrops: 0,
        ownDrops: 0,
        comment: 'capture ended on this interface: gone',
      }),
    ]);
    const f = readPcapng(stream);
    assert.deepEqual(f.sections, [{ comment: 'targets: [a]', os: 'Linux', application: 'wirescope test' }]);
    assert.deepEqual(
      f.interfaces.map((i) => [i.linktype, i.name, i.tsresol, i.filter, i.description]),
      [
        [1, '4026531840/host:eth0', 9, 'udp', undefined],
        [1, '4026532000/web:eth1', 9, undefined, 'a veth'],
      ],
    );
    assert.equal(f.packets[0]?.ts, 1_764_900_000_000_000_005n);
    assert.deepEqual(f.packets[0]?.data, frame);
    assert.deepEqual(f.packets[1]?.data, Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]));
    assert.equal(f.packets[1]?.origlen, frame.length + 4);
    assert.deepEqual(
      f.stats.map((s) => [s.ifid, s.ifrecv, s.ifdrop, s.osdrop, s.comment]),
      [
        [0, 2n, 1n, 3n, undefined],
        [1, 1n, 0n, 0n, 'capture ended on this interface: gone'],
      ],
    );

    // Debian's tshark reads the same bytes: both interfaces by name, the tagged frame as VLAN 5.
    const rows = tshark(stream, ['udp.dstport', 'vlan.id']);
    assert.deepEqual(
      rows.map((r) => [r.iface, ...r.fields]),
      [
        ['4026531840/host:eth0', '2000', ''],
        ['4026532000/web:eth1', '2000', '5'],
      ],
    );
  });

  it('reports a stream cut mid-block as trailing bytes, and refuses garbage in one line', () => {
    const stream = Buffer.concat([
      sectionHeader({}),
      interfaceDescription({ linktype: 1, snaplen: 100, name: 'x' }),
      packet(0, 1, 2, udpFrame('x')),
    ]);
    const f = readPcapng(stream.subarray(0, stream.length - 5));
    assert.equal(f.packets.length, 0);
    assert.ok(f.trailing > 0);
    assert.throws(() => readPcapng(Buffer.from('not a pcapng file at all')), PcapngError);
    const bad = Buffer.from(stream);
    bad.writeUInt32LE(7, bad.length - epbSize(udpFrame('x').length) + 8); // interface 7 was never described
    assert.throws(() => readPcapng(bad), /names interface 7/);
  });
});
