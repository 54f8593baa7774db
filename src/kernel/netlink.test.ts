import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { poll } from '../testing/eventually.js';
import { ip, ipBatch, netnsAdd, netnsDelete } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { ECONNREFUSED, SyscallError, sendto } from './libc.js';
import {
  AF_NETLINK,
  AttrBuilder,
  buildMessage,
  NETLINK_ROUTE,
  NetlinkDumpLimitError,
  NetlinkError,
  NetlinkSocket,
  NLM_F_MULTI,
  parseAttrList,
  parseAttrs,
  parseMessages,
  str,
  u32,
} from './netlink.js';
import { withNetns } from './netns.js';

const RTM_GETLINK = 18;
const RTM_NEWLINK = 16;
const IFLA_IFNAME = 3;
const ifinfomsg = () => Buffer.alloc(16);
const RTMGRP_LINK = 1;

/** A struct sockaddr_nl naming a port id and/or groups. */
function nlAddr(portid: number, groups = 0): Buffer {
  const sa = Buffer.alloc(12);
  sa.writeUInt16LE(AF_NETLINK, 0);
  sa.writeUInt32LE(portid, 4);
  sa.writeUInt32LE(groups, 8);
  return sa;
}

/** An RTM_NEWLINK for an interface that does not exist, as a dump part or a notification. */
function forgedLink(name: string, seq: number, flags: number): Buffer {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(0x7ffff000, 4);
  return buildMessage(
    RTM_NEWLINK,
    flags,
    seq,
    Buffer.concat([ifi, new AttrBuilder().str(IFLA_IFNAME, name).build()]),
  );
}

function linkNames(sock: NetlinkSocket): string[] {
  return sock
    .dump(RTM_GETLINK, ifinfomsg(), 'RTM_GETLINK')
    .messages.filter((m) => m.type === RTM_NEWLINK)
    .map((m) => str(parseAttrs(m.data, 16).map.get(IFLA_IFNAME)) ?? '?');
}

/**
 * For a describe block: a network namespace of its own (named TAG + random) holding a veth pair
 * <ns>a–<ns>b, made before the block (then `more(ns)`) and deleted after it.
 */
function vethNetns(tag: string, more?: (ns: string) => void): string {
  const ns = uniquePrefix(tag);
  before(() => {
    netnsAdd(ns);
    ip('-n', ns, 'link', 'add', `${ns}a`, 'type', 'veth', 'peer', 'name', `${ns}b`);
    more?.(ns);
  });
  after(() => netnsDelete(ns));
  return ns;
}

describe('netlink codec', () => {
  it('round-trips attributes built for a request', () => {
    const b = new AttrBuilder()
      .u32(1, 0xdeadbeef)
      .str(3, 'veth0')
      .nested(18, new AttrBuilder().str(1, 'veth'))
      .build();
    const attrs = parseAttrs(b);
    assert.equal(attrs.truncated, false);
    assert.equal(u32(attrs.map.get(1)), 0xdeadbeef);
    assert.equal(str(attrs.map.get(3)), 'veth0');
    assert.equal(str(parseAttrs(attrs.map.get(18)!).map.get(1)), 'veth');
    assert.deepEqual(
      parseAttrList(b).map((a) => a.type),
      [1, 3, 18],
    );
  });

  it('flags a truncated attribute or message instead of reading past the end', () => {
    const b = new AttrBuilder().str(3, 'eth0').build();
    assert.equal(parseAttrs(b.subarray(0, b.length - 4)).truncated, true);
    const msg = Buffer.alloc(20);
    msg.writeUInt32LE(40, 0); // claims 40 bytes, has 20
    assert.equal(parseMessages(msg).truncated, true);
  });
});

describe('netlink sockets inside a network namespace', () => {
  const ns = vethNetns('wsnl');

  it('dumps the links of the namespace the socket was created in, from outside it', () => {
    const sock = withNetns(`/run/netns/${ns}`, () => new NetlinkSocket(NETLINK_ROUTE));
    try {
      assert.deepEqual(linkNames(sock).sort(), ['lo', `${ns}a`, `${ns}b`]);
    } finally {
      sock.close();
    }
    // The thread is back home: a new socket sees the host, not the fixture.
    const home = new NetlinkSocket(NETLINK_ROUTE);
    try {
      assert.ok(!linkNames(home).includes(`${ns}a`));
    } finally {
      home.close();
    }
  });

  it('dumps its own namespace without privileges: no setns into the namespace it is in', () => {
    // setns(2) needs CAP_SYS_ADMIN even for one's own namespace; a dump of it needs nothing.
    const here = new URL('.', import.meta.url).pathname;
    const script = `
      const { withNetns } = await import('${here}netns.js');
      const { NetlinkSocket, NETLINK_ROUTE } = await import('${here}netlink.js');
      const s = withNetns('/proc/self/ns/net', () => new NetlinkSocket(NETLINK_ROUTE));
      console.log(s.dump(18, Buffer.alloc(16)).messages.length);`;
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'].concat([
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ]),
      { encoding: 'utf8' },
    );
    assert.ok(Number(out.trim()) >= 1, `links seen unprivileged: ${out}`);
  });

  it('turns a kernel error reply into a NetlinkError with errno', () => {
    const sock = new NetlinkSocket(NETLINK_ROUTE);
    try {
      // RTM_GETLINK for a non-existent ifindex: ENODEV (19).
      const req = Buffer.alloc(16);
      req.writeInt32LE(0x7ffffff0, 4);
      assert.throws(
        () => sock.request(RTM_GETLINK, 0, req, 'RTM_GETLINK'),
        (e: unknown) => e instanceof NetlinkError && e.errno === 19,
      );
    } finally {
      sock.close();
    }
  });
});

describe('netlink sockets hear only the kernel', () => {
  // A namespace of its own: forged notifications go to every listener of the namespace they are sent in.
  // Enough links that the dump spans several datagrams (the kernel fills one per recv, up to 32 KiB):
  // a message sent after the first one arrives while the dump is still being read.
  const ns = vethNetns('wsnf', (n) =>
    ipBatch(Array.from({ length: 40 }, (_, k) => `-n ${n} link add v${k}a type veth peer name v${k}b`)),
  );
  const path = `/run/netns/${ns}`;

  it('ignores a forged RTM_NEWLINK another socket sends to its port id during a dump', () => {
    const [victim, forger] = withNetns(path, () => [
      new NetlinkSocket(NETLINK_ROUTE),
      new NetlinkSocket(NETLINK_ROUTE),
    ]);
    try {
      const real = linkNames(victim);
      const names: string[] = [];
      const sendErrors: number[] = [];
      victim.dumpEach(
        RTM_GETLINK,
        ifinfomsg(),
        (type, data) => {
          if (names.length === 0) {
            // Mid-dump, with the dump's own sequence number and nlmsg_pid 0: all a header can fake.
            try {
              sendto(forger.fd, forgedLink('forged0', victim.lastSeq, NLM_F_MULTI), nlAddr(victim.portid));
            } catch (e) {
              sendErrors.push(e instanceof SyscallError ? e.errno : -1);
            }
          }
          if (type === RTM_NEWLINK) names.push(str(parseAttrs(data, 16).map.get(IFLA_IFNAME)) ?? '?');
        },
        'RTM_GETLINK',
      );
      assert.deepEqual(names, real);
      assert.ok(!names.includes('forged0'));
      // The kernel itself refused it: the socket is connected to port id 0 (netlink_getsockbyportid).
      assert.deepEqual(sendErrors, [ECONNREFUSED]);
      // The socket goes on answering truthfully.
      assert.deepEqual(linkNames(victim), real);
    } finally {
      victim.close();
      forger.close();
    }
  });

  it('ignores a forged link notification sent to the multicast group, and still hears the real ones', async () => {
    const [monitor, forger] = withNetns(path, () => [
      new NetlinkSocket(NETLINK_ROUTE, { groups: RTMGRP_LINK }),
      new NetlinkSocket(NETLINK_ROUTE),
    ]);
    try {
      // Sent to the group (and, as nl_pid is 0, to the kernel, which ignores a message without NLM_F_REQUEST).
      sendto(forger.fd, forgedLink('forged1', 0, 0), nlAddr(0, RTMGRP_LINK));
      assert.deepEqual(
        monitor.drain().map((m) => m.type),
        [],
        'nothing but the forged notification was sent, and it must not be heard',
      );
      assert.ok(monitor.dropped >= 1, `datagrams dropped: ${monitor.dropped}`);

      sendto(forger.fd, forgedLink('forged2', 0, 0), nlAddr(0, RTMGRP_LINK));
      ip('-n', ns, 'link', 'set', `${ns}a`, 'mtu', '1400');
      const types: number[] = [];
      await poll(
        () => {
          monitor.drainTypes((t) => types.push(t));
          return types;
        },
        (t) => t.includes(RTM_NEWLINK),
        { timeoutMs: 5000, intervalMs: 0 },
      );
      assert.ok(types.includes(RTM_NEWLINK), "the kernel's RTM_NEWLINK for the MTU change within 5 s");
      assert.ok(monitor.dropped >= 2, `datagrams dropped: ${monitor.dropped}`);
    } finally {
      monitor.close();
      forger.close();
    }
  });
});

describe('a dump answering more than the bound', () => {
  const ns = vethNetns('wsnc');
  const path = `/run/netns/${ns}`;

  it('is given up with one clear error past a message bound, and the socket stays usable', () => {
    // Three links (lo and the veth pair), two allowed.
    const sock = withNetns(path, () => new NetlinkSocket(NETLINK_ROUTE, { maxMessages: 2 }));
    try {
      const delivered: number[] = [];
      assert.throws(
        () => sock.dumpEach(RTM_GETLINK, ifinfomsg(), (t) => delivered.push(t), 'RTM_GETLINK'),
        (e: unknown) =>
          e instanceof NetlinkDumpLimitError &&
          e.message ===
            "netlink RTM_GETLINK: the kernel's answer exceeds 2 messages, the bound of one dump; it is left out",
      );
      assert.equal(delivered.length, 2, 'no message past the bound reaches the caller');
      // The rest of the dump was read to its end: the next request is answered, not refused EBUSY.
      const lo = Buffer.alloc(16);
      lo.writeInt32LE(1, 4);
      const one = sock.request(RTM_GETLINK, 0, lo, 'RTM_GETLINK');
      assert.deepEqual(
        one.map((m) => str(parseAttrs(m.data, 16).map.get(IFLA_IFNAME))),
        ['lo'],
      );
    } finally {
      sock.close();
    }
  });

  it('is given up past a byte bound', () => {
    const sock = withNetns(path, () => new NetlinkSocket(NETLINK_ROUTE, { maxBytes: 2000 }));
    try {
      // Each link message is several hundred bytes (statistics, IFLA_AF_SPEC): three exceed 2000.
      assert.throws(
        () => sock.dump(RTM_GETLINK, ifinfomsg(), 'RTM_GETLINK'),
        (e: unknown) => e instanceof NetlinkDumpLimitError && /exceeds 2000 bytes/.test(e.message),
      );
      const big = withNetns(path, () => new NetlinkSocket(NETLINK_ROUTE));
      try {
        const sizes = big.dump(RTM_GETLINK, ifinfomsg()).messages.map((m) => m.data.length);
        assert.ok(sizes.reduce((a, b) => a + b, 0) > 2000, `link message sizes: ${sizes}`);
      } finally {
        big.close();
      }
    } finally {
      sock.close();
    }
  });
});
