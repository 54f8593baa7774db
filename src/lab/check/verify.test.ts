/**
 * verifyLab is a pure function of (declaration, discovery, facts): one real
 * discovery of a small lab, then edited copies of it stand for drift. This is
 * the contract the service uses to mark missing, extra and changed objects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { discover } from '../../discover.js';
import type { Discovery, Draft } from '../../model/types.js';
import { labUp } from '../build/apply.js';
import { readState } from '../build/state.js';
import { type LoadedLab, loadLab } from '../file/load.js';
import { cleanup, type TestLab, uniqueLab } from '../testing/fixtures.js';
import { formatDrift, verifyLab } from './verify.js';
import { stateOwners } from './verify-run.js';

describe('verifyLab (pure): drift between a declaration and a discovery', () => {
  let t: TestLab | undefined;
  let lab: LoadedLab;
  let base: Draft.Discovery;
  const net = (d: Draft.Discovery, node: string): Draft.NetworkNamespace => {
    const ino = readState(lab.topology.name)?.nodes[node]?.netns;
    const n = ino === undefined ? undefined : d.networks[String(ino)];
    if (!n) throw new Error(`no network for ${node}`);
    return n;
  };
  const copy = (): Draft.Discovery => structuredClone(base);
  // The state file's record of the node processes: what verify trusts, never a process's name.
  const owners = () => stateOwners(readState(lab.topology.name));
  const lines = (d: Draft.Discovery, facts = {}) =>
    verifyLab(lab.topology, d as Discovery, { owners: owners(), ...facts }).drift.map(
      (x) => `${x.op} ${x.message}`,
    );

  before(async () => {
    t = uniqueLab('vagga.yaml');
    lab = loadLab(t.file);
    await labUp(lab);
    base = structuredClone((await discover({ dns: false, network: { sockets: false } })) as Draft.Discovery);
  });
  after(() => cleanup(t));

  it('is clean on the discovery of what it built, and stays so when run twice', () => {
    assert.deepEqual(lines(copy()), []);
    assert.deepEqual(lines(copy()), []);
    assert.equal(
      formatDrift(verifyLab(lab.topology, copy() as Discovery, { owners: owners() })),
      `lab ${lab.topology.name}: clean\n`,
    );
  });

  it('ignores kernel-made state: link-local addresses, connected and local routes', () => {
    const d = copy();
    const g = net(d, 'guest1');
    const eth0 = g.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0);
    eth0.addresses.push({
      family: 'inet6',
      address: 'fe80::1',
      prefixlen: 64,
      scope: 'link',
      flags: ['permanent'],
    });
    g.routes.push({
      family: 'inet',
      type: 'unicast',
      protocol: 'kernel',
      scope: 'link',
      table: 254,
      dst: '10.9.0.0/24',
      flags: [],
      nexthops: [],
      dev: eth0.index,
    });
    g.routes.push({
      family: 'inet',
      type: 'local',
      protocol: 'kernel',
      scope: 'host',
      table: 255,
      dst: '10.9.0.1/32',
      flags: [],
      nexthops: [],
    });
    assert.deepEqual(lines(d), []);
  });

  it('reports a veth gone from both ends once, at the link, and hides what went with it', () => {
    const d = copy();
    const g = net(d, 'guest2');
    g.interfaces = g.interfaces.filter((i) => i.name !== 'eth0');
    g.routes = g.routes.filter((r) => r.gateway === undefined);
    const b = net(d, 'bridge');
    b.interfaces = b.interfaces.filter((i) => i.name !== 'g2');
    assert.deepEqual(lines(d), ['- br0:g2 <-> guest2:eth0 (veth): declared, missing']);
  });

  it('reports a down interface and a lost bridge port as "~" with both values', () => {
    const d = copy();
    const eth0 = net(d, 'guest3').interfaces.find((i) => i.name === 'eth0');
    const g3 = net(d, 'bridge').interfaces.find((i) => i.name === 'g3');
    assert.ok(eth0 && g3);
    eth0.flags = eth0.flags.filter((f) => f !== 'up');
    delete g3.master;
    const r = verifyLab(lab.topology, d as Discovery, { owners: owners() });
    assert.deepEqual(
      r.drift.map((x) => [x.op, x.path, x.declared, x.found]),
      [
        ['~', 'br0:g3.master', 'br0', 'none'],
        ['~', 'guest3:eth0.state', 'up', 'down'],
      ],
    );
    // Each difference names the kernel object, for the service's wiring view.
    assert.ok(r.drift.every((x) => typeof x.netns === 'number' && typeof x.index === 'number'));
  });

  it('reports undeclared interfaces, addresses and routes inside the lab namespaces as "+"', () => {
    const d = copy();
    const g = net(d, 'guest1');
    const eth0 = g.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0);
    g.interfaces.push({ ...eth0, name: 'sneaky0', index: 99, addresses: [] });
    eth0.addresses.push({
      family: 'inet',
      address: '192.0.2.7',
      prefixlen: 32,
      scope: 'global',
      flags: ['permanent'],
    });
    g.routes.push({
      family: 'inet',
      type: 'unicast',
      protocol: 'boot',
      scope: 'global',
      table: 254,
      dst: '198.51.100.0/24',
      gateway: '172.18.0.254',
      flags: [],
      nexthops: [],
      dev: eth0.index,
    });
    assert.deepEqual(lines(d).sort(), [
      '+ guest1:eth0 address 192.0.2.7/32: present, undeclared',
      '+ guest1:sneaky0 (veth): present, undeclared',
      '+ route 198.51.100.0/24 via 172.18.0.254 dev eth0 in guest1: present, undeclared',
    ]);
  });

  it('leaves alone host interfaces on bridges the lab does not declare', () => {
    const d = copy();
    const host = Object.values(d.networks).find((n) => n.isInitial);
    const vagga = lab.topology.ifs.find((x) => x.node === 'host');
    const hostIf = host?.interfaces.find((i) => i.name === vagga?.name);
    assert.ok(host && hostIf);
    const br = { ...hostIf, name: 'wstbr9', index: 9001, kind: 'bridge', alias: undefined, addresses: [] };
    host.interfaces.push(br, {
      ...hostIf,
      name: 'wstfx9',
      index: 9002,
      alias: undefined,
      addresses: [],
      master: { netns: host.ino, index: 9001 },
    });
    assert.deepEqual(lines(d), [], 'a bridge the lab does not declare is none of its business');
  });

  it('reports a node whose process is gone once, not its interfaces or its peers', () => {
    const d = copy();
    const st = readState(lab.topology.name)?.nodes.guest1;
    assert.ok(st);
    delete d.processes[String(st.pid)];
    delete d.networks[String(st.netns)];
    const b = net(d, 'bridge');
    b.interfaces = b.interfaces.filter((i) => i.name !== 'g1');
    assert.deepEqual(lines(d), ['- node guest1 (netns): declared, not running']);
  });

  it('takes no process for a node on its name: only the recorded pid with its start time counts', () => {
    const st = readState(lab.topology.name)?.nodes.guest1;
    assert.ok(st);
    // A look-alike: the mark as argv[0], even in the node's old namespace, with the recorded holder gone.
    const d = copy();
    const real = d.processes[String(st.pid)];
    assert.ok(real);
    delete d.processes[String(st.pid)];
    d.processes['999999'] = { ...real, pid: 999999, cmdline: [`wirescope-lab:${lab.topology.name}:guest1`] };
    assert.deepEqual(lines(d), ['- node guest1 (netns): declared, not running']);
    // The recorded pid reused by another process (another start time).
    const e = copy();
    const p = e.processes[String(st.pid)];
    assert.ok(p);
    p.starttime += 1;
    assert.deepEqual(lines(e), ['- node guest1 (netns): declared, not running']);
  });

  it('reports partition rules from the facts: missing, and another lab mark as present', () => {
    const mark = `wirescope-lab:${lab.topology.name}:partition:guest3`;
    const facts = {
      nft: {
        guest1: [{ chain: 'input', comment: `wirescope-lab:${lab.topology.name}:partition:guest2 0000` }],
        guest2: [{ chain: 'input', comment: `${mark} 00000000` }],
      },
    };
    const got = lines(copy(), facts);
    assert.ok(got.includes(`- partition rule partition:guest3 in guest1: declared, missing`), got.join('\n'));
    assert.ok(
      got.includes(`+ partition rule partition:guest2 in guest1: present, undeclared`),
      got.join('\n'),
    );
    assert.ok(
      got.includes(`~ partition rule partition:guest3 in guest2: declared one rule, found another`),
      got.join('\n'),
    );
  });
});
