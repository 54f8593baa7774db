import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawInetSocket } from '../kernel/sockdiag.js';
import type { Draft } from '../model/types.js';
import { emptyDump } from './dump.js';
import { parseIff, parseStat } from './owners.js';
import { parseServices } from './services.js';
import { addSockets, macrostate } from './sockets.js';
import { parseSockStat } from './sockstat.js';
import type { NsDump } from './types.js';
import { applyWires, candidateQueries, deriveReverse, unresolvedNsids } from './wires.js';

describe('/etc/services parser', () => {
  it('maps port/protocol to the first name and ignores comments and aliases', () => {
    const m = parseServices(
      '# comment\nhttp\t\t80/tcp\t\twww # WorldWideWeb\nhttp 80/udp\nwww-alt 80/tcp\n\nbad line\nmdns 5353/udp\n',
    );
    assert.equal(m.get('80/tcp'), 'http');
    assert.equal(m.get('80/udp'), 'http');
    assert.equal(m.get('5353/udp'), 'mdns');
    assert.equal(m.size, 3);
  });
});

describe('sockstat parser', () => {
  it('reads the per-namespace TCP, UDP and TIME_WAIT counters', () => {
    const v4 =
      'sockets: used 251\nTCP: inuse 3 orphan 0 tw 5 alloc 3 mem 200\nUDP: inuse 1 mem 0\nUDPLITE: inuse 0\nRAW: inuse 1\n';
    const v6 = 'TCP6: inuse 2\nUDP6: inuse 0\nUDPLITE6: inuse 0\n';
    assert.deepEqual(parseSockStat(v4, v6), { tcp4: 3, tcp6: 2, tw: 5, udp4: 1, udp6: 0 });
    assert.equal(parseSockStat('garbage', v6), undefined);
  });
});

describe('procfs helpers for owners and tap holders', () => {
  it('parses fdinfo iff lines and stat with odd comm names', () => {
    assert.equal(parseIff('pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1\niff:\ttap0\n'), 'tap0');
    assert.equal(parseIff('pos:\t0\n'), undefined);
    const stat = '42 (we ird) proc) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10';
    assert.deepEqual(parseStat(stat), { comm: 'we ird) proc', starttime: 987654 });
  });
});

const raw = (over: Partial<RawInetSocket>): RawInetSocket => ({
  family: 'inet',
  state: 10,
  localAddress: '0.0.0.0',
  localPort: 80,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  boundDev: 0,
  uid: 0,
  inode: 1,
  ...over,
});

describe('sockets', () => {
  it('derives the macrostate for TCP and UDP', () => {
    assert.equal(macrostate('tcp', raw({})), 'listening');
    assert.equal(macrostate('tcp', raw({ state: 1, remotePort: 40000 })), 'connected');
    assert.equal(macrostate('tcp', raw({ state: 7 })), 'unconnected');
    assert.equal(macrostate('udp', raw({ state: 7 })), 'listening');
    assert.equal(macrostate('udp', raw({ state: 1, remotePort: 53 })), 'connected');
  });

  it('adds a synthetic IPv4 twin only for a dual-stack wildcard IPv6 socket', () => {
    const out: Draft.Socket[] = [];
    const svc = new Map([['80/tcp', 'http']]);
    addSockets(
      out,
      'tcp',
      raw({ family: 'inet6', localAddress: '::', remoteAddress: '::', v6only: false }),
      svc,
    );
    addSockets(
      out,
      'tcp',
      raw({ family: 'inet6', localAddress: '::', remoteAddress: '::', v6only: true, localPort: 81 }),
      svc,
    );
    addSockets(
      out,
      'tcp',
      raw({ family: 'inet6', localAddress: '::1', remoteAddress: '::', v6only: false, localPort: 82 }),
      svc,
    );
    assert.deepEqual(
      out.map((s) => [s.family, s.localAddress, s.localPort, s.dualStack, s.synthetic, s.service]),
      [
        ['inet6', '::', 80, true, undefined, 'http'],
        ['inet', '0.0.0.0', 80, undefined, true, 'http'],
        ['inet6', '::', 81, undefined, undefined, undefined],
        ['inet6', '::1', 82, undefined, undefined, undefined],
      ],
    );
  });
});

/** A dump with veth-like interfaces: [index, kind, nsid, peerIndex]. */
function dump(ino: number, links: [number, string, number | undefined, number | undefined][]): NsDump {
  const d: NsDump = { ...emptyDump(ino), cached: true };
  links.forEach(([index, kind, nsid, peer], i) => {
    const f: Draft.Interface = {
      netns: ino,
      index,
      name: `if${index}`,
      altnames: [],
      kind,
      operstate: 'up',
      flags: [],
      mtu: 1500,
      addresses: [],
      ports: [],
    };
    if (kind === 'veth') f.veth = {};
    if (nsid !== undefined && peer !== undefined) {
      f.linkNetnsId = nsid;
      f.linkUnresolved = { netnsId: nsid, index: peer };
      d.cross.push({ i, field: 'link', nsid, index: peer });
    }
    d.interfaces.push(f);
  });
  return d;
}

describe('wire resolution (pure part)', () => {
  const dumps = [
    dump(100, [
      [5, 'veth', 0, 2],
      [6, 'veth', 1, 2],
      [7, 'macvlan', 1, 2],
    ]),
    dump(200, [[2, 'veth', 0, 5]]),
    dump(300, [[2, 'veth', 3, 6]]),
    dump(400, [[2, 'veth', 0, 5]]), // points at index 5 in *its* nsid 0: a decoy with the same indices as 200
  ];
  const refs = new Map([100, 200, 300, 400].map((i) => [i, `/x/${i}`]));

  it('asks first only about namespaces whose interface points back (symmetry)', () => {
    const unresolved = unresolvedNsids(dumps, new Map());
    assert.deepEqual([...(unresolved.get(100) ?? [])].sort(), [0, 1]);
    const q = candidateQueries(dumps, unresolved, refs, new Map(), 1).find((x) => x.ino === 100);
    assert.deepEqual(q?.targets.map((t) => t.ino).sort(), [200, 300, 400]);
  });

  it('falls back to every namespace with that ifindex for non-veth links only', () => {
    const asked = new Map([[100, new Set([200, 300, 400])]]);
    const unresolved = new Map([[100, new Set([1])]]);
    assert.deepEqual(candidateQueries(dumps, unresolved, refs, asked, 2), []);
    const fresh = new Map<number, Set<number>>();
    const q = candidateQueries(dumps, unresolved, refs, fresh, 2);
    assert.deepEqual(q[0]?.targets.map((t) => t.ino).sort(), [200, 300, 400]);
  });

  it('applies only kernel-confirmed mappings, and only to interfaces that exist', () => {
    const ds = dumps.map((d) => structuredClone(d));
    applyWires(
      ds,
      new Map([
        [
          100,
          new Map([
            [0, 200],
            [1, 300],
          ]),
        ],
      ]),
    );
    const [a, b, c] = ds[0]?.interfaces ?? [];
    assert.deepEqual(a?.veth?.peer, { netns: 200, index: 2 });
    assert.deepEqual(b?.veth?.peer, { netns: 300, index: 2 });
    assert.equal(b?.linkUnresolved, undefined);
    assert.deepEqual(c?.link, { netns: 300, index: 2 });
    assert.equal(ds[3]?.interfaces[0]?.veth?.peer, undefined, 'the decoy stays unresolved');
  });

  it('derives the reverse nsid of a confirmed veth pair, and only of a pair that points back', () => {
    const nsids = new Map([
      [
        100,
        new Map([
          [0, 200],
          [1, 300],
        ]),
      ],
    ]);
    deriveReverse(dumps, nsids);
    assert.equal(nsids.get(200)?.get(0), 100, '200 sees 100 as its nsid 0');
    assert.equal(nsids.get(300)?.get(3), 100);
    assert.equal(nsids.get(400), undefined, 'the decoy learns nothing');
    const halved = candidateQueries(dumps, unresolvedNsids(dumps, new Map()), refs, new Map(), 1, true);
    assert.deepEqual(
      halved.map((q) => [q.ino, q.targets.map((t) => t.ino).sort()]),
      [
        [200, [100]],
        [300, [100]],
        [400, [100]],
      ],
      'only the higher inode of each pair asks: each about the one namespace it is wired to, not 100 about all',
    );
  });
});
