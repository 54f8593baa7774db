import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEntries, decodeInfo, type IptEntry } from '../../kernel/iptables-legacy.js';
import { NAT_ENTRIES, NAT_INFO, NAT6_ENTRIES, NAT6_INFO } from '../../kernel/iptables-legacy.recorded.js';
import { legacyNatTable } from './iptables-legacy.js';
import { forwardsOf } from './natgraph.js';

const entries = decodeEntries(Buffer.from(NAT_ENTRIES, 'hex'), decodeInfo(Buffer.from(NAT_INFO, 'hex')));

describe('legacy iptables nat entries → forwards (recorded table)', () => {
  it('follows PREROUTING -d 192.0.2.10 → WSTCHAIN → DNAT and expands multiport', () => {
    const { forwards, notes } = forwardsOf(legacyNatTable(entries));
    assert.deepEqual(notes, []);
    assert.deepEqual(
      forwards.map((f) => [
        f.chain,
        f.protocol,
        f.hostAddress,
        f.hostPort,
        f.hostPortEnd,
        f.destAddress,
        f.destPort,
      ]),
      [
        ['ip nat WSTCHAIN', 'tcp', '192.0.2.10', 9090, undefined, '10.1.1.2', 90],
        ['ip nat OUTPUT', 'udp', '0.0.0.0', 5000, undefined, '10.1.1.3', 5000],
        ['ip nat OUTPUT', 'udp', '0.0.0.0', 6000, 6005, '10.1.1.3', 6000],
      ],
    );
  });

  it('reads ip6tables-legacy DNAT with IPv6 addresses', () => {
    const e6 = decodeEntries(Buffer.from(NAT6_ENTRIES, 'hex'), decodeInfo(Buffer.from(NAT6_INFO, 'hex')), 6);
    const { forwards, notes } = forwardsOf(legacyNatTable(e6, 6));
    assert.deepEqual(notes, []);
    assert.deepEqual(
      forwards.map((f) => [
        f.chain,
        f.family,
        f.protocol,
        f.hostAddress,
        f.hostPort,
        f.destAddress,
        f.destPort,
      ]),
      [
        ['ip6 nat WST6', 'inet6', 'tcp', '2001:db8::10', 9443, 'fd00::5', 443],
        ['ip6 nat OUTPUT', 'inet6', 'udp', '::', 5353, 'fd00::6', 53],
      ],
    );
  });

  it('skips (and reports) a DNAT entry whose target data is malformed', () => {
    const broken: IptEntry[] = entries.map((e) =>
      e.chain === 'WSTCHAIN' && e.target.name === 'DNAT'
        ? { ...e, target: { ...e.target, data: Buffer.alloc(4) } }
        : e,
    );
    const { forwards, notes } = forwardsOf(legacyNatTable(broken));
    assert.ok(!forwards.some((f) => f.hostPort === 9090));
    assert.equal(notes.length, 1);
    assert.match(
      notes[0] ?? '',
      /^ip nat WSTCHAIN: entry at offset \d+ skipped: NAT target rev \d info too short/,
    );
  });

  it('skips a jump whose offset starts no chain', () => {
    const broken: IptEntry[] = entries.map((e, i) =>
      i === 0 ? { ...e, target: { ...e.target, verdict: 4 } } : e,
    );
    const { forwards, notes } = forwardsOf(legacyNatTable(broken));
    assert.ok(!forwards.some((f) => f.hostPort === 9090));
    assert.match(notes[0] ?? '', /jump to offset 4, which starts no chain/);
  });
});
