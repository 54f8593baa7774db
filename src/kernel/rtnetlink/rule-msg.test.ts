/** Rule requests decode back to the rule they describe (the same decoder discovery uses). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRule } from './rule.js';
import { buildRuleMsg } from './rule-msg.js';

describe('RTM_NEWRULE payloads', () => {
  it('carry priority, selectors, mark/mask, protocol and a 32-bit table that decodeRule reads back', () => {
    const r = decodeRule(
      buildRuleMsg({
        family: 'inet',
        priority: 1000,
        src: { addr: Buffer.from([10, 1, 0, 0]), len: 24 },
        dst: { addr: Buffer.from([192, 0, 2, 0]), len: 25 },
        iif: 'eth0',
        oif: 'eth1',
        fwmark: 0x10,
        fwmask: 0xff,
        table: 100000,
        protocol: 4,
      }),
    );
    assert.deepEqual(r, {
      family: 'inet',
      priority: 1000,
      action: 'to_tbl',
      table: 100000,
      invert: false,
      src: '10.1.0.0/24',
      dst: '192.0.2.0/25',
      iif: 'eth0',
      oif: 'eth1',
      fwmark: 0x10,
      fwmask: 0xff,
      protocol: 'static',
    });
  });

  it('puts a small table in the header too, and an IPv6 rule without selectors is "from all"', () => {
    const b = buildRuleMsg({ family: 'inet6', priority: 7, table: 100 });
    assert.equal(b[0], 10);
    assert.equal(b[4], 100);
    assert.deepEqual(decodeRule(b), {
      family: 'inet6',
      priority: 7,
      action: 'to_tbl',
      table: 100,
      invert: false,
    });
  });
});
