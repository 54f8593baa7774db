import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AttrBuilder,
  NETLINK_ROUTE,
  NetlinkError,
  NetlinkSocket,
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

function linkNames(sock: NetlinkSocket): string[] {
  return sock
    .dump(RTM_GETLINK, ifinfomsg(), 'RTM_GETLINK')
    .messages.filter((m) => m.type === RTM_NEWLINK)
    .map((m) => str(parseAttrs(m.data, 16).map.get(IFLA_IFNAME)) ?? '?');
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
  const ns = `wsnl${randomBytes(3).toString('hex')}`;
  before(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'add', `${ns}a`, 'type', 'veth', 'peer', 'name', `${ns}b`]);
  });
  after(() => {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

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
