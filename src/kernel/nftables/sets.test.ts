import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NlMsg } from '../netlink.js';
import { NftDecodeError } from './expr.js';
import { recordedMsg as msg } from './recorded.js';
import { SET_ELEMS, SETS } from './recorded-sets.js';
import { decodeSet, decodeSetElems, elementRanges, NFT_SET_INTERVAL, NFT_SET_MAP } from './sets.js';

const sets = SETS.map(msg).map(decodeSet);
const elems = new Map<string, ReturnType<typeof decodeSetElems>['elems']>();
for (const m of SET_ELEMS.map(msg)) {
  const b = decodeSetElems(m);
  elems.set(`${b.table}/${b.set}`, [...(elems.get(`${b.table}/${b.set}`) ?? []), ...b.elems]);
}
const setOf = (table: string, name: string) => {
  const s = sets.find((x) => x.table === table && x.name === name);
  assert.ok(s, `recorded set ${table} ${name}`);
  return { ...s, elems: elems.get(`${table}/${name}`) ?? [] };
};

describe('nf_tables sets and their elements (recorded from the kernel)', () => {
  it('decodes a verdict map keyed by a concatenation (kube-proxy service-ips)', () => {
    const s = setOf('kube-proxy', 'service-ips');
    assert.ok(s.flags & NFT_SET_MAP);
    assert.equal(s.keyLen, 12); // ipv4_addr . inet_proto . inet_service, each padded to 4 bytes
    assert.equal(s.elems.length, 1);
    assert.equal(s.elems[0]?.key?.toString('hex'), '0a60000a0600000000500000');
    assert.deepEqual(s.elems[0]?.verdict, { code: -4, chain: 'service-ABC-ns-web-tcp-http' });
  });

  it('decodes map values (address . port)', () => {
    const s = setOf('wstsets', 'portmap');
    assert.deepEqual(
      s.elems.map((e) => [
        e.key?.readUInt16BE(0),
        e.value?.subarray(0, 4).join('.'),
        e.value?.readUInt16BE(4),
      ]),
      [
        [9001, '10.1.1.7', 91],
        [9002, '10.1.1.8', 92],
      ],
    );
  });

  it('pairs interval starts with their (exclusive) ends', () => {
    const s = setOf('wstsets', 'webports');
    assert.ok(s.flags & NFT_SET_INTERVAL);
    assert.deepEqual(
      elementRanges(s, s.elems).map((r) => [r.from?.readUInt16BE(0), r.to?.readUInt16BE(0)]),
      [
        [8000, 8005],
        [8010, 8010],
      ],
    );
  });

  it('treats every element of a hash set as one point', () => {
    const anon = sets.find(
      (x) => x.table === 'wstsets' && x.name.startsWith('__set') && !(x.flags & NFT_SET_INTERVAL),
    );
    assert.ok(anon);
    const s = setOf('wstsets', anon.name);
    assert.deepEqual(
      elementRanges(s, s.elems).map((r) => r.from?.readUInt16BE(0)),
      [81, 82],
    );
  });

  it('rejects element lists it cannot decode', () => {
    const bad: NlMsg = { type: 0, flags: 0, seq: 0, pid: 0, data: Buffer.from('02000000', 'hex') };
    assert.throws(() => decodeSetElems(bad), NftDecodeError);
    assert.throws(() => decodeSet(bad), /without table, name or key length/);
  });
});
