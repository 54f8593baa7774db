/** The one rule for names that reach the host, and the path helper that holds even when a rule is missed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLabName, childPath, isIfName, isLabName, isNodeName, shown } from './names.js';

describe('lab names', () => {
  it('accepts plain names and refuses paths, dot entries, separators and control characters', () => {
    for (const ok of ['a', 'a.b', 'a-b', 'a_b', 'A9', 'n'.repeat(63)]) assert.ok(isNodeName(ok), ok);
    for (const bad of ['', '.', '..', '../x', 'a/b', '-a', '.a', 'a:b', 'a\nb', 'a b', 'n'.repeat(64)])
      assert.equal(isNodeName(bad), false, JSON.stringify(bad));
    assert.ok(isLabName('l'.repeat(32)));
    assert.equal(isLabName('l'.repeat(33)), false);
    assert.throws(() => checkLabName('../../etc'), { message: /^lab name "\.\.\/\.\.\/etc" is not valid/ });
  });

  it('holds interface names to IFNAMSIZ and to characters that mean nothing to nft or a CLI', () => {
    for (const ok of ['eth0', 'br-1a2b', 'eth0.100', 'veth_x+', 'fifteen-bytes-x'])
      assert.ok(isIfName(ok), ok);
    for (const bad of ['', '.', '..', '-x', 'sixteen-bytes-xy', 'a/b', 'a:b', 'eth*', 'x"y', 'a b', 'é'])
      assert.equal(isIfName(bad), false, JSON.stringify(bad));
  });

  it('childPath gives one entry of its directory, or throws', () => {
    assert.equal(childPath('/run/x', 'a.json'), '/run/x/a.json');
    assert.equal(childPath('/', 'a'), '/a');
    for (const bad of ['', '.', '..', '../x', 'a/b', '/etc', 'a\0b'])
      assert.throws(() => childPath('/run/x', bad), JSON.stringify(bad));
  });

  it('shows names on one line, control characters and quotes escaped', () => {
    assert.equal(shown('a\nb\x1b[2J"\\'), '"a\\nb\\x1b[2J\\"\\\\"');
  });
});
