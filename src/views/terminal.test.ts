import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeTerminal, escapeTerminalDeep } from './terminal.js';

describe('text for a terminal', () => {
  it('shows C0 controls, DEL and C1 controls as \\xHH, newlines and tabs included', () => {
    assert.equal(escapeTerminal('\x1b]0;pwned\x07\x1b[2J'), '\\x1b]0;pwned\\x07\\x1b[2J');
    assert.equal(escapeTerminal('a\nb\tc\rd\0'), 'a\\x0ab\\x09c\\x0dd\\x00');
    assert.equal(escapeTerminal('del\x7f'), 'del\\x7f');
    assert.equal(escapeTerminal('8-bit CSI \x9b2J, OSC \x9d'), '8-bit CSI \\x9b2J, OSC \\x9d');
  });

  it('shows bidi overrides, isolates, marks and line separators as \\uHHHH', () => {
    assert.equal(escapeTerminal('admin\u202Egnp.exe'), 'admin\\u202egnp.exe');
    assert.equal(escapeTerminal('\u2066x\u2069\u200f\u061c\u2028'), '\\u2066x\\u2069\\u200f\\u061c\\u2028');
  });

  it('shows a lone surrogate escaped and leaves a surrogate pair (an emoji) alone', () => {
    assert.equal(escapeTerminal('a\ud800b\udc00'), 'a\\ud800b\\udc00');
    assert.equal(escapeTerminal('box 📦'), 'box 📦');
  });

  it('leaves printable text of any script as it is, and escaping twice changes nothing', () => {
    const plain = 'eth0 ⇄ veth12 in netns 4026532475 (grüße/容器) → 10.0.0.1 \\x1b';
    assert.equal(escapeTerminal(plain), plain);
    const once = escapeTerminal('\x1b[31mevil\u202e');
    assert.equal(escapeTerminal(once), once);
  });

  it('escapes every string of a data tree, keys too, so references still meet', () => {
    const tree = {
      containers: { 'c\x1b1': { name: 'web\x07', ports: [80, 'x\ny'] } },
      tenants: [{ container: 'c\x1b1', pid: 7, up: true, gone: null }],
    };
    const safe = escapeTerminalDeep(tree);
    assert.deepEqual(safe, {
      containers: { 'c\\x1b1': { name: 'web\\x07', ports: [80, 'x\\x0ay'] } },
      tenants: [{ container: 'c\\x1b1', pid: 7, up: true, gone: null }],
    });
    const key = safe.tenants[0]?.container ?? '';
    assert.equal((safe.containers as Record<string, { name: string }>)[key]?.name, 'web\\x07');
    assert.equal(tree.containers['c\x1b1'].name, 'web\x07', 'the original is not touched');
  });
});
