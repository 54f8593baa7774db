/**
 * Reading nf_tables rulesets from real network namespaces (created with
 * `ip netns add`, filled with `nft`; tests only — the reader itself never
 * spawns anything).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { uniquePrefix } from '../../testing/names.js';
import { withNetns } from '../netns.js';
import { NFPROTO_IPV4 } from './nfnetlink.js';
import { openNfnetlink, readRuleset } from './ruleset.js';

const P = uniquePrefix('wstn');
const FULL = `${P}-full`;
const EMPTY = `${P}-empty`;
const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });

describe('readRuleset on the real kernel', () => {
  before(() => {
    sh('ip', ['netns', 'add', FULL]);
    sh('ip', ['netns', 'add', EMPTY]);
    sh(
      'ip',
      ['netns', 'exec', FULL, 'nft', '-f', '-'],
      [
        `table ip ${P} {`,
        '  chain pre { type nat hook prerouting priority dstnat; policy accept;',
        '    tcp dport 8080 dnat to 10.1.1.2:80',
        '    tcp dport { 81, 82 } dnat to 10.1.1.3:80',
        '  }',
        '  set unused { type ipv4_addr; elements = { 10.0.0.1 } }',
        '}',
        `table bridge ${P}b {`,
        '  chain f { type filter hook forward priority 0; }',
        '}',
        '',
      ].join('\n'),
    );
  });
  after(() => {
    for (const n of [FULL, EMPTY]) {
      try {
        sh('ip', ['netns', 'del', n]);
      } catch {
        // already gone
      }
    }
  });

  it('reads tables, chains and rules of the namespace the socket was made in', () => {
    const sock = withNetns(`/run/netns/${FULL}`, () => openNfnetlink());
    try {
      const rs = readRuleset(sock);
      assert.deepEqual(rs.errors, []);
      assert.ok(rs.tables.some((t) => t.name === P && t.family === NFPROTO_IPV4));
      assert.ok(rs.chains.some((c) => c.table === P && c.name === 'pre' && c.type === 'nat'));
      const rule = rs.rules.find((r) => r.table === P && r.chain === 'pre');
      assert.ok(rule?.exprs.some((e) => e.type === 'nat'));
    } finally {
      sock.close();
    }
  });

  it('reads the sets that rules look up, with their elements, and only those', () => {
    const sock = withNetns(`/run/netns/${FULL}`, () => openNfnetlink());
    try {
      const rs = readRuleset(sock);
      assert.deepEqual(rs.errors, []);
      const mine = rs.sets.filter((x) => x.table === P);
      assert.equal(mine.length, 1);
      assert.deepEqual(mine[0]?.elems.map((e) => e.key?.readUInt16BE(0)).sort(), [81, 82]);
    } finally {
      sock.close();
    }
  });

  it('limits chains and rules to the requested families but still lists every table', () => {
    const sock = withNetns(`/run/netns/${FULL}`, () => openNfnetlink());
    try {
      const rs = readRuleset(sock, new Set([NFPROTO_IPV4]));
      assert.ok(rs.tables.some((t) => t.name === `${P}b`));
      assert.ok(rs.chains.every((c) => c.family === NFPROTO_IPV4));
      assert.ok(rs.rules.every((r) => r.family === NFPROTO_IPV4));
    } finally {
      sock.close();
    }
  });

  it('stops after the table dump in a namespace without tables', () => {
    const sock = withNetns(`/run/netns/${EMPTY}`, () => openNfnetlink());
    try {
      assert.deepEqual(readRuleset(sock), { tables: [], chains: [], rules: [], sets: [], errors: [] });
    } finally {
      sock.close();
    }
  });
});
