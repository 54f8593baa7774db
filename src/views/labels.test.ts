import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Rule } from '../model/types.js';
import {
  fwmarkLabel,
  isDefaultRule,
  ruleActionLabel,
  ruleLabel,
  ruleSelectorLabel,
  tableName,
} from './labels.js';

const rule = (priority: number, table: number, extra: Partial<Rule> = {}): Rule => ({
  family: 'inet',
  priority,
  action: 'to_tbl',
  table,
  invert: false,
  ...extra,
});

describe('kernel object labels (shared by the text tree, change lines and the web UI)', () => {
  it('names the well-known routing tables and numbers the others', () => {
    assert.equal(tableName(254), 'main');
    assert.equal(tableName(255), 'local');
    assert.equal(tableName(253), 'default');
    assert.equal(tableName(100), '100');
  });

  it("keeps a fwmark's mask unless it is all ones", () => {
    assert.equal(fwmarkLabel(0x10, 0xff), 'fwmark 0x10/0xff');
    assert.equal(fwmarkLabel(0x20, 0xffffffff), 'fwmark 0x20');
    assert.equal(fwmarkLabel(0x20, undefined), 'fwmark 0x20');
  });

  it("shows a rule's selector with the mask, as the web UI's rule table does", () => {
    assert.equal(
      ruleSelectorLabel(rule(200, 100, { fwmark: 0x10, fwmask: 0xff })),
      'from all fwmark 0x10/0xff',
    );
    assert.equal(
      ruleSelectorLabel(rule(300, 100, { invert: true, src: '10.0.2.0/24', iif: 'eth0' })),
      'not from 10.0.2.0/24 iif eth0',
    );
  });

  it("says what a rule does: lookup for the table actions, the action's name otherwise", () => {
    assert.equal(ruleActionLabel(rule(1, 254)), 'lookup main');
    assert.equal(ruleActionLabel({ action: 'blackhole', table: 0 }), 'blackhole');
    assert.equal(
      ruleLabel(rule(1000, 100, { dst: '10.9.0.0/16' })),
      '1000: from all to 10.9.0.0/16 lookup 100',
    );
  });

  it("recognises the kernel's default rules and nothing with a selector", () => {
    assert.ok(isDefaultRule(rule(0, 255)));
    assert.ok(isDefaultRule(rule(32766, 254)));
    assert.ok(isDefaultRule(rule(32767, 253)));
    assert.ok(!isDefaultRule(rule(32767, 253, { family: 'inet6' })));
    assert.ok(!isDefaultRule(rule(32766, 254, { fwmark: 1 })));
  });
});
