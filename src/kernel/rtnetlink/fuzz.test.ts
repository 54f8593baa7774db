/**
 * Fuzzing the netlink framing and the rtnetlink decoders with recorded replies and replies
 * dumped live from a namespace this test builds, mutated.
 *
 * The contract ("a clear error" for these decoders): they never throw — a message too short
 * for its header is `undefined` (counted as malformed), an attribute cut short keeps what was
 * decoded and says `truncated` — and every number they return is a safe integer read from the
 * message, never NaN or a value of a field the message did not carry.
 */
import { after, before, describe, it } from 'node:test';
import { NetFixtures } from '../../network/testing/fixtures.js';
import {
  assertSound,
  clearErrorOnly,
  fuzz,
  mutateBytes,
  type Rng,
  replay,
  shrinkBytes,
} from '../../testing/fuzz.js';
import { ipBatch } from '../../testing/ip.js';
import {
  buildMessage,
  NETLINK_ROUTE,
  NetlinkSocket,
  parseAttrList,
  parseAttrs,
  parseError,
  parseMessages,
} from '../netlink.js';
import { withNetns } from '../netns.js';
import { decodeInetDiag, INET_DIAG_MSG_LEN } from '../sockdiag.js';
import { decodeAddr } from './addr.js';
import {
  FIB_RULE_HDR_LEN,
  IFADDRMSG_LEN,
  IFINFOMSG_LEN,
  NDMSG_LEN,
  RTGENMSG_LEN,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETNEIGH,
  RTM_GETROUTE,
  RTM_GETRULE,
  RTMSG_LEN,
} from './constants.js';
import { newIssues } from './issues.js';
import { decodeLink } from './link.js';
import { decodeNeigh } from './neigh.js';
import { decodeNetconf, NETCONFMSG_LEN, RTM_GETNETCONF } from './netconf.js';
import { decodeNsid } from './nsid.js';
import { decodeMultipath, decodeRoute } from './route.js';
import { decodeRule } from './rule.js';
import { bytes, recorded } from './testdata.js';

const rec = (prefix: string): Buffer[] =>
  (Object.keys(recorded) as (keyof typeof recorded)[]).filter((k) => k.startsWith(prefix)).map(bytes);

/** Corpus per message kind: recorded first, live dumps added in `before`. */
const corpus = {
  link: rec('link_'),
  addr: rec('addr_'),
  route: rec('route_'),
  rule: rec('rule_'),
  neigh: rec('neigh_'),
  netconf: [] as Buffer[],
  diag: rec('diag_'),
};

const fx = new NetFixtures();

before(() => {
  const [a, b] = fx.netns('fza', 'fzb');
  // Every kind of object the decoders read, in a namespace of the test's own.
  ipBatch([
    `link add ${fx.prefix}v0 netns ${a} type veth peer name v1 netns ${b}`,
    `-n ${a} link add br0 type bridge`,
    `-n ${a} link set ${fx.prefix}v0 master br0`,
    `-n ${a} link set ${fx.prefix}v0 up`,
    `-n ${a} link set br0 up`,
    // The kinds this kernel has modules for (veth, bridge, vxlan, macvlan, tun).
    `-n ${a} link add d0 type veth peer name d1`,
    `-n ${a} link set d0 up`,
    `-n ${a} link set d1 up`,
    `-n ${a} link add vx0 type vxlan id 42 dstport 4789 local 10.7.0.1 dev d0`,
    `-n ${a} link add mv0 link d0 type macvlan mode bridge`,
    `-n ${a} tuntap add mode tap tp0`,
    `-n ${a} link set d0 alias fuzz-alias`,
    `-n ${a} addr add 10.7.0.1/24 dev d0`,
    `-n ${a} addr add fd00:7::1/64 dev d0 nodad`,
    `-n ${a} addr add 10.7.1.1 peer 10.7.1.2 dev br0`,
    `-n ${a} route add 10.8.0.0/16 nexthop via 10.7.0.2 weight 1 nexthop via 10.7.0.3 weight 2`,
    `-n ${a} route add 10.9.0.0/16 via 10.7.0.2 table 1000 mtu 1400 metric 5`,
    `-n ${a} route add fd00:9::/64 via fd00:7::2 dev d0`,
    `-n ${a} rule add from 10.7.0.0/24 lookup 1000 pref 500`,
    `-n ${a} rule add fwmark 0x10/0xff iif d0 lookup 1000 pref 501`,
    `-n ${a} neigh add 10.7.0.9 lladdr 02:00:00:00:00:09 dev d0 nud permanent`,
  ]);
  withNetns(`/run/netns/${a}`, () => {
    const s = new NetlinkSocket(NETLINK_ROUTE);
    try {
      const grab = (type: number, req: Buffer, into: Buffer[]) => {
        for (const m of s.dump(type, req).messages) into.push(m.data);
      };
      grab(RTM_GETLINK, Buffer.alloc(IFINFOMSG_LEN), corpus.link);
      grab(RTM_GETADDR, Buffer.alloc(IFADDRMSG_LEN), corpus.addr);
      grab(RTM_GETROUTE, Buffer.alloc(RTMSG_LEN), corpus.route);
      grab(RTM_GETRULE, Buffer.alloc(FIB_RULE_HDR_LEN), corpus.rule);
      grab(RTM_GETNEIGH, Buffer.alloc(NDMSG_LEN), corpus.neigh);
      grab(RTM_GETNETCONF, Buffer.alloc(NETCONFMSG_LEN), corpus.netconf);
    } finally {
      s.close();
    }
  });
});

after(() => fx.cleanup());

const all = (): Buffer[] => Object.values(corpus).flat();

/** A decoder's target: its kind's corpus, spliced with the others, attributes after `hdr`. */
function decoderTarget(name: string, kind: keyof typeof corpus, hdr: number, run: (b: Buffer) => unknown) {
  const check = (b: Buffer) => {
    // No error class is allowed: these decoders never throw.
    assertSound(
      clearErrorOnly(() => run(b), []),
      name,
      ['*'],
    );
  };
  return {
    name,
    generate: (rng: Rng) => {
      const pool = rng.chance(0.9) ? corpus[kind] : all();
      return mutateBytes(rng, pool.length > 0 ? pool : all(), { tlvStarts: [hdr] });
    },
    check,
    shrink: shrinkBytes,
  };
}

describe('rtnetlink decoders under fuzzing (recorded and live replies, mutated)', () => {
  it('the live dump gave the fuzzer every message kind', () => {
    for (const [k, v] of Object.entries(corpus))
      if (v.length === 0) throw new Error(`no ${k} messages captured or recorded`);
  });

  it('RTM_NEWLINK: decodeLink', () => {
    fuzz(decoderTarget('rtnetlink link', 'link', IFINFOMSG_LEN, (b) => decodeLink(b)));
  });

  it('RTM_NEWADDR: decodeAddr', () => {
    fuzz(decoderTarget('rtnetlink addr', 'addr', IFADDRMSG_LEN, (b) => decodeAddr(b)));
  });

  it('RTM_NEWROUTE: decodeRoute and its RTA_MULTIPATH nexthops', () => {
    fuzz(
      decoderTarget('rtnetlink route', 'route', RTMSG_LEN, (b) => {
        const issues = newIssues();
        return [decodeRoute(b, issues), decodeMultipath(b, issues), issues];
      }),
    );
  });

  it('RTM_NEWRULE: decodeRule', () => {
    fuzz(decoderTarget('rtnetlink rule', 'rule', FIB_RULE_HDR_LEN, (b) => decodeRule(b, newIssues())));
  });

  it('RTM_NEWNEIGH: decodeNeigh', () => {
    fuzz(decoderTarget('rtnetlink neigh', 'neigh', NDMSG_LEN, (b) => decodeNeigh(b, newIssues())));
  });

  it('RTM_NEWNETCONF and RTM_NEWNSID: decodeNetconf, decodeNsid', () => {
    fuzz(decoderTarget('rtnetlink netconf', 'netconf', NETCONFMSG_LEN, (b) => decodeNetconf(b)));
    fuzz(decoderTarget('rtnetlink nsid', 'netconf', RTGENMSG_LEN, (b) => decodeNsid(b)));
  });

  it('sock_diag: decodeInetDiag', () => {
    fuzz(decoderTarget('sock_diag inet', 'diag', INET_DIAG_MSG_LEN, (b) => decodeInetDiag(b, newIssues())));
  });
});

describe('netlink framing under fuzzing', () => {
  /** Datagrams of several real messages, as recv() hands them over. */
  const datagram = (rng: Rng): Buffer => {
    const parts = Array.from({ length: rng.range(1, 4) }, () => {
      const data = rng.pick(all());
      return buildMessage(rng.pick([16, 20, 24, 2, 3]), 2, rng.int(1000), data);
    });
    return Buffer.concat(parts);
  };

  it('parseMessages, parseAttrs, parseAttrList never throw and never read past the datagram', () => {
    fuzz({
      name: 'netlink framing',
      generate: (rng) => {
        const seed = datagram(rng);
        return mutateBytes(rng, [seed], { tlvStarts: [0, 16 + 16] });
      },
      check: (b) => {
        const { messages } = parseMessages(b);
        for (const m of messages) {
          if (m.data.byteOffset < b.byteOffset || m.data.byteOffset + m.data.length > b.byteOffset + b.length)
            throw new Error('a message reaches past its datagram');
          for (const off of [0, 4, 8, 12, 16]) {
            const a = parseAttrs(m.data, off);
            assertSound([...a.map.keys()], 'attr types', ['*']);
            parseAttrList(m.data, off);
          }
        }
      },
      shrink: shrinkBytes,
    });
  });

  /** struct nlmsgerr: -errno, the request's header, maybe its payload, then NLMSGERR_ATTR_* TLVs. */
  const errorCorpus = [
    Buffer.from('edffffff2400000012000100000000000000000014000100696e76616c6964206e616d65000000', 'hex'),
    Buffer.from('00000000140000001200050000000000ff000000', 'hex'),
    Buffer.concat([
      Buffer.from('feffffff', 'hex'),
      buildMessage(RTM_GETLINK, 1, 7, Buffer.alloc(16)),
      Buffer.from('0c0001006e6f206465760000', 'hex'),
    ]),
  ];

  const errorTarget = {
    name: 'netlink error',
    generate: (rng: Rng) => mutateBytes(rng, errorCorpus, { tlvStarts: [20, 36] }),
    check: (b: Buffer) => {
      assertSound(
        clearErrorOnly(() => parseError(b), []),
        'nlmsgerr',
        ['*'],
      );
    },
    shrink: shrinkBytes,
  };

  it('parseError: errno and extended ack of NLMSG_ERROR never throw', () => {
    fuzz(errorTarget);
  });

  it('parseError: an echoed request length past 2^31 does not reach before the buffer (found by fuzzing)', () => {
    replay(errorTarget, [
      // nlmsg_len 0xff000000: align4's 32-bit arithmetic made the TLV offset negative (RangeError)
      Buffer.from('00000000000000ff00000000000000000000000000', 'hex'),
    ]);
  });
});
