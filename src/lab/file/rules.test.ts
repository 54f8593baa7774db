/** Table references, firewall marks and rule identity (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../../model/types.js';
import {
  type DesiredRule,
  foundRuleText,
  kernelRule,
  parseFwmark,
  parseTable,
  ruleMatches,
  ruleText,
} from './rules.js';

const found = (r: Partial<Draft.Rule>): Draft.Rule => ({
  family: 'inet',
  priority: 1000,
  action: 'to_tbl',
  table: 100,
  invert: false,
  protocol: 'static',
  ...r,
});

describe('routing tables and policy rules of a lab', () => {
  it('takes table ids 1..2^32-2 and the names of rt_class_t', () => {
    assert.equal(parseTable('main'), 254);
    assert.equal(parseTable('local'), 255);
    assert.equal(parseTable('default'), 253);
    assert.equal(parseTable(100), 100);
    assert.equal(parseTable('100'), 100);
    assert.equal(parseTable(0xfffffffe), 0xfffffffe);
    for (const bad of [0, -1, 0xffffffff, 1.5, 'blue', '', '0x10'])
      assert.equal(parseTable(bad), undefined, String(bad));
  });

  it('reads marks as fib_rules stores them: without a mask, all 32 bits count', () => {
    assert.deepEqual(parseFwmark(16), { mark: 16, mask: 0xffffffff });
    assert.deepEqual(parseFwmark('0x10'), { mark: 16, mask: 0xffffffff });
    assert.deepEqual(parseFwmark('0x10/0xff'), { mark: 16, mask: 255 });
    assert.deepEqual(parseFwmark('5/7'), { mark: 5, mask: 7 });
    for (const bad of ['0xzz', '1/2/3', '0x100000000', '-1', ''])
      assert.equal(parseFwmark(bad), undefined, bad);
  });

  it('matches a kernel rule by family, priority, selector and table; host bits and mask defaults do not matter', () => {
    const want: DesiredRule = {
      ns: 'a',
      node: 'a',
      family: 'inet',
      priority: 1000,
      src: { family: 'inet', address: '10.1.0.0', prefixlen: 24 },
      fwmark: { mark: 0x10, mask: 0xffffffff },
      table: 100,
    };
    assert.ok(ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, fwmask: 0xffffffff })));
    assert.ok(ruleMatches(want, found({ src: '10.1.0.7/24', fwmark: 16, fwmask: 0xffffffff })));
    assert.ok(
      ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16 })),
      'a mark without mask is all bits',
    );
    assert.ok(!ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, fwmask: 0xff })));
    assert.ok(!ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, table: 200 })));
    assert.ok(!ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, priority: 999 })));
    assert.ok(!ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, action: 'blackhole' })));
    assert.ok(!ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, invert: true })));
    assert.ok(!ruleMatches(want, found({ src: '10.1.0.0/24', fwmark: 16, iif: 'eth0' })));
    assert.ok(!ruleMatches(want, found({ family: 'inet6', src: '10.1.0.0/24', fwmark: 16 })));
  });

  it("tells the kernel's own rules apart, by protocol or (without FRA_PROTOCOL) by their well-known slots", () => {
    assert.ok(kernelRule(found({ priority: 0, table: 255, protocol: 'kernel' })));
    assert.ok(!kernelRule(found({ priority: 0, table: 255, protocol: 'static' })));
    const { protocol: _p, ...old } = found({ priority: 32766, table: 254 });
    assert.ok(kernelRule(old));
    assert.ok(!kernelRule({ ...old, src: '10.0.0.0/8' }));
  });

  it('writes rules the way `ip rule` shows them', () => {
    assert.equal(
      ruleText({
        ns: 'a',
        node: 'a',
        family: 'inet',
        priority: 5,
        dst: { family: 'inet', address: '192.0.2.0', prefixlen: 24 },
        iif: 'lo',
        fwmark: { mark: 0x10, mask: 0xff },
        table: 254,
      }),
      '5: from all to 192.0.2.0/24 iif lo fwmark 0x10/0xff lookup main',
    );
    assert.equal(
      foundRuleText(found({ family: 'inet6', action: 'blackhole' })),
      '1000: from all blackhole (ipv6)',
    );
  });
});
