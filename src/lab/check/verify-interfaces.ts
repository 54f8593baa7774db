/**
 * The interface checks of `verifyLab`: each declared interface and link
 * missing, or found with another kind, peer, MTU, MAC, state, master,
 * macvlan or vxlan parameters or addresses; and interfaces the lab owns that
 * it does not declare.
 */
import type { Interface } from '../../model/types.js';
import { type DesiredIf, ifKey, nsLabel, type Topology } from '../file/topology.js';
import type { VerifyContext } from './verify-context.js';

const addrKey = (a: { address: string; prefixlen: number }): string => `${a.address}/${a.prefixlen}`;

/** Kernel-made addresses: IPv6 link-local and anything not permanent (autoconf). */
function kernelAddr(a: Interface['addresses'][number]): boolean {
  return (a.family === 'inet6' && a.scope === 'link') || !a.flags.includes('permanent');
}

type Change = (path: string, declared: string, got: string) => void;
type At = { netns: number; index: number; node: string };

/** Declared interfaces and links: missing, or different from what was declared. */
export function checkInterfaces(cx: VerifyContext): void {
  const linkDone = new Set<number>();
  for (const x of cx.t.ifs) {
    if (!cx.alive(x.ns)) {
      cx.missingIfs.add(ifKey(x.ns, x.name));
      continue;
    }
    const i = cx.findIf(x.ns, x.name);
    if (!i) reportMissing(cx, x, linkDone);
    else checkInterface(cx, x, i, linkDone);
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
    add({
      object,
      op: '-',
      message: otherFound
        ? `${label(x)}: declared, missing (${other ? label(other) : '?'} is there)`
        : `${l.label} (veth): declared, missing`,
      node: x.node,
    });
    return;
  }
  if (x.link >= 0) linkDone.add(x.link);
  add({ object, op: '-', message: `${label(x)} (${x.kind}): declared, missing`, node: x.node });
}

/** A declared interface that is there: its kind, peer, attributes, parameters and addresses. */
function checkInterface(cx: VerifyContext, x: DesiredIf, i: Interface, linkDone: Set<number>): void {
  const { byKey, add, alive, findIf, describeRef, isRefTo, label } = cx;
  const at = { netns: i.netns, index: i.index, node: x.node };
  const change = (path: string, declared: string, got: string) =>
    add({
      object: `interface ${label(x)}`,
      op: '~',
      path: `${label(x)}.${path}`,
      declared,
      found: got,
      message: `${label(x)}.${path}: declared ${declared}, found ${got}`,
      ...at,
    });
  if (i.kind !== x.kind) {
    change('kind', x.kind, i.kind);
    return;
  }
  if (x.peer && x.link >= 0 && !linkDone.has(x.link)) {
    linkDone.add(x.link);
    const peerDecl = byKey.get(ifKey(x.peer.ns, x.peer.name));
    if (peerDecl && alive(peerDecl.ns) && !isRefTo(i.veth?.peer, x.peer.ns, x.peer.name)) {
      const peerFound = findIf(x.peer.ns, x.peer.name);
      if (peerFound || i.veth?.peer) change('peer', label(peerDecl), describeRef(i.veth?.peer));
    }
  }
  if (x.mtu !== undefined && i.mtu !== x.mtu) change('mtu', String(x.mtu), String(i.mtu));
  if (x.mac !== undefined && i.mac !== x.mac) change('mac', x.mac, i.mac ?? 'none');
  if (!i.flags.includes('up')) change('state', 'up', 'down');
  if (x.master !== undefined) {
    if (!isRefTo(i.master, x.ns, x.master)) change('master', x.master, describeRef(i.master));
  } else if (i.master && x.kind !== 'bridge') change('master', 'none', describeRef(i.master));
  if (x.macvlan) {
    if (i.macvlan?.mode !== x.macvlan.mode) change('macvlan.mode', x.macvlan.mode, i.macvlan?.mode ?? 'none');
    const parent = i.macvlan?.parent ?? i.link;
    if (alive(x.macvlan.parentNs) && !isRefTo(parent, x.macvlan.parentNs, x.macvlan.parent))
      change('macvlan.parent', `${nsLabel(x.macvlan.parentNs)}:${x.macvlan.parent}`, describeRef(parent));
  }
  if (x.vxlan) {
    const v = i.vxlan;
    if (v?.vni !== x.vxlan.vni) change('vxlan.vni', String(x.vxlan.vni), String(v?.vni ?? 'none'));
    if (x.vxlan.remote !== undefined && (v?.remote ?? v?.group) !== x.vxlan.remote)
      change('vxlan.remote', x.vxlan.remote, v?.remote ?? v?.group ?? 'none');
    if (x.vxlan.local !== undefined && v?.local !== x.vxlan.local)
      change('vxlan.local', x.vxlan.local, v?.local ?? 'none');
    if (v?.port !== undefined && v.port !== x.vxlan.port)
      change('vxlan.port', String(x.vxlan.port), String(v.port));
    if (
      x.vxlan.underlay &&
      alive(x.vxlan.underlayNs ?? x.ns) &&
      !isRefTo(v?.underlay, x.vxlan.underlayNs ?? x.ns, x.vxlan.underlay)
    )
      change(
        'vxlan.underlay',
        `${nsLabel(x.vxlan.underlayNs ?? x.ns)}:${x.vxlan.underlay}`,
        describeRef(v?.underlay),
      );
  }
  checkAddresses(cx, x, i, change, at);
}

/** Addresses, per family: a lone missing is "-", a lone extra is "+", both together are one "~". */
function checkAddresses(cx: VerifyContext, x: DesiredIf, i: Interface, change: Change, at: At): void {
  const { add, label } = cx;
  for (const fam of ['inet', 'inet6'] as const) {
    const want = x.addrs.filter((a) => a.family === fam);
    const have = i.addresses.filter((a) => a.family === fam && !kernelAddr(a));
    const wantK = new Set(want.map(addrKey));
    const haveK = new Set(have.map(addrKey));
    const miss = want.filter((a) => !haveK.has(addrKey(a)));
    const extra = have.filter((a) => !wantK.has(addrKey(a)));
    for (const m of miss) cx.missingAddrs.push({ ns: x.ns, c: m });
    const f = fam === 'inet' ? 'ipv4' : 'ipv6';
    if (miss.length > 0 && extra.length > 0) {
      change(f, miss.map(addrKey).join(', '), extra.map(addrKey).join(', '));
      continue;
    }
    for (const m of miss)
      add({
        object: `interface ${label(x)}`,
        op: '-',
        path: `${label(x)}.${f}`,
        declared: addrKey(m),
        message: `${label(x)} address ${addrKey(m)}: declared, missing`,
        ...at,
      });
    for (const e of extra)
      add({
        object: `interface ${label(x)}`,
        op: '+',
        path: `${label(x)}.${f}`,
        found: addrKey(e),
        message: `${label(x)} address ${addrKey(e)}: present, undeclared`,
        ...at,
      });
  }
}

/**
 * Undeclared interfaces: everything in the lab's own namespaces; in shared ones
 * only what carries the mark.
 */
export function checkUndeclaredInterfaces(cx: VerifyContext): void {
  const { t, d, nodes, mark, hostKey, byKey, add, byRef } = cx;
  for (const [ns, ino] of Object.entries(nodes)) {
    const net = ino === undefined ? undefined : d.networks[String(ino)];
    if (!net) continue;
    const own = ns !== hostKey;
    for (const i of net.interfaces) {
      if (i.kind === 'loopback' || i.name === 'lo') continue;
      if (byKey.has(ifKey(ns, i.name))) continue;
      // In a shared namespace, the lab's business is what carries its mark and what was plugged
      // into one of its bridges (a port the file does not declare).
      const masterName = i.master ? byRef(i.master)?.name : undefined;
      const onLabBridge = masterName !== undefined && byKey.get(ifKey(ns, masterName))?.kind === 'bridge';
      if (!own && i.alias !== mark && !onLabBridge) continue;
      if (own && isLowerDevice(t, ns, i.name)) continue;
      add({
        object: `interface ${nsLabel(ns)}:${i.name}`,
        op: '+',
        message: `${nsLabel(ns)}:${i.name} (${i.kind}): present, undeclared`,
        netns: i.netns,
        index: i.index,
        node: nsLabel(ns),
      });
    }
  }
}

function isLowerDevice(t: Topology, ns: string, name: string): boolean {
  return t.ifs.some(
    (d) =>
      (d.macvlan?.parentNs === ns && d.macvlan.parent === name) ||
      ((d.vxlan?.underlayNs ?? d.ns) === ns && d.vxlan?.underlay === name),
  );
}
