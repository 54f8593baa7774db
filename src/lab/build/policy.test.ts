/**
 * The policy-routing example on the real kernel: routes in table 100 and
 * rules selecting it by source address (IPv4 and IPv6) and firewall mark.
 * The kernel's own route lookup (`ip route get`) and real traffic follow the
 * rules; drift in rules and non-main tables is reported once and repaired.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ip, tryIp } from '../../testing/ip.js';
import { uniquePrefix } from '../../testing/names.js';
import {
  cleanup,
  cli,
  driftOf,
  footprint,
  inNode,
  perturbationTests,
  ping,
  reachesFrom,
  reportedOnceAndRepaired,
  uniqueLab,
  useExampleLab,
} from '../testing/fixtures.js';

/** `ip route get` from inside a node, e.g. "203.0.113.1 from 10.0.2.2 via 10.0.2.1 dev eth2 table 100". */
const routeGet = (lab: string, node: string, args: string[]): string => {
  const r = inNode(lab, node, ['ip', 'route', 'get', ...args]);
  assert.equal(r.code, 0, r.out);
  return r.out;
};

describe('lab: policy routing example (table 100, rules by source and mark)', () => {
  const lab = useExampleLab('policy-routing.yaml');

  it('a second up changes nothing, and the plan of a dry run is empty', async () => {
    const r = await cli('lab', 'up', lab().file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up to date, nothing to do/);
    const plan = await cli('lab', 'up', '--dry-run', '--json', lab().file);
    assert.deepEqual((JSON.parse(plan.stdout) as { steps: unknown[] }).steps, []);
  });

  it('installs the rules with the lab protocol and the routes in table 100', () => {
    const n = lab().name;
    const rules = inNode(n, 'client', ['ip', 'rule', 'show']).out;
    assert.match(rules, /^1000:\s+from 10\.0\.2\.0\/24 lookup 100 proto static$/m);
    assert.match(rules, /^1100:\s+from all fwmark 0x10\/0xff lookup 100 proto static$/m);
    assert.match(
      inNode(n, 'client', ['ip', '-6', 'rule', 'show']).out,
      /^1000:\s+from fd00:2::\/64 lookup 100/m,
    );
    const t100 = inNode(n, 'client', ['ip', 'route', 'show', 'table', '100']).out;
    assert.match(t100, /^default via 10\.0\.2\.1 dev eth2 proto static/m);
    assert.match(
      inNode(n, 'client', ['ip', '-6', 'route', 'show', 'table', '100']).out,
      /^default via fd00:2::1 dev eth2 proto static/m,
    );
  });

  it('the kernel looks up table 100 for the declared source and mark, main otherwise', () => {
    const n = lab().name;
    assert.match(
      routeGet(n, 'client', ['203.0.113.1', 'from', '10.0.2.2']),
      /via 10\.0\.2\.1 dev eth2 table 100/,
    );
    assert.match(
      routeGet(n, 'client', ['203.0.113.1', 'mark', '0x10']),
      /via 10\.0\.2\.1 dev eth2 table 100/,
    );
    // The mask is 0xff: bits above it do not matter.
    assert.match(routeGet(n, 'client', ['203.0.113.1', 'mark', '0x110']), /table 100/);
    const main = routeGet(n, 'client', ['203.0.113.1', 'from', '10.0.1.2']);
    assert.match(main, /via 10\.0\.1\.1 dev eth1/);
    assert.doesNotMatch(main, /table/);
    assert.match(
      routeGet(n, 'client', ['2001:db8:113::1', 'from', 'fd00:2::2']),
      /via fd00:2::1 dev eth2 table 100/,
    );
  });

  it('carries traffic by the rule: world is reached only from the address routed through r2', () => {
    const n = lab().name;
    assert.ok(reachesFrom(n, 'client', '10.0.2.2', '203.0.113.1'), 'from 10.0.2.2 via table 100 and r2');
    assert.ok(reachesFrom(n, 'client', 'fd00:2::2', '2001:db8:113::1'), 'IPv6 from fd00:2::2 via r2');
    // From the first address the main table sends it to r1, which has no way to world.
    assert.ok(!ping(n, 'client', '203.0.113.1'), 'the main table goes to r1');
  });

  it('verify is clean', async () => {
    const r = await cli('verify', '--json', lab().file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(driftOf(r), []);
  });

  it('reports a deleted rule once, and up re-adds it', async () => {
    const t = lab();
    const del = inNode(t.name, 'client', ['ip', 'rule', 'del', 'priority', '1000', 'from', '10.0.2.0/24']);
    assert.equal(del.code, 0, del.out);
    await reportedOnceAndRepaired(
      t,
      /^- rule 1000: from 10\.0\.2\.0\/24 lookup 100 in client: declared, missing$/,
      assert,
    );
    assert.match(routeGet(t.name, 'client', ['203.0.113.1', 'from', '10.0.2.2']), /table 100/);
  });

  it('reports a rule pointing at another table once, as "~", and up puts it back', async () => {
    const t = lab();
    const ip6 = (args: string[]) => {
      const r = inNode(t.name, 'client', ['ip', '-6', 'rule', ...args]);
      assert.equal(r.code, 0, r.out);
    };
    ip6(['del', 'priority', '1000', 'from', 'fd00:2::/64']);
    ip6(['add', 'priority', '1000', 'from', 'fd00:2::/64', 'table', '200']);
    await reportedOnceAndRepaired(
      t,
      /^~ rule 1000 in client: declared 1000: from fd00:2::\/64 lookup 100, found 1000: from fd00:2::\/64 lookup 200$/,
      assert,
    );
    const rules = inNode(t.name, 'client', ['ip', '-6', 'rule', 'show']).out;
    assert.doesNotMatch(rules, /lookup 200/);
  });

  it('reports a changed route in table 100 once, as "~", and up restores it', async () => {
    const t = lab();
    const r = inNode(t.name, 'client', [
      'ip',
      'route',
      'replace',
      'default',
      'via',
      '10.0.1.1',
      'table',
      '100',
    ]);
    assert.equal(r.code, 0, r.out);
    await reportedOnceAndRepaired(
      t,
      /^~ route default table 100 in client: declared default via 10\.0\.2\.1 table 100, found default via 10\.0\.1\.1 dev eth1 table 100$/,
      assert,
    );
    assert.match(
      inNode(t.name, 'client', ['ip', 'route', 'show', 'table', '100']).out,
      /^default via 10\.0\.2\.1 /m,
    );
  });

  it('reports a deleted route in table 100 once, and an undeclared one in table 300 once; up fixes both', async () => {
    const t = lab();
    const del = inNode(t.name, 'client', ['ip', '-6', 'route', 'del', 'default', 'table', '100']);
    assert.equal(del.code, 0, del.out);
    await reportedOnceAndRepaired(
      t,
      /^- route default via fd00:2::1 table 100 in client: declared, missing$/,
      assert,
    );
    const add = inNode(t.name, 'client', [
      'ip',
      'route',
      'add',
      '192.0.2.0/24',
      'via',
      '10.0.2.1',
      'table',
      '300',
    ]);
    assert.equal(add.code, 0, add.out);
    await reportedOnceAndRepaired(
      t,
      /^\+ route 192\.0\.2\.0\/24 via 10\.0\.2\.1 dev eth2 table 300 in client: present, undeclared$/,
      assert,
    );
    assert.equal(inNode(t.name, 'client', ['ip', 'route', 'show', 'table', '300']).out.trim(), '');
  });

  it('reports an undeclared rule once, and up removes it (the kernel rules stay)', async () => {
    const t = lab();
    const add = inNode(t.name, 'client', [
      'ip',
      'rule',
      'add',
      'priority',
      '1500',
      'to',
      '198.51.100.0/24',
      'table',
      '100',
    ]);
    assert.equal(add.code, 0, add.out);
    await reportedOnceAndRepaired(
      t,
      /^\+ rule 1500: from all to 198\.51\.100\.0\/24 lookup 100 in client: present, undeclared$/,
      assert,
    );
    const rules = inNode(t.name, 'client', ['ip', 'rule', 'show']).out;
    assert.doesNotMatch(rules, /^1500:/m);
    for (const k of [
      /^0:\s+from all lookup local/m,
      /^32766:\s+from all lookup main/m,
      /^32767:\s+from all lookup default/m,
    ])
      assert.match(rules, k);
  });

  it('reconciles an edited file: a changed rule table and a new route table are replaced, nothing else', async () => {
    const t0 = lab();
    const edited = uniqueLab('policy-routing.yaml', (d) => {
      d.name = t0.name;
      const c = d.nodes.client;
      assert.ok(c?.routes && c.rules);
      c.routes = c.routes.map((r) => (r.via === '10.0.2.1' ? { ...r, table: 'default' } : r));
      c.rules = c.rules.map((r) => (r.from === '10.0.2.0/24' ? { ...r, table: 'default' } : r));
    });
    try {
      const plan = await cli('lab', 'up', '--dry-run', edited.file);
      assert.equal(plan.code, 0, plan.stderr);
      const lines = plan.stdout.split('\n').filter((l) => /^ {2}[-+~] /.test(l));
      assert.deepEqual(lines.sort(), [
        '  + add route default via 10.0.2.1 table default in client',
        '  + add rule 1000: from 10.0.2.0/24 lookup default in client',
        '  - delete route default via 10.0.2.1 table 100 in client',
        '  - delete rule 1000: from 10.0.2.0/24 lookup 100 in client',
      ]);
      assert.equal((await cli('lab', 'up', edited.file)).code, 0);
      assert.equal((await cli('verify', edited.file)).code, 0);
      assert.match(routeGet(t0.name, 'client', ['203.0.113.1', 'from', '10.0.2.2']), /table default/);
    } finally {
      await cli('lab', 'up', t0.file);
      spawnSync('rm', ['-rf', edited.dir]);
    }
    assert.equal((await cli('verify', t0.file)).code, 0);
  });

  perturbationTests(
    lab,
    {
      veth: {
        node: 'world',
        ifname: 'eth0',
        expect: /^- r2:eth1 <-> world:eth0 \(veth\): declared, missing/,
      },
      address: {
        node: 'client',
        ifname: 'eth2',
        from: '10.0.2.2/24',
        to: '10.0.2.9/24',
        expect: /^~ client:eth2\.ipv4: declared 10\.0\.2\.2\/24, found 10\.0\.2\.9\/24/,
      },
      route: {
        node: 'client',
        dst: 'default',
        expect: /^- route default via 10\.0\.1\.1 in client: declared, missing/,
      },
      kill: { node: 'client', expect: /^- node client \(netns\): declared, not running/ },
    },
    it,
    assert,
  );

  it('down removes the lab, its routes and rules, and leaves nothing behind', async () => {
    const r = await cli('lab', 'down', lab().file);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await footprint(lab().name), []);
  });
});

describe('lab: policy rules and table routes on the host node', () => {
  it('are installed, left alone by a second up, verified, and removed by down', async () => {
    // A unique benchmark-range source (RFC 2544) and priority: nothing else on this host uses them.
    const a = 1 + Math.floor(Math.random() * 250);
    const prio = 20000 + Math.floor(Math.random() * 10000);
    const table = 100000 + Math.floor(Math.random() * 100000);
    const ifname = uniquePrefix('wst', 5);
    const t = uniqueLab('policy-routing.yaml', (d) => {
      d.nodes = {
        host: {
          kind: 'host',
          rules: [{ from: `198.18.${a}.0/24`, table, priority: prio }],
          routes: [{ dst: `198.19.${a}.0/24`, dev: ifname, table }],
        },
        peer: { kind: 'netns' },
      };
      d.links = [{ endpoints: [{ node: 'host', name: ifname, ipv4: `198.18.${a}.1/24` }, 'peer:eth0'] }];
    });
    const hostRules = () => ip('rule', 'show');
    try {
      const up = await cli('lab', 'up', t.file);
      assert.equal(up.code, 0, up.stderr + stringify(t.decl));
      assert.match(
        hostRules(),
        new RegExp(`^${prio}:\\s+from 198\\.18\\.${a}\\.0/24 lookup ${table} proto static$`, 'm'),
      );
      const get = ip('route', 'get', `198.19.${a}.7`, 'from', `198.18.${a}.1`);
      assert.match(get, new RegExp(`table ${table}`));
      const again = await cli('lab', 'up', t.file);
      assert.match(again.stdout, /up to date, nothing to do/);
      assert.equal((await cli('verify', t.file)).code, 0);
      const down = await cli('lab', 'down', t.name);
      assert.equal(down.code, 0, down.stderr);
      assert.doesNotMatch(hostRules(), new RegExp(`^${prio}:`, 'm'));
      assert.match(hostRules(), /^32766:\s+from all lookup main/m);
      const left = ip('route', 'show', 'table', String(table));
      assert.equal(left.trim(), '');
      assert.deepEqual(await footprint(t.name), []);
    } finally {
      tryIp('rule', 'del', 'priority', String(prio));
      await cleanup(t);
    }
  });
});
