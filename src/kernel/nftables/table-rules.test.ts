/** Rule comments as libnftnl stores them (NFTA_RULE_USERDATA TLVs), read back. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { udataComment } from './table-rules.js';

const tlv = (type: number, value: string): Buffer =>
  Buffer.concat([Buffer.from([type, Buffer.byteLength(value) + 1]), Buffer.from(`${value}\0`)]);

describe('NFTNL_UDATA_RULE_COMMENT', () => {
  it('is found among other userdata TLVs, without its NUL', () => {
    assert.equal(
      udataComment(Buffer.concat([tlv(1, 'x'), tlv(0, 'wirescope-lab:a:b dnat')])),
      'wirescope-lab:a:b dnat',
    );
  });

  it('is undefined when absent, and when a TLV runs past the end', () => {
    assert.equal(udataComment(tlv(1, 'x')), undefined);
    assert.equal(udataComment(undefined), undefined);
    assert.equal(udataComment(Buffer.from([0, 9, 0x61])), undefined);
  });
});
