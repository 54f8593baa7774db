/** Lab file validation: every problem found before anything is touched, with line and column. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXAMPLES } from '../testing/fixtures.js';
import { LabFileError, loadLab, parseLab } from './load.js';

function errors(text: string): string[] {
  try {
    parseLab(text, 'lab.yaml');
  } catch (e) {
    if (e instanceof LabFileError) return e.errors.map((x) => `${x.line}:${x.col}: ${x.message}`);
    throw e;
  }
  return [];
}

const base = `name: t
nodes:
  a: { kind: netns }
  b: { kind: netns }
`;

describe('lab file validation', () => {
  it('accepts every example in the repository', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 4);
    for (const f of files) assert.doesNotThrow(() => loadLab(join(EXAMPLES, f)), f);
  });

  it('reports YAML syntax errors with line and column', () => {
    const e = errors('name: t\nnodes:\n  a: { kind: netns\n');
    assert.equal(e.length >= 1, true);
    assert.match(e[0] ?? '', /^\d+:\d+: /);
  });

  it('reports schema errors at the offending node: unknown kind, unknown field, missing field', () => {
    assert.deepEqual(errors(`${base}  c: { kind: vm }\n`), [
      '5:8: kind: expected one of netns, container, docker, bridge, host',
    ]);
    const unknownField = errors(`${base}  c: { kind: netns, colour: blue }\n`);
    assert.deepEqual(unknownField, ['5:21: unknown field "colour"']);
    const missing = errors('nodes:\n  a: { kind: netns }\n');
    assert.deepEqual(missing, ['1:1: missing required field "name"']);
    const badMtu = errors(`${base}links:\n  - endpoints: ["a:x", "b:x"]\n    mtu: 20\n`);
    assert.match(badMtu[0] ?? '', /^7:5: mtu: Expected integer to be greater or equal to 68/);
  });

  it('takes a container rootfs as a path or { busybox: true }, and says what else is wrong', () => {
    assert.deepEqual(errors(`${base}  c: { kind: container, rootfs: { busybox: true } }\n`), []);
    assert.deepEqual(errors(`${base}  c: { kind: container, rootfs: /srv/rootfs.tar }\n`), []);
    assert.deepEqual(errors(`${base}  c: { kind: container, rootfs: { busybox: false } }\n`), [
      '5:35: busybox: Expected true',
    ]);
    assert.deepEqual(errors(`${base}  c: { kind: container, rootfs: { busybox: true, tar: x } }\n`), [
      '5:50: unknown field "tar"',
    ]);
    assert.deepEqual(errors(`${base}  c: { kind: netns, rootfs: { busybox: true } }\n`), [
      '5:21: "rootfs" does not apply to a netns node',
    ]);
  });

  it('reports unknown nodes in endpoints', () => {
    assert.deepEqual(errors(`${base}links:\n  - endpoints: ["a:eth0", "c:eth0"]\n`), [
      '6:27: unknown node "c" in endpoint',
    ]);
  });

  it('reports duplicate interface names in one namespace and over-long names', () => {
    const dup = errors(
      `${base}links:\n  - endpoints: ["a:eth0", "b:eth0"]\n  - endpoints: ["a:eth0", "b:eth1"]\n`,
    );
    assert.equal(dup.length, 1);
    assert.match(dup[0] ?? '', /^7:17: interface "eth0" is declared twice in namespace of node "a"/);
    // IFNAMSIZ is 16 with the NUL: 15 bytes fit, 16 do not.
    assert.deepEqual(errors(`${base}links:\n  - endpoints: ["a:fifteen-bytes-x", "b:eth0"]\n`), []);
    const longer = errors(`${base}links:\n  - endpoints: ["a:sixteen-bytes-xy", "b:eth0"]\n`);
    assert.deepEqual(longer, [
      '6:17: interface name "sixteen-bytes-xy" is 16 bytes; Linux allows at most 15',
    ]);
  });

  it('reports address conflicts and malformed addresses', () => {
    const conflict = errors(
      `${base}links:\n  - endpoints:\n      - { node: a, name: e0, ipv4: 10.0.0.1/24 }\n      - { node: b, name: e0, ipv4: 10.0.0.1/24 }\n`,
    );
    assert.deepEqual(conflict, ['8:9: address 10.0.0.1 is also assigned to a:e0']);
    const bad = errors(
      `${base}links:\n  - endpoints:\n      - { node: a, name: e0, ipv4: 10.0.0.300/24 }\n      - b:e0\n`,
    );
    assert.deepEqual(bad, ['7:30: "10.0.0.300/24" is not an IPv4 address with prefix']);
  });

  it('reports kind mismatches: a route on a bridge, a macvlan without parent, a partition of an unknown node', () => {
    const e = errors(
      `${base}  br: { kind: bridge, routes: [] }\nlinks:\n  - type: macvlan\n    endpoint: a:m0\npartitions:\n  - isolate: [zz]\n`,
    );
    assert.deepEqual(e, [
      '5:23: "routes" does not apply to a bridge node',
      '7:5: a macvlan link needs "parent" ("node:interface")',
      '10:15: "zz" is not a netns, container or docker node',
    ]);
  });

  it('reports bad policy rules: malformed CIDRs, interfaces the node does not have', () => {
    const e = errors(
      `${base}  c:\n    kind: netns\n    rules:\n` +
        '      - { from: 10.1.0.300/24, table: 100, priority: 10 }\n' +
        '      - { to: "fd00::/200", table: 100, priority: 11 }\n' +
        '      - { from: all, iif: eth9, oif: eth0, table: 100, priority: 12 }\n' +
        '      - { iif: lo, table: 100, priority: 13 }\n' +
        'links:\n  - endpoints: ["a:eth0", "b:eth0"]\n',
    );
    assert.deepEqual(e, [
      '8:11: "10.1.0.300/24" is not a CIDR (e.g. 10.1.0.0/24 or 2001:db8::/64) or "all"',
      '9:11: "fd00::/200" is not a CIDR (e.g. 10.1.0.0/24 or 2001:db8::/64) or "all"',
      '10:22: interface "eth9" is not declared in node "c"',
      '10:33: interface "eth0" is not declared in node "c"',
    ]);
  });

  it('reports rule priorities out of range and a rule without a table', () => {
    const rule = (r: string) => errors(`${base}  c:\n    kind: netns\n    rules:\n      - ${r}\n`);
    assert.deepEqual(rule('{ from: 10.1.0.0/24, table: 100, priority: 0 }'), [
      '8:42: priority: Expected integer to be greater or equal to 1',
    ]);
    assert.deepEqual(rule('{ from: 10.1.0.0/24, table: 100, priority: 4294967296 }'), [
      '8:42: priority: Expected integer to be less or equal to 4294967295',
    ]);
    assert.deepEqual(rule('{ from: 10.1.0.0/24, priority: 5 }'), ['8:9: missing required field "table"']);
    assert.deepEqual(rule('{ from: 10.1.0.0/24, table: 7 }'), ['8:9: missing required field "priority"']);
  });

  it('reports duplicate priority and selector, mixed families, bad marks and tables, on rules and routes', () => {
    const e = errors(
      `${base}  c:\n    kind: netns\n    rules:\n` +
        '      - { from: 10.1.0.0/24, table: 100, priority: 10 }\n' +
        // The same network written with host bits, another table: the kernel would only ever use the first.
        '      - { from: 10.1.0.9/24, table: 200, priority: 10 }\n' +
        // Same priority, different selectors (mark, mask, family): fine.
        '      - { from: 10.1.0.0/24, table: 100, priority: 11, fwmark: 0x10 }\n' +
        '      - { from: 10.1.0.0/24, table: 100, priority: 11, fwmark: "0x10/0xff" }\n' +
        '      - { family: ipv6, table: main, priority: 10 }\n' +
        '      - { from: 10.1.0.0/24, to: "fd00::/8", table: 100, priority: 12 }\n' +
        '      - { fwmark: "0xzz", table: 100, priority: 13 }\n' +
        '      - { from: 10.2.0.0/24, table: 0, priority: 14 }\n' +
        '      - { from: 10.2.0.0/24, table: blue, priority: 15 }\n' +
        '    routes:\n' +
        '      - { dst: 10.9.0.0/16, dev: eth0, table: 4294967295 }\n' +
        '      - { dst: 10.9.0.0/16, dev: eth0, table: local }\n' +
        'links:\n  - endpoints: ["c:eth0", "a:eth0"]\n',
    );
    assert.deepEqual(e, [
      '18:40: table 4294967295 is not a routing table (an id 1..4294967294, or main, local, default)',
      '9:42: this rule has the same priority and selector as an earlier rule of node "c" (10: from 10.1.0.0/24 lookup 100)',
      '13:9: a rule mixes IPv4 and IPv6 (from, to and family must agree)',
      '14:11: "0xzz" is not a firewall mark (e.g. 0x10 or 0x10/0xff)',
      '15:30: table 0 is not a routing table (an id 1..4294967294, or main, local, default)',
      '16:30: table "blue" is not a routing table (an id 1..4294967294, or main, local, default)',
    ]);
  });

  it('reports rules on a bridge node, where no namespace of its own holds them', () => {
    assert.deepEqual(errors(`${base}  br: { kind: bridge, rules: [] }\n`), [
      '5:23: "rules" does not apply to a bridge node',
    ]);
  });

  it('refuses node names that would leave a directory or a line, at the name, with the body unread', () => {
    for (const [key, shownAs] of [
      ['"../../x"', '"../../x"'],
      ['"a/b"', '"a/b"'],
      ['".."', '".."'],
      ['"a\\nb"', '"a\\nb"'],
      ['"-a"', '"-a"'],
      [`${'n'.repeat(64)}`, `"${'n'.repeat(64)}"`],
    ]) {
      // The body is not even a node: a name that fails is never taken with its body unchecked.
      const e = errors(`name: t\nnodes:\n  ${key}: { kind: netns, colour: blue }\n`);
      assert.equal(e.length, 1, `${key}: ${e.join(' | ')}`);
      assert.equal(
        e[0],
        `3:3: node name ${shownAs} is not valid (letters, digits, "_", "." and "-", starting with a letter or digit, at most 63 characters)`,
      );
    }
    assert.deepEqual(errors('name: ../t\nnodes: {}\n'), [
      '1:1: name: "../t" is not a lab name (letters, digits, "_", "." and "-", starting with a letter or digit, at most 32 characters)',
    ]);
  });

  it('keeps every error one line: control characters in quoted names are escaped', () => {
    const e = errors(`${base}links:\n  - endpoints: ["a:e\\x1b[2J", "b:eth0"]\n`);
    assert.deepEqual(e, [
      '6:17: interface name "e\\x1b[2J" is not valid (letters, digits, "_", ".", "+" and "-", not starting with "." or "-", at most 15 bytes)',
    ]);
  });

  it('holds interface names, host names, domains and addresses that reach nft or /etc to strict patterns', () => {
    const nat = (out: string) =>
      errors(`${base}nat:\n  masquerade: [{ source: 10.1.0.0/24, out: ${JSON.stringify(out)} }]\n`);
    assert.deepEqual(nat('eth0'), []);
    assert.deepEqual(nat('br-1a2b.100'), []);
    for (const bad of ['x" ; flush ruleset', 'eth*', 'sixteen-bytes-xy', '-x', 'a b']) {
      const e = nat(bad);
      assert.equal(e.length, 1, bad);
      assert.match(e[0] ?? '', /^6:39: out: ".*" is not an interface name/, bad);
    }
    const box = (extra: string) =>
      errors(`name: t\nnodes:\n  c: { kind: container, rootfs: /x, ${extra} }\n`);
    assert.deepEqual(box('hostname: "box"'), []);
    assert.match(
      box('hostname: "a\\nnameserver 1.1.1.1"')[0] ?? '',
      /hostname: "a\\nnameserver 1\.1\.1\.1" is not a host name/,
    );
    assert.match(box('dns: { search: ["a b"] }')[0] ?? '', /"a b" is not a DNS domain/);
    assert.match(box('dns: { nameservers: ["1.1.1.1\\nsearch x"] }')[0] ?? '', /is not an IP address/);
    assert.match(
      box('hosts: { "gw\\n1.2.3.4 bank": 10.0.0.1 }')[0] ?? '',
      /host name "gw\\n1\.2\.3\.4 bank" is not valid/,
    );
    assert.match(box('hosts: { gw: "10.0.0.1 evil" }')[0] ?? '', /"10\.0\.0\.1 evil" is not an IP address/);
    const parent = errors(`${base}links:\n  - { type: macvlan, endpoint: a:m0, parent: "a:x/y" }\n`);
    assert.match(parent[0] ?? '', /interface name "x\/y" is not valid/);
  });

  it('reports a file that cannot be read in one line', () => {
    assert.throws(() => loadLab('/nonexistent/lab.yaml'), {
      message: '/nonexistent/lab.yaml: cannot read: ENOENT',
    });
  });
});
