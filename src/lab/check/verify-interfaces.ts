/**
 * The interface checks of `verifyLab`, through the one diff (diff.ts): in
 * each running namespace, declared interfaces against found ones by name —
 * missing, found with another kind, peer, MTU, MAC, state, master, macvlan
 * or vxlan parameters (one "~" per field), their addresses (a diff of their
 * own); and interfaces the lab owns that it does not declare.
 */
import type { Interface } from '../../model/types.js';
import type { Cidr } from '../file/ip.js';
import { type DesiredIf, ifKey, nsLabel, type Topology } from '../file/topology.js';
import {
  changedDrifts,
  type DiffResult,
  type DiffSpec,
  diff,
  diffDrifts,
  driftLine,
  type Field,
  type Present,
  unexpectedDrift,
} from './diff.js';
import type { VerifyContext } from './verify-context.js';

const addrKey = (a: { address: string; prefixlen: number }): string => `${a.address}/${a.prefixlen}`;

/** Kernel-made addresses: IPv6 link-local and anything not permanent (autoconf). */
function kernelAddr(a: Addr): boolean {
  return (a.family === 'inet6' && a.scope === 'link') || !a.flags.includes('permanent');
}

type Addr = Interface['addresses'][number];

/** A found interface and the node key of its namespace. */
interface FoundIf {
  ns: string;
  i: Interface;
}

/**
 * Whether a link's peer is judged at this end: at the first end (in the
 * file's order) whose namespace runs — an end before it that is missing was
 * reported as the missing link, one that is there judged the peer already.
 */
function judgesPeer(cx: VerifyContext, x: DesiredIf): boolean {
  const l = cx.t.links[x.link];
  if (!x.peer || !l) return false;
  const ends = l.ifs.map((k) => cx.byKey.get(k));
  const mine = cx.t.ifs.indexOf(x);
  return !ends.some((y) => y !== undefined && y !== x && cx.t.ifs.indexOf(y) < mine && cx.alive(y.ns));
}

/** The attributes compared, in the order they are reported; a different kind decides the rest. */
function interfaceFields(cx: VerifyContext): Field<DesiredIf, FoundIf>[] {
  const { alive, describeRef, isRefTo, label } = cx;
  const peerOf = (x: DesiredIf) => (x.peer ? cx.byKey.get(ifKey(x.peer.ns, x.peer.name)) : undefined);
  const at = (ns: string, name: string) => `${nsLabel(ns)}:${name}`;
  const underlayNs = (x: DesiredIf) => x.vxlan?.underlayNs ?? x.ns;
  return [
    { name: 'kind', declared: (x) => x.kind, found: (f) => f.i.kind, decisive: true },
    {
      name: 'peer',
      declared: (x) => {
        const p = peerOf(x);
        return p && alive(p.ns) && judgesPeer(cx, x) ? label(p) : undefined;
      },
      found: (f) => describeRef(f.i.veth?.peer),
      // A peer that is simply gone (no peer, and the declared one not found) is the missing link's.
      same: (x, f) =>
        (x.peer !== undefined && isRefTo(f.i.veth?.peer, x.peer.ns, x.peer.name)) ||
        (f.i.veth?.peer === undefined && x.peer !== undefined && !cx.findIf(x.peer.ns, x.peer.name)),
    },
    { name: 'mtu', declared: (x) => x.mtu?.toString(), found: (f) => String(f.i.mtu) },
    { name: 'mac', declared: (x) => x.mac, found: (f) => f.i.mac ?? 'none' },
    { name: 'state', declared: () => 'up', found: (f) => (f.i.flags.includes('up') ? 'up' : 'down') },
    {
      name: 'master',
      // Declared: that master. Undeclared: none, except that a bridge's own master is not judged.
      declared: (x) => x.master ?? (x.kind !== 'bridge' ? 'none' : undefined),
      found: (f) => describeRef(f.i.master),
      same: (x, f) => (x.master !== undefined ? isRefTo(f.i.master, x.ns, x.master) : !f.i.master),
    },
    { name: 'macvlan.mode', declared: (x) => x.macvlan?.mode, found: (f) => f.i.macvlan?.mode ?? 'none' },
    {
      name: 'macvlan.parent',
      declared: (x) =>
        x.macvlan && alive(x.macvlan.parentNs) ? at(x.macvlan.parentNs, x.macvlan.parent) : undefined,
      found: (f) => describeRef(f.i.macvlan?.parent ?? f.i.link),
      same: (x, f) =>
        x.macvlan !== undefined &&
        isRefTo(f.i.macvlan?.parent ?? f.i.link, x.macvlan.parentNs, x.macvlan.parent),
    },
    {
      name: 'vxlan.vni',
      declared: (x) => x.vxlan?.vni.toString(),
      found: (f) => String(f.i.vxlan?.vni ?? 'none'),
    },
    {
      name: 'vxlan.remote',
      declared: (x) => x.vxlan?.remote,
      found: (f) => f.i.vxlan?.remote ?? f.i.vxlan?.group ?? 'none',
    },
    { name: 'vxlan.local', declared: (x) => x.vxlan?.local, found: (f) => f.i.vxlan?.local ?? 'none' },
    {
      name: 'vxlan.port',
      declared: (x) => x.vxlan?.port.toString(),
      found: (f) => String(f.i.vxlan?.port ?? 'none'),
      // Older kernels do not say the port: nothing to judge then.
      same: (x, f) => f.i.vxlan?.port === undefined || f.i.vxlan.port === x.vxlan?.port,
    },
    {
      name: 'vxlan.underlay',
      declared: (x) =>
        x.vxlan?.underlay && alive(underlayNs(x)) ? at(underlayNs(x), x.vxlan.underlay) : undefined,
      found: (f) => describeRef(f.i.vxlan?.underlay),
      same: (x, f) =>
        x.vxlan?.underlay !== undefined && isRefTo(f.i.vxlan?.underlay, underlayNs(x), x.vxlan.underlay),
    },
  ];
}

/** Declared against found interfaces, by name, in every running namespace. */
function interfaceDiff(cx: VerifyContext): DiffResult<DesiredIf, FoundIf> {
  const spec: DiffSpec<DesiredIf, FoundIf> = {
    key: (x) => ifKey(x.ns, x.name),
    foundKey: (f) => ifKey(f.ns, f.i.name),
    fields: interfaceFields(cx),
  };
  const found: FoundIf[] = [];
  for (const ns of Object.keys(cx.nodes))
    for (const i of cx.netOf(ns)?.interfaces ?? []) found.push({ ns, i });
  return diff(
    cx.t.ifs.filter((x) => cx.alive(x.ns)),
    found,
    spec,
  );
}

const ifPresent = (cx: VerifyContext): Present<DesiredIf, FoundIf> => ({
  object: (x) => `interface ${cx.label(x)}`,
  foundObject: (f) => `interface ${nsLabel(f.ns)}:${f.i.name}`,
  label: (x) => `${cx.label(x)} (${x.kind})`,
  foundLabel: (f) => `${nsLabel(f.ns)}:${f.i.name} (${f.i.kind})`,
  at: (x, f) => ({ ...(f ? { netns: f.i.netns, index: f.i.index } : {}), node: x.node }),
  foundAt: (f) => ({ netns: f.i.netns, index: f.i.index, node: nsLabel(f.ns) }),
  changed: { subject: cx.label },
});

/** Declared interfaces and links: missing, or different from what was declared. */
export function checkInterfaces(cx: VerifyContext): void {
  for (const x of cx.t.ifs) if (!cx.alive(x.ns)) cx.missingIfs.add(ifKey(x.ns, x.name));
  const r = interfaceDiff(cx);
  const present = ifPresent(cx);
  const missing = new Set(r.missing);
  const changed = new Map(r.changed.map((c) => [c.declared, c]));
  const matched = new Map(r.matched);
  const linkDone = new Set<number>();
  for (const x of cx.t.ifs) {
    if (missing.has(x)) {
      reportMissing(cx, x, linkDone);
      continue;
    }
    const c = changed.get(x);
    if (c) for (const d of changedDrifts(present, c)) cx.add(d);
    // Another kind is not this interface: its addresses are not compared.
    if (c?.fields[0]?.name === 'kind') continue;
    const found = c?.found ?? matched.get(x);
    if (found) checkAddresses(cx, x, found);
  }
}

/** A declared interface that is not there: once per link, and not when its peer's node is gone. */
function reportMissing(cx: VerifyContext, x: DesiredIf, linkDone: Set<number>): void {
  const { t, byKey, missingIfs, add, alive, findIf, label } = cx;
  const object = x.link >= 0 ? `link ${t.links[x.link]?.label}` : `bridge ${label(x)}`;
  missingIfs.add(ifKey(x.ns, x.name));
  if (x.link >= 0 && linkDone.has(x.link)) return;
  const l = t.links[x.link];
  if (l && l.type === 'veth') {
    const other = l.ifs.map((k) => byKey.get(k)).find((o) => o !== x);
    // The other end's node is gone: its veth went with it, already reported with the node.
    if (other && !alive(other.ns)) return;
    const otherFound = other ? findIf(other.ns, other.name) : undefined;
    linkDone.add(x.link);
    // One end left: the link is named by the end that is missing, and the one that is there.
    const message = otherFound
      ? `${driftLine('-', label(x))} (${other ? label(other) : '?'} is there)`
      : driftLine('-', `${l.label} (veth)`);
    add({ object, op: '-', message, node: x.node });
    return;
  }
  if (x.link >= 0) linkDone.add(x.link);
  add({ object, op: '-', message: driftLine('-', `${label(x)} (${x.kind})`), node: x.node });
}

/** Addresses, per family: a declared one found with another value is one "~", a lone one "-" or "+". */
function checkAddresses(cx: VerifyContext, x: DesiredIf, found: FoundIf): void {
  const { i } = found;
  const at = { netns: i.netns, index: i.index, node: x.node };
  for (const fam of ['inet', 'inet6'] as const) {
    const f = fam === 'inet' ? 'ipv4' : 'ipv6';
    const spec: DiffSpec<Cidr, Addr> = {
      key: () => fam,
      foundKey: () => fam,
      fields: [{ name: f, declared: addrKey, found: addrKey }],
    };
    const present: Present<Cidr, Addr> = {
      object: () => `interface ${cx.label(x)}`,
      foundObject: () => `interface ${cx.label(x)}`,
      label: (a) => `${cx.label(x)} address ${addrKey(a)}`,
      foundLabel: (a) => `${cx.label(x)} address ${addrKey(a)}`,
      at: () => at,
      foundAt: () => at,
      changed: { subject: () => cx.label(x) },
      missingDetail: (a) => ({ path: `${cx.label(x)}.${f}`, declared: addrKey(a) }),
      unexpectedDetail: (a) => ({ path: `${cx.label(x)}.${f}`, found: addrKey(a) }),
    };
    const want = x.addrs.filter((a) => a.family === fam);
    const r = diff(
      want,
      i.addresses.filter((a) => a.family === fam && !kernelAddr(a)),
      spec,
    );
    // What went through a missing address is not reported again (routes via a gateway in it).
    for (const c of [...r.missing, ...r.changed.map((ch) => ch.declared)])
      cx.missingAddrs.push({ ns: x.ns, c });
    for (const d of diffDrifts(r, present, { declared: want })) cx.add(d);
  }
}

/**
 * Undeclared interfaces: everything in the lab's own namespaces; in shared ones
 * only what carries the mark.
 */
export function checkUndeclaredInterfaces(cx: VerifyContext): void {
  const { t, mark, hostKey, byKey, add, byRef } = cx;
  const present = ifPresent(cx);
  for (const f of interfaceDiff(cx).unexpected) {
    const { ns, i } = f;
    if (i.kind === 'loopback' || i.name === 'lo') continue;
    const own = ns !== hostKey;
    // In a shared namespace, the lab's business is what carries its mark and what was plugged
    // into one of its bridges (a port the file does not declare).
    const masterName = i.master ? byRef(i.master)?.name : undefined;
    const onLabBridge = masterName !== undefined && byKey.get(ifKey(ns, masterName))?.kind === 'bridge';
    if (!own && i.alias !== mark && !onLabBridge) continue;
    if (own && isLowerDevice(t, ns, i.name)) continue;
    add(unexpectedDrift(present, f));
  }
}

function isLowerDevice(t: Topology, ns: string, name: string): boolean {
  return t.ifs.some(
    (d) =>
      (d.macvlan?.parentNs === ns && d.macvlan.parent === name) ||
      ((d.vxlan?.underlayNs ?? d.ns) === ns && d.vxlan?.underlay === name),
  );
}
