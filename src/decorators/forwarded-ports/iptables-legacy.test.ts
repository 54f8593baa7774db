import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEntries, decodeInfo, type IptEntry } from '../../kernel/iptables-legacy.js';
import { NAT_ENTRIES, NAT_INFO } from '../../kernel/iptables-legacy.recorded.js';
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
        ['nat WSTCHAIN', 'tcp', '192.0.2.10', 9090, undefined, '10.1.1.2', 90],
        ['nat OUTPUT', 'udp', '0.0.0.0', 5000, undefined, '10.1.1.3', 5000],
        ['nat OUTPUT', 'udp', '0.0.0.0', 6000, 6005, '10.1.1.3', 6000],
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
      /^nat WSTCHAIN: entry at offset \d+ skipped: NAT target rev \d info too short/,
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
