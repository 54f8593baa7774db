/**
 * The neighbourhood check on plain namespaces the test builds: a start
 * namespace on a bridge with neighbours that answer ping, serve TCP, drop
 * everything (nft) or have their link down, and a namespace on another wire
 * that is no neighbour. Every verdict is asserted.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { closeDiscovery, discover } from '../discover.js';
import type { Discovery } from '../model/types.js';
import { NetFixtures, netnsIno } from '../network/testing/fixtures.js';
import { poll } from '../testing/eventually.js';
import { inNetns, ipBatch } from '../testing/ip.js';
import { runPlan } from './engine.js';
import { CheckTargetError, checkNeighbourhood, findTarget } from './run.js';
import { type CheckPlan, DEFAULT_LIMITS, type Verdict } from './types.js';

describe('neighbourhood check on plain namespaces', () => {
  const fx = new NetFixtures();
  const p = fx.prefix;
  const [sw, a, b, c, d, e, f, g] = ['sw', 'a', 'b', 'c', 'd', 'e', 'f', 'g'].map(
    (n) => `${p}-${n}`,
  ) as string[] as [string, string, string, string, string, string, string, string];
  let disc: Discovery;

  before(async () => {
    fx.netns('sw', 'a', 'b', 'c', 'd', 'e', 'f', 'g');
    // The switch has an address of its own on the bridge device, as a host has on docker0.
    const lines = [
      `-n ${sw} link add br0 type bridge`,
      `-n ${sw} addr add 10.77.0.254/24 dev br0`,
      `-n ${sw} link set br0 up`,
    ];
    [a, b, c, d, e].forEach((ns, i) => {
      lines.push(
        `-n ${sw} link add p${i} type veth peer name eth0 netns ${ns}`,
        `-n ${sw} link set p${i} master br0 up`,
        `-n ${ns} addr add 10.77.0.${i + 1}/24 dev eth0`,
        `-n ${ns} link set eth0 up`,
        `-n ${ns} link set lo up`,
      );
    });
    // b also speaks IPv6: its address is probed with ICMPv6 from a.
    lines.push(`-n ${a} addr add fd77::1/64 dev eth0 nodad`, `-n ${b} addr add fd77::2/64 dev eth0 nodad`);
    // f–g: a wire of their own, with an address in the same subnet: not a neighbour of a.
    lines.push(
      `-n ${f} link add eth0 type veth peer name eth0 netns ${g}`,
      `-n ${f} addr add 10.77.0.9/24 dev eth0`,
      `-n ${f} link set eth0 up`,
      `-n ${g} link set eth0 up`,
    );
    ipBatch(lines);
    // d drops everything that comes in; e's link goes down (its address stays).
    inNetns(d, 'nft', ['-f', '-'], {
      input:
        'table inet wsdrop {\n chain dropall {\n  type filter hook input priority 0; policy drop;\n }\n}\n',
    });
    ipBatch([`-n ${e} link set eth0 down`]);
    await fx.sockets(['tcp,4,0.0.0.0,8080'], { inside: c });
    disc = await discover({ dns: false });
  });

  after(async () => {
    fx.cleanup();
    await closeDiscovery();
  });

  const byAddress = (vs: readonly Verdict[], addr: string) => vs.find((v) => v.address === addr);

  it('finds the start namespace by its bind-mount name', () => {
    const r = findTarget(disc, a);
    assert.equal(r, netnsIno(a));
  });

  it('verifies what answers, and says why the rest does not', async () => {
    const updates: Verdict[] = [];
    const r = await checkNeighbourhood(disc, a, {
      onVerdict: (v) => updates.push(v),
      limits: { probeTimeoutMs: 800 },
    });
    assert.deepEqual(
      r.neighbours.map((n) => n.netns).sort(),
      [b, c, d, e].map(netnsIno).sort(),
      'neighbours are b, c, d, e',
    );
    assert.equal(r.target.netns, netnsIno(a));
    assert.equal(r.verdicts.length, 5);
    const v6 = byAddress(r.verdicts, 'fd77::2');
    assert.deepEqual([v6?.quality, v6?.via], ['verified', 'icmp'], 'ICMPv6 echo answers');
    const vb = byAddress(r.verdicts, '10.77.0.2');
    assert.equal(vb?.quality, 'verified');
    assert.equal(vb?.via, 'icmp');
    const vc = byAddress(r.verdicts, '10.77.0.3');
    assert.equal(vc?.quality, 'verified');
    assert.equal(vc?.via, 'tcp/8080', 'a known listener is probed by TCP');
    const vd = byAddress(r.verdicts, '10.77.0.4');
    assert.equal(vd?.quality, 'unreachable', 'the nft drop is unreachable, not verified');
    assert.match(vd?.error ?? '', /icmp/);
    const ve = byAddress(r.verdicts, '10.77.0.5');
    assert.equal(ve?.quality, 'unreachable');
    assert.equal(r.ok, false);
    assert.equal(byAddress(r.verdicts, '10.77.0.9'), undefined, 'f is no neighbour');
    // Each address was streamed as it changed: unverified, verifying, then its verdict.
    const seqB = updates.filter((v) => v.address === '10.77.0.2').map((v) => v.quality);
    assert.deepEqual(seqB, ['unverified', 'verifying', 'verified']);
  });

  it('checks from the namespace that holds the bridge: every port leads to a neighbour', async () => {
    const r = await checkNeighbourhood(disc, sw, { limits: { probeTimeoutMs: 800 } });
    assert.deepEqual(
      r.neighbours.map((n) => [n.netns, n.segments.map((s) => s.device)]).sort(),
      [a, b, c, d, e].map((ns) => [netnsIno(ns), ['br0']]).sort(),
      'one segment, the bridge; its ports (switch ports) are no segments of their own',
    );
    assert.deepEqual(r.notes, []);
    assert.deepEqual(
      [
        byAddress(r.verdicts, '10.77.0.2')?.quality,
        byAddress(r.verdicts, '10.77.0.3')?.via,
        byAddress(r.verdicts, '10.77.0.4')?.quality,
      ],
      ['verified', 'tcp/8080', 'unreachable'],
    );
  });

  it('says so in one line when the start namespace vanished before the check entered it', async () => {
    const gone = new NetFixtures();
    try {
      gone.netns('x');
      const x = `${gone.prefix}-x`;
      const d2 = await discover({ dns: false });
      ipBatch([`netns del ${x}`]);
      await assert.rejects(checkNeighbourhood(d2, x), /vanished before the check could enter it/);
    } finally {
      gone.cleanup();
    }
  });

  it('closes its sockets when cancelled mid-check (they are fds of the process, not of the thread)', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // The earlier tests' worker threads may still be closing their own fds (their event
    // loops): the baseline is the count once it has held still for half a second.
    let baseline = fds();
    for (let still = 0, tries = 0; still < 10 && tries < 200; tries++) {
      await sleep(50);
      const now = fds();
      still = now === baseline ? still + 1 : 0;
      baseline = now;
    }
    // A worker thread's own fds (its event loop) close as it ends, shortly after the result.
    const settled = async (what: string) => {
      await poll(fds, (n) => n <= baseline, { timeoutMs: 10_000, intervalMs: 50 });
      assert.ok(fds() <= baseline, `${what}: ${fds()} fds open, ${baseline} before`);
    };
    await checkNeighbourhood(disc, a, { limits: { probeTimeoutMs: 300 } });
    await settled('a finished check leaves no fd behind');
    const ac = new AbortController();
    const run = checkNeighbourhood(disc, a, {
      limits: { probeTimeoutMs: 10_000 },
      signal: ac.signal,
      // Cancel once the dropping neighbour is being probed: its ICMP socket is open then.
      onVerdict: (v) => {
        if (v.address === '10.77.0.4' && v.quality === 'verifying') ac.abort();
      },
    });
    await assert.rejects(run, /check cancelled/);
    await settled('every fd the cancelled check opened is closed');
  });

  it('calls a name that does not resolve invalid, said of the neighbour it names', async () => {
    // Run on this thread, in the test's own namespace: a nameserver on the discard port
    // refuses (ICMP port unreachable), as a start whose resolver is down would see it.
    const plan: CheckPlan = {
      target: { netns: 0, path: '', label: 'test' },
      resolver: { nameservers: ['127.0.0.1:9'], search: [], ndots: 1, hosts: [] },
      names: [{ fqdn: `${p}-ghost`, source: 'container', neighbour: 7 }],
      addresses: [],
      owners: {},
      ports: {},
      limits: { ...DEFAULT_LIMITS, resolveTimeoutMs: 1000 },
    };
    const vs = await runPlan(plan, () => {});
    assert.deepEqual(
      vs.map((v) => [v.fqdn, v.address, v.quality, v.neighbour]),
      [[`${p}-ghost`, '', 'invalid', 7]],
    );
    assert.match(vs[0]?.error ?? '', /refused|no answer/);
  });

  it('refuses a target that names nothing, in one line', () => {
    assert.throws(() => findTarget(disc, `${p}-nosuch`), CheckTargetError);
  });
});
