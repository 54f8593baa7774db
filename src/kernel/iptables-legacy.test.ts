import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ip, netnsAdd } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import {
  closeIptSocket,
  decodeEntries,
  decodeInfo,
  IptDecodeError,
  legacyTableNames,
  openIptSocket,
  readLegacyTable,
} from './iptables-legacy.js';
import { NAT_ENTRIES, NAT_INFO, NAT6_ENTRIES, NAT6_INFO } from './iptables-legacy.recorded.js';
import { withNetns } from './netns.js';

describe('legacy ip_tables entries (recorded from the kernel)', () => {
  const info = decodeInfo(Buffer.from(NAT_INFO, 'hex'));
  const entries = decodeEntries(Buffer.from(NAT_ENTRIES, 'hex'), info);

  it('reads the table geometry from struct ipt_getinfo', () => {
    assert.equal(info.validHooks, 0b11011); // PREROUTING, INPUT, OUTPUT, POSTROUTING
    assert.equal(info.size, Buffer.from(NAT_ENTRIES, 'hex').length);
  });

  it('assigns every entry to its built-in or user chain and drops chain heads', () => {
    assert.deepEqual(
      entries.map((e) => [e.chain, e.target.name || String(e.target.verdict)]),
      [
        ['PREROUTING', String(entries.find((e) => e.chain === 'WSTCHAIN')?.offset)],
        ['PREROUTING', '-2'], // policy ACCEPT = -NF_ACCEPT - 1
        ['INPUT', '-2'],
        ['OUTPUT', 'DNAT'],
        ['OUTPUT', '-2'],
        ['POSTROUTING', '-2'],
        ['WSTCHAIN', 'DNAT'],
        ['WSTCHAIN', '-5'], // the user chain's RETURN tail
      ],
    );
  });

  it('decodes the entry header (destination, mask, protocol) and its matches', () => {
    const jump = entries[0];
    assert.deepEqual([...(jump?.dst ?? [])], [192, 0, 2, 10]);
    assert.deepEqual([...(jump?.dmsk ?? [])], [255, 255, 255, 255]);
    const dnat = entries.find((e) => e.chain === 'WSTCHAIN' && e.target.name === 'DNAT');
    assert.equal(dnat?.proto, 6);
    assert.deepEqual(
      dnat?.matches.map((m) => m.name),
      ['tcp'],
    );
  });

  it('decodes ip6_tables entries (struct ip6t_entry: 16-byte addresses, IP6T_F_PROTO)', () => {
    const e6 = decodeEntries(Buffer.from(NAT6_ENTRIES, 'hex'), decodeInfo(Buffer.from(NAT6_INFO, 'hex')), 6);
    const jump = e6.find((e) => e.chain === 'PREROUTING' && (e.target.verdict ?? -1) >= 0);
    assert.equal(jump?.dst.toString('hex'), '20010db8000000000000000000000010');
    assert.equal(jump?.dmsk.toString('hex'), 'f'.repeat(32));
    assert.equal(jump?.proto, 0);
    const dnat = e6.find((e) => e.chain === 'WST6' && e.target.name === 'DNAT');
    assert.equal(dnat?.proto, 6);
    assert.deepEqual(
      dnat?.matches.map((m) => m.name),
      ['tcp'],
    );
    assert.equal(e6.find((e) => e.chain === 'OUTPUT' && e.target.name === 'DNAT')?.proto, 17);
  });

  it('rejects a blob with broken offsets', () => {
    const blob = Buffer.from(NAT_ENTRIES, 'hex');
    blob.writeUInt16LE(7, 90); // next_offset of the first entry (struct ipt_entry offset 90)
    assert.throws(() => decodeEntries(blob, info), IptDecodeError);
    assert.throws(
      () => decodeEntries(Buffer.from(NAT_ENTRIES, 'hex').subarray(0, 150), info),
      IptDecodeError,
    );
  });

  it('rejects a target offset past its entry and a short ipt_getinfo (found by fuzzing)', () => {
    // target_offset 0x57dd inside a next_offset of 152: the target header was read past the blob.
    const blob = Buffer.from(NAT_ENTRIES, 'hex');
    blob.writeUInt16LE(0x57dd, 88);
    assert.throws(() => decodeEntries(blob, info), {
      name: 'IptDecodeError',
      message: 'entry at 0 has bad offsets (target 22493, next 152)',
    });
    // A target offset that leaves no room for the xt_entry_target header before next_offset.
    const tight = Buffer.from(NAT_ENTRIES, 'hex');
    tight.writeUInt16LE(tight.readUInt16LE(90) - 16, 88);
    assert.throws(() => decodeEntries(tight, info), IptDecodeError);
    assert.throws(() => decodeInfo(Buffer.from('6e6174000000000000000000', 'hex')), {
      name: 'IptDecodeError',
      message: 'ipt_getinfo of 12 bytes, shorter than its 84',
    });
  });
});

describe('legacy ip_tables on the real kernel', () => {
  const NS = uniquePrefix('wstl');
  const sh = (args: string[]) => ip('netns', 'exec', NS, ...args);
  before(() => netnsAdd(NS));
  after(() => ip('netns', 'del', NS));

  it('sees no legacy table in a fresh namespace, and listing does not create one', () => {
    const path = `/run/netns/${NS}`;
    assert.deepEqual(
      withNetns(path, () => legacyTableNames()),
      [],
    );
    assert.deepEqual(
      withNetns(path, () => legacyTableNames()),
      [],
    );
  });

  it('reads a nat table made by iptables-legacy through getsockopt', () => {
    sh([
      'iptables-legacy',
      '-t',
      'nat',
      '-A',
      'PREROUTING',
      '-p',
      'udp',
      '--dport',
      '5300',
      '-j',
      'DNAT',
      '--to-destination',
      '10.9.9.9:53',
    ]);
    const path = `/run/netns/${NS}`;
    assert.ok(withNetns(path, () => legacyTableNames()).includes('nat'));
    const fd = withNetns(path, () => openIptSocket());
    try {
      const raw = readLegacyTable(fd, 'nat');
      const entries = decodeEntries(raw.entries, decodeInfo(raw.info));
      const dnat = entries.find((e) => e.target.name === 'DNAT');
      assert.equal(dnat?.chain, 'PREROUTING');
      assert.equal(dnat?.proto, 17);
      assert.equal(dnat?.matches[0]?.name, 'udp');
    } finally {
      closeIptSocket(fd);
    }
  });
});
