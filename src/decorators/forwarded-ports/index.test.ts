/**
 * Forwarded ports on the real kernel. A lab declares the wiring: a forwarding
 * namespace and a destination namespace joined by a veth (IPv4 and IPv6), and
 * a decoy namespace with a veth of its own. Made by hand on top, because a lab
 * cannot declare them: the DNAT and REDIRECT rules (written with nft,
 * iptables-nft and iptables-legacy — the point is each tool's own encoding),
 * the listening processes, and the decoy's copy of the destination address (a
 * lab refuses one address on two interfaces, and that conflict is the decoy's
 * purpose). Fixtures use the CLIs; discovery itself reads everything in-process.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { discover } from '../../discover.js';
import { labUp } from '../../lab/build/apply.js';
import { labDown } from '../../lab/build/down.js';
import { readState } from '../../lab/build/state.js';
import { parseLab } from '../../lab/file/load.js';
import type { Discovery, Draft } from '../../model/types.js';
import { scanNamespaces } from '../../namespaces/scan.js';
import { closeNetworkDiscovery, discoverNetworks } from '../../network/discover.js';
import { uniquePrefix } from '../../testing/names.js';
import { closeForwardedPortSockets, decorateForwardedPorts } from './index.js';
import { minimalDraft } from './testing/draft.js';

const P = uniquePrefix('wstf');
/** Lab node names. */
const FWD = 'fwd';
const DEST = 'dest';
const DECOY = 'decoy';
/** A namespace made by hand whose only netfilter state is a legacy nat table. */
const LEGACY = `${P}l`;
// A /24 no other fixture on the host is likely to use.
const NET = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`;
const DEST_IP = `${NET}.2`;
// Words without leading zeros, so the text is already in RFC 5952 form.
const NET6 = `fd${randomInt(0x10, 0x100).toString(16)}:${randomInt(0x1000, 0x10000).toString(16)}:1`;
const DEST_IP6 = `${NET6}::2`;

const LAB = `name: ${P}
nodes:
  ${FWD}: { kind: netns }
  ${DEST}: { kind: netns }
  ${DECOY}: { kind: netns }
links:
  - endpoints:
      - { node: ${FWD}, name: ${P}a, ipv4: ${NET}.1/24, ipv6: ${NET6}::1/64 }
      - { node: ${DEST}, name: ${P}b, ipv4: ${DEST_IP}/24, ipv6: ${DEST_IP6}/64 }
  # The decoy's device nobody routes to: a veth with both ends inside.
  - endpoints: ["${DECOY}:${P}y", "${DECOY}:${P}z"]
`;

const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
/** The path of a lab node's network namespace (its holder process's). */
const nsPath = (node: string): string => {
  const pid = readState(P)?.nodes[node]?.pid;
  if (pid === undefined) throw new Error(`node ${node} of lab ${P} is not up`);
  return `/proc/${pid}/ns/net`;
};
// nsenter without --fork execs the command: a spawned child's PID is the command's.
const inNs = (node: string, args: string[], input?: string) =>
  sh('nsenter', [`--net=${nsPath(node)}`, ...args], input);
const ino = (node: string) => statSync(nsPath(node)).ino;

/** Appends a nat PREROUTING rule for a TCP port with `tool`, run through `via` (a command that enters the namespace). */
const natRule = (via: string[], tool: string, dport: number, ...target: string[]) =>
  sh(via[0] as string, [
    ...via.slice(1),
    tool,
    '-t',
    'nat',
    '-A',
    'PREROUTING',
    '-p',
    'tcp',
    '--dport',
    String(dport),
    '-j',
    ...target,
  ]);

function listenIn(node: string, port: number, host = '0.0.0.0'): Promise<ChildProcess> {
  const child = spawn(
    'nsenter',
    [
      `--net=${nsPath(node)}`,
      process.execPath,
      '-e',
      `require('net').createServer().listen({ port: ${port}, host: '${host}', ipv6Only: true }, () => console.log('ready'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve(child));
  });
}

describe('forwarded ports in real network namespaces', () => {
  let listener: ChildProcess | undefined;
  let listener6: ChildProcess | undefined;
  let local: ChildProcess | undefined;
  let d: Discovery;
  const forwardsOf = (node: string) => d.networks[String(ino(node))]?.forwardedPorts ?? [];

  before(async () => {
    await labUp(parseLab(LAB));
    inNs(DECOY, ['ip', 'addr', 'add', `${DEST_IP}/24`, 'dev', `${P}y`]);
    inNs(
      FWD,
      ['nft', '-f', '-'],
      [
        `table ip ${P} {`,
        '  chain pre {',
        '    type nat hook prerouting priority dstnat; policy accept;',
        `    tcp dport 8080 dnat to ${DEST_IP}:80`,
        '    tcp dport 8090 redirect to :8091',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    // Each tool writes the rule in its own encoding (xt target in nf_tables, or an ip_tables blob).
    const prerouting = (tool: string, dport: number, ...target: string[]) =>
      natRule(['nsenter', `--net=${nsPath(FWD)}`], tool, dport, ...target);
    prerouting('iptables-nft', 8081, 'DNAT', '--to-destination', `${DEST_IP}:80`);
    prerouting('iptables-legacy', 8082, 'DNAT', '--to-destination', `${DEST_IP}:80`);
    prerouting('ip6tables-legacy', 8443, 'DNAT', '--to-destination', `[${DEST_IP6}]:443`);
    prerouting('iptables-nft', 8092, 'REDIRECT', '--to-ports', '8091');
    prerouting('iptables-legacy', 8093, 'REDIRECT', '--to-ports', '8091');
    sh('ip', ['netns', 'add', LEGACY]);
    natRule(['ip', 'netns', 'exec', LEGACY], 'iptables-legacy', 8094, 'REDIRECT', '--to-ports', '8091');
    local = await listenIn(FWD, 8091);
    listener = await listenIn(DEST, 80);
    listener6 = await listenIn(DEST, 443, '::');
    d = await discover({});
  });

  after(async () => {
    listener?.kill();
    listener6?.kill();
    local?.kill();
    closeForwardedPortSockets();
    if (existsSync(`/run/netns/${LEGACY}`)) sh('ip', ['netns', 'del', LEGACY]);
    // Also after a failed before(): labUp rolls back what it made, and down of a lab that is
    // not up does nothing. A failing down fails the hook, so leftovers do not go unnoticed.
    await labDown(P);
  });

  it('reads a native nft DNAT rule and resolves it to the veth-wired namespace and its listener', () => {
    const f = forwardsOf(FWD).find((x) => x.hostPort === 8080);
    assert.ok(f, 'the nft forward is found');
    assert.equal(f.source, 'nftables');
    assert.equal(f.chain, `ip ${P} pre`);
    assert.equal(f.protocol, 'tcp');
    assert.equal(f.hostAddress, '0.0.0.0');
    assert.equal(f.destAddress, DEST_IP);
    assert.equal(f.destPort, 80);
    assert.equal(f.netns, ino(FWD));
    assert.equal(f.destNetns, ino(DEST), 'the wired namespace, not the decoy with the same address');
    assert.deepEqual(
      f.owners.map((o) => o.pid),
      [listener?.pid],
    );
  });

  it('reads an iptables-nft DNAT rule (xt DNAT target in nf_tables)', () => {
    const f = forwardsOf(FWD).find((x) => x.hostPort === 8081);
    assert.equal(f?.source, 'nftables');
    assert.equal(f?.chain, 'ip nat PREROUTING');
    assert.equal(f?.destNetns, ino(DEST));
    assert.equal(f?.owners[0]?.pid, listener?.pid);
  });

  it('reads an iptables-legacy DNAT rule through ip_tables getsockopt', () => {
    const f = forwardsOf(FWD).find((x) => x.hostPort === 8082);
    assert.equal(f?.source, 'iptables');
    assert.equal(f?.chain, 'ip nat PREROUTING');
    assert.equal(f?.destNetns, ino(DEST));
    assert.equal(f?.owners[0]?.pid, listener?.pid);
  });

  it('reads an ip6tables-legacy DNAT rule to an IPv6 destination', () => {
    const f = forwardsOf(FWD).find((x) => x.hostPort === 8443);
    assert.equal(f?.source, 'iptables');
    assert.equal(f?.family, 'inet6');
    assert.equal(f?.chain, 'ip6 nat PREROUTING');
    assert.equal(f?.destAddress, DEST_IP6);
    assert.equal(f?.destNetns, ino(DEST));
    assert.deepEqual(
      f?.owners.map((o) => o.pid),
      [listener6?.pid],
    );
  });

  it('reads REDIRECTs (nft redirect, iptables-nft and iptables-legacy REDIRECT) as forwards to the namespace itself', () => {
    const got = forwardsOf(FWD)
      .filter((x) => x.redirect)
      .map((x) => [x.hostPort, x.source, x.destAddress, x.destPort, x.destNetns, x.owners.map((o) => o.pid)])
      .sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(got, [
      [8090, 'nftables', '0.0.0.0', 8091, ino(FWD), [local?.pid]],
      [8092, 'nftables', '0.0.0.0', 8091, ino(FWD), [local?.pid]],
      [8093, 'iptables', '0.0.0.0', 8091, ino(FWD), [local?.pid]],
    ]);
  });

  it('reports no forwards in the namespaces without rules, and no legacy table was created there', () => {
    assert.deepEqual(forwardsOf(DEST), []);
    assert.deepEqual(forwardsOf(DECOY), []);
    assert.equal(inNs(DEST, ['cat', '/proc/net/ip_tables_names']).trim(), '');
    assert.equal(inNs(DEST, ['cat', '/proc/net/ip6_tables_names']).trim(), '');
  });

  it('is told by the network stage which namespaces hold no netfilter table, and reads only the others', async () => {
    const legacy = statSync(`/run/netns/${LEGACY}`).ino;
    const net = await discoverNetworks(scanNamespaces(), { netfilter: true }).finally(closeNetworkDiscovery);
    assert.ok(net.natFree.has(ino(DEST)) && net.natFree.has(ino(DECOY)), 'no table: told');
    assert.ok(!net.natFree.has(ino(FWD)), 'nf_tables tables');
    assert.ok(!net.natFree.has(legacy), 'only a legacy nat table');
    // The discovery read the namespace whose only DNAT state is legacy.
    const f = d.networks[String(legacy)]?.forwardedPorts.find((x) => x.hostPort === 8094);
    assert.equal(f?.source, 'iptables');
    assert.equal(f?.redirect, true);
  });

  it('warns, and does not crash, for a namespace that vanished before its rules were read', () => {
    // Made by hand: a namespace held only by a bind mount, so deleting the mount ends it at once.
    const gone = `${P}g`;
    sh('ip', ['netns', 'add', gone]);
    const n = statSync(`/run/netns/${gone}`).ino;
    sh('ip', ['netns', 'del', gone]);
    const draft = minimalDraft(n, `/run/netns/${gone}`);
    decorateForwardedPorts(draft);
    assert.equal(draft.warnings[0]?.code, 'netns-vanished');
    assert.equal(draft.warnings[0]?.ns, n);
    assert.deepEqual(draft.networks[String(n)]?.forwardedPorts, []);
  });

  it('names CAP_NET_ADMIN when it may not read the rules', () => {
    // A child without CAP_NET_ADMIN (it keeps CAP_SYS_ADMIN, so it can still enter the namespace).
    const script = fileURLToPath(new URL('./testing/decorate-one.js', import.meta.url));
    const out = sh('setpriv', [
      '--inh-caps=-net_admin',
      '--bounding-set=-net_admin',
      process.execPath,
      script,
      String(ino(FWD)),
      nsPath(FWD),
    ]);
    const draft = JSON.parse(out) as Draft.Discovery;
    const w = draft.warnings.find((x) => x.code === 'forwards-denied');
    assert.ok(w, `a forwards-denied warning in ${out}`);
    assert.match(w.message, /needs CAP_NET_ADMIN/);
    assert.ok(draft.missingPrivileges.some((m) => m.capability === 'CAP_NET_ADMIN'));
    assert.deepEqual(draft.networks[String(ino(FWD))]?.forwardedPorts, []);
  });
});
