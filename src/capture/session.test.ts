import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { FilterSyntaxError } from './filter.js';
import { type PcapngPacket, readPcapng } from './read.js';
import { startCapture } from './session.js';
import {
  bufferSink,
  buildLan,
  captureDuring,
  countByInterface,
  type Lan,
  ping,
  specOf,
  targetsOf,
  tcpExchange,
  tshark,
  tunWithReader,
} from './testing/fixtures.js';

/** An IPv4 ICMP echo request (type 8) in an Ethernet frame from `src`. */
function isEchoRequest(p: PcapngPacket, src: string): boolean {
  const d = p.data;
  return (
    d.length >= 42 &&
    d.readUInt16BE(12) === 0x0800 &&
    d[23] === 1 &&
    d[34] === 8 &&
    [...d.subarray(26, 30)].join('.') === src
  );
}

function promiscuity(ns: string, ifname: string): number {
  const j = JSON.parse(ip('-n', ns, '-d', '-j', 'link', 'show', 'dev', ifname)) as { promiscuity: number }[];
  return j[0]?.promiscuity ?? -1;
}

describe('capture session on the real kernel', () => {
  let lan: Lan;
  let a: string;
  let b: string;
  before(() => {
    lan = buildLan();
    a = lan.add('a', 2);
    b = lan.add('b', 3);
  });
  after(() => lan.destroy());

  it('captures a ping through a bridge from two namespaces in one stream that tshark reads', async () => {
    const specs = [specOf(a, 'eth0'), specOf(b, 'eth0')];
    const start = BigInt(Date.now()) * 1_000_000n;
    const { summary, bytes } = await captureDuring(targetsOf(specs), {}, () => ping(a, `${lan.net}.3`, 5));
    const end = BigInt(Date.now()) * 1_000_000n;
    assert.equal(summary.interfaces, 2);

    const f = readPcapng(bytes);
    assert.equal(f.sections.length, 1);
    assert.match(f.sections[0]?.comment ?? '', new RegExp(`netns: ${specs[0]?.netns}`));
    assert.deepEqual(
      f.interfaces.map((i) => [i.name, i.linktype, i.tsresol]),
      specs.map((s) => [s.label, 1, 9]),
    );
    for (const ifid of [0, 1]) {
      const echo = f.packets.filter((p) => p.ifid === ifid && isEchoRequest(p, `${lan.net}.2`));
      assert.equal(echo.length, 5, `echo requests on ${f.interfaces[ifid]?.name}`);
      for (const p of echo) assert.ok(p.ts >= start && p.ts <= end, `timestamp ${p.ts} in nanoseconds`);
    }
    // The interface statistics close the stream, one per interface, counting at least what was delivered.
    assert.deepEqual(f.stats.map((s) => s.ifid).sort(), [0, 1]);
    for (const s of f.stats)
      assert.ok((s.ifrecv ?? 0n) >= BigInt(f.packets.filter((p) => p.ifid === s.ifid).length));
    assert.equal(f.trailing, 0);

    const rows = tshark(bytes, ['ip.src'], `icmp.type == 8 && ip.src == ${lan.net}.2`);
    assert.deepEqual(countByInterface(rows), { [specs[0]?.label ?? '']: 5, [specs[1]?.label ?? '']: 5 });
  });

  it('captures over a vxlan: the inner frames on the vxlan device, the same frames encapsulated on its underlay', async () => {
    // An overlay between a and b across the bridge (the underlay), with a random VNI and subnet.
    const vni = String(1000 + Math.floor(Math.random() * 1_000_000));
    const over = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
    for (const [ns, me, peer] of [
      [a, 2, 3],
      [b, 3, 2],
    ] as const) {
      ip(
        '-n',
        ns,
        'link',
        'add',
        'vx0',
        'type',
        'vxlan',
        'id',
        vni,
        'remote',
        `${lan.net}.${peer}`,
        'local',
        `${lan.net}.${me}`,
        'dev',
        'eth0',
        'dstport',
        '4789',
      );
    }
    try {
      for (const [ns, me] of [
        [a, 1],
        [b, 2],
      ] as const) {
        ip('-n', ns, 'addr', 'add', `${over}.${me}/24`, 'dev', 'vx0');
        ip('-n', ns, 'link', 'set', 'vx0', 'up');
      }
      const specs = [specOf(a, 'vx0'), specOf(a, 'eth0')];
      const { bytes } = await captureDuring(targetsOf(specs), {}, () => ping(a, `${over}.2`, 4));
      const inner = tshark(bytes, ['ip.src'], `icmp.type == 8 && ip.src == ${over}.1 && !vxlan`);
      assert.deepEqual(countByInterface(inner), { [specs[0]?.label ?? '']: 4 }, 'inner frames on vx0');
      const outer = tshark(bytes, ['vxlan.vni'], `vxlan && icmp.type == 8 && ip.src == ${over}.1`);
      assert.deepEqual(countByInterface(outer), { [specs[1]?.label ?? '']: 4 }, 'encapsulated on eth0');
      assert.ok(
        outer.every((r) => r.fields[0] === vni),
        `VNI ${vni} on the wire`,
      );
    } finally {
      for (const ns of [a, b]) {
        try {
          ip('-n', ns, 'link', 'del', 'vx0');
        } catch {
          // never made
        }
      }
    }
  });

  it('applies a pcap-filter expression in the kernel: only the TCP exchange passes "tcp port N"', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const { bytes } = await captureDuring(
      targetsOf([specOf(a, 'eth0')]),
      { filter: `tcp port ${port}` },
      async () => {
        await ping(a, `${lan.net}.3`, 2);
        await tcpExchange(b, a, `${lan.net}.3`, port);
      },
    );
    const f = readPcapng(bytes);
    assert.equal(f.interfaces[0]?.filter, `tcp port ${port}`);
    const all = tshark(bytes, ['tcp.srcport', 'tcp.dstport', 'icmp.type']);
    assert.ok(all.length >= 6, `a handshake, data and a close: ${all.length} packets`);
    for (const r of all) {
      assert.equal(r.fields[2], '', 'no ICMP passes the filter');
      assert.ok(r.fields[0] === String(port) || r.fields[1] === String(port), `port ${port} in ${r.fields}`);
    }
    const data = tshark(bytes, ['tcp.payload'], 'tcp.len > 0');
    assert.ok(
      data.some(
        (r) => Buffer.from(r.fields[0]?.replaceAll(':', '') ?? '', 'hex').toString() === 'hello wirescope',
      ),
      'the payload is captured whole',
    );
  });

  it('puts the interface into promiscuous mode for the capture only, and not at all when chaste', async () => {
    assert.equal(promiscuity(a, 'eth0'), 0);
    for (const chaste of [false, true]) {
      await captureDuring(targetsOf([specOf(a, 'eth0')]), { promiscuous: !chaste }, async () => {
        assert.equal(promiscuity(a, 'eth0'), chaste ? 0 : 1, chaste ? 'chaste' : 'promiscuous');
      });
      // A packet membership, not IFF_PROMISC: closing the socket gives it back.
      assert.equal(promiscuity(a, 'eth0'), 0);
    }
  });

  it('ends the part of a namespace deleted mid-capture with a comment and releases it; the rest goes on', async () => {
    const c = lan.add('c', 4);
    const specs = [specOf(a, 'eth0'), specOf(c, 'eth0')];
    const warnings: string[] = [];
    const { summary, bytes } = await captureDuring(
      targetsOf(specs),
      { livenessMs: 100, onWarning: (m) => warnings.push(m) },
      async () => {
        await ping(c, `${lan.net}.2`, 2);
        ip('netns', 'del', c);
        // Only the capture's socket keeps c alive now: once it lets go, the kernel dismantles c
        // and its veth, whose other end is the switch's port pc.
        await eventually(
          'the switch port pc to go with namespace c',
          () => {
            try {
              ip('-n', lan.sw, 'link', 'show', 'pc');
              return false;
            } catch {
              return true;
            }
          },
          { timeoutMs: 10_000, intervalMs: 50 },
        );
        await ping(a, `${lan.net}.3`, 3);
      },
    );
    assert.equal(summary.interfaces, 2);
    const f = readPcapng(bytes);
    const gone = f.stats.find((s) => s.ifid === 1);
    assert.match(gone?.comment ?? '', new RegExp(`network namespace ${specs[1]?.netns} \\(.*c\\) is gone`));
    assert.ok(warnings.some((w) => w.includes('is gone')));
    assert.equal(f.packets.filter((p) => p.ifid === 1 && isEchoRequest(p, `${lan.net}.4`)).length, 2);
    // a's part went on: its pings after c was gone are there, and it ended normally.
    assert.equal(f.packets.filter((p) => p.ifid === 0 && isEchoRequest(p, `${lan.net}.2`)).length, 3);
    assert.equal(f.stats.find((s) => s.ifid === 0)?.comment, undefined);
    assert.equal(tshark(bytes, ['ip.src'], 'icmp.type == 8').length, 2 * 2 + 3);
  });

  it('ends an interface deleted mid-capture, and with it a capture that has no other', async () => {
    ip('-n', a, 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'y0');
    ip('-n', a, 'link', 'set', 'x0', 'up');
    const sink = bufferSink();
    const h = startCapture(targetsOf([specOf(a, 'x0')]), sink, {});
    await h.ready;
    ip('-n', a, 'link', 'del', 'x0');
    const summary = await h.done;
    assert.equal(summary.interfaces, 1);
    const f = readPcapng(sink.bytes());
    assert.match(f.stats[0]?.comment ?? '', /interface x0 went away/);
  });

  it('keeps capturing an interface that goes down and up again', async () => {
    ip('-n', a, 'link', 'add', 'x1', 'type', 'veth', 'peer', 'name', 'y1');
    try {
      const sink = bufferSink();
      const h = startCapture(targetsOf([specOf(a, 'x1')]), sink, { maxPackets: 1 });
      try {
        await h.ready;
        ip('-n', a, 'link', 'set', 'x1', 'up');
        ip('-n', a, 'link', 'set', 'x1', 'down');
        ip('-n', a, 'link', 'set', 'y1', 'up');
        ip('-n', a, 'link', 'set', 'x1', 'up');
        // Once up, the device sends IPv6 router solicitations and MLD reports: the first ends the capture.
        await Promise.race([
          h.done,
          eventually('a packet', () => false, { timeoutMs: 15_000, intervalMs: 50 }),
        ]);
      } finally {
        h.stop();
      }
      const summary = await h.done;
      assert.equal(summary.packets, 1);
      const f = readPcapng(sink.bytes());
      assert.equal(f.packets.length, 1);
      assert.equal(f.stats[0]?.comment, undefined);
    } finally {
      ip('-n', a, 'link', 'del', 'x1');
    }
  });

  it('drops and counts what a slow reader cannot take, in the statistics block', async () => {
    const { summary, bytes } = await captureDuring(
      targetsOf([specOf(a, 'eth0')]),
      { maxBacklog: 1 << 20 },
      () => ping(a, `${lan.net}.3`, 3),
      bufferSink(1 << 30),
    );
    const f = readPcapng(bytes);
    assert.equal(f.packets.length, 0);
    assert.ok(summary.ownDrops >= 6, `own drops ${summary.ownDrops}`);
    assert.equal(f.stats[0]?.osdrop, BigInt(summary.ownDrops));
  });

  it('refuses a filter libpcap cannot compile before opening anything', () => {
    assert.throws(
      () => startCapture(targetsOf([specOf(a, 'eth0')]), bufferSink(), { filter: 'tcp port' }),
      (e: Error) => e instanceof FilterSyntaxError && /tcp port/.test(e.message) && !e.message.includes('\n'),
    );
  });

  it('captures a device without a link-layer header (tun) as Linux cooked packets, filtered too', async () => {
    const holder = await tunWithReader(a, 'tun0');
    try {
      ip('-n', a, 'addr', 'add', '192.168.77.1/24', 'dev', 'tun0');
      ip('-n', a, 'link', 'set', 'tun0', 'up');
      const { bytes } = await captureDuring(targetsOf([specOf(a, 'tun0')]), { filter: 'icmp' }, async () => {
        // Nobody answers behind the tun: the requests go out, ping fails.
        await ping(a, '192.168.77.2', 3).catch(() => undefined);
      });
      const f = readPcapng(bytes);
      assert.equal(f.interfaces[0]?.linktype, 113, 'LINKTYPE_LINUX_SLL');
      const rows = tshark(bytes, ['sll.pkttype', 'ip.dst', 'icmp.type']);
      assert.equal(rows.length, 3, 'the raw-IP filter passed the echo requests and nothing else');
      for (const r of rows) assert.deepEqual(r.fields, ['4', '192.168.77.2', '8']);
    } finally {
      holder.kill();
    }
  });
});
