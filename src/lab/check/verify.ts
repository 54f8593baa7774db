/**
 * `verifyLab(topology, discovery, facts)`: what the kernel has, measured
 * against what the lab declares (pure). Nodes are found by the state file's
 * record of their holder process — pid and start time, and the network
 * namespace it had — never by the process mark alone: argv[0]
 * `wirescope-lab:<lab>:<node>` is a name any process can give itself. A
 * docker node the record does not place is found by its engine labels
 * (whoever can label a Docker container can do anything as root anyway).
 * Every interface, wire, address, route (of any
 * table) and policy rule comes from the discovery model. Facts the model does not carry (nft rule
 * comments, sysctls, the reachability matrix) come in `facts`, read by
 * verify-run.ts.
 *
 * Each difference is reported once, at the object that differs: a dead node
 * hides the interfaces it took along; a missing veth hides its addresses and
 * the routes that went through it; a changed address is one `~`, not a `-`
 * and a `+`, and so is a route or rule that changed. Kernel-made state — IPv6
 * link-local addresses, connected and local routes, the kernel's own rules,
 * the loopback device — is never drift.
 */

import type { Drift } from '../../model/changes.js';
import { ifaceMark, LABEL_LAB, LABEL_NODE } from '../../model/lab-marks.js';
import type { Discovery, Interface, NetworkNamespace, Route, Rule } from '../../model/types.js';
import { escapeTerminal } from '../../views/terminal.js';
import { markOfComment, natSpec, partitionSpec, type RuleFound, ruleComment } from '../build/nft.js';
import { routeText } from '../build/plan.js';
import { type Cidr, contains, parseCidr } from '../file/ip.js';
import {
  foundKey,
  foundRuleText,
  kernelRule,
  ruleKey,
  ruleMatches,
  ruleText,
  tableText,
} from '../file/rules.js';
import { type DesiredIf, HOST, ifKey, nsLabel, type Topology } from '../file/topology.js';

// The drift shape is also the service's /api/verify contract (shared with the web UI).
export type { Drift, DriftOp } from '../../model/changes.js';

export interface ReachCheck {
  from: string;
  to: string;
  address: string;
  expected: boolean;
  reachable: boolean;
}

export interface VerifyFacts {
  /** Rule comments of the lab's nft table, per namespace key (node name, or HOST / the host node). */
  nft?: Record<string, RuleFound[] | undefined>;
  /** Sysctl values found, keyed "ns|key". */
  sysctls?: Record<string, string | undefined>;
  /**
   * The state file's record of each node's holder process (state.ts): the
   * only proof that a netns or container node runs. A node without a record,
   * or whose recorded process is gone or replaced, is not running.
   */
  owners?: Record<string, NodeOwner>;
  reach?: ReachCheck[];
}

export interface VerifyResult {
  lab: string;
  clean: boolean;
  drift: Drift[];
  /** Network namespace inode per node (absent: not running). */
  nodes: Record<string, number | undefined>;
}

const addrKey = (a: { address: string; prefixlen: number }): string => `${a.address}/${a.prefixlen}`;
const HOLDERS = new Set(['netns', 'container', 'docker']);

/** Kernel-made addresses: IPv6 link-local and anything not permanent (autoconf). */
function kernelAddr(a: Interface['addresses'][number]): boolean {
  return (a.family === 'inet6' && a.scope === 'link') || !a.flags.includes('permanent');
}

/** Routes the kernel makes (connected, local, broadcast, multicast, RA) are not drift, in any table. */
function kernelRoute(r: Route): boolean {
  return r.type !== 'unicast' || ['kernel', 'ra', 'redirect'].includes(r.protocol);
}

/** A node's holder process as the state file recorded it. */
export interface NodeOwner {
  pid: number;
  starttime: number;
  /** Its network namespace inode when recorded. */
  netns?: number;
}

/** The process holding a node, found in the discovery. */
export interface NodeHolder {
  pid: number;
  starttime: number;
  netns: number;
}

/**
 * The holder process of each namespace-holding node: the recorded process
 * when it still runs (same pid and start time) in the namespace it had;
 * for a docker node otherwise the running container with the lab's labels.
 */
export function nodeHolders(
  t: Topology,
  d: Discovery,
  owners: Record<string, NodeOwner> = {},
): Record<string, NodeHolder | undefined> {
  const out: Record<string, NodeHolder | undefined> = {};
  for (const n of t.nodes) {
    if (!HOLDERS.has(n.kind)) continue;
    const o = owners[n.name];
    const p = o ? d.processes[String(o.pid)] : undefined;
    const net = p?.namespaces.net;
    if (
      o &&
      p &&
      net !== undefined &&
      p.starttime === o.starttime &&
      (o.netns === undefined || net === o.netns)
    ) {
      out[n.name] = { pid: p.pid, starttime: p.starttime, netns: net };
      continue;
    }
    if (n.kind === 'docker') {
      const c = Object.values(d.containers).find(
        (c) => c.labels[LABEL_LAB] === t.name && c.labels[LABEL_NODE] === n.name && c.state === 'running',
      );
      if (c?.netns !== undefined && c.pid !== undefined && c.starttime !== undefined) {
        out[n.name] = { pid: c.pid, starttime: c.starttime, netns: c.netns };
        continue;
      }
    }
    out[n.name] = undefined;
  }
  return out;
}

/** Locates each namespace-holding node (and the host) in the discovery: its network namespace inode. */
export function locateNodes(
  t: Topology,
  d: Discovery,
  owners: Record<string, NodeOwner> = {},
): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  const host = Object.values(d.networks).find((n) => n.isInitial)?.ino ?? d.initial.net;
  const hostKey = t.nodes.find((n) => n.kind === 'host')?.name ?? HOST;
  out[hostKey] = host;
  for (const [n, h] of Object.entries(nodeHolders(t, d, owners))) out[n] = h?.netns;
  return out;
}

export function verifyLab(t: Topology, d: Discovery, facts: VerifyFacts = {}): VerifyResult {
  const drift: Drift[] = [];
  const nodes = locateNodes(t, d, facts.owners);
  const mark = ifaceMark(t.name);
  const hostKey = t.nodes.find((n) => n.kind === 'host')?.name ?? HOST;
  const netOf = (ns: string): NetworkNamespace | undefined => {
    const ino = nodes[ns];
    return ino === undefined ? undefined : d.networks[String(ino)];
  };
  const add = (x: Drift) => drift.push(x);

  // Nodes.
  for (const n of t.nodes) {
    if (!HOLDERS.has(n.kind)) continue;
    if (nodes[n.name] === undefined) {
      add({
        object: `node ${n.name}`,
        op: '-',
        message: `node ${n.name} (${n.kind}): declared, not running`,
        node: n.name,
      });
    } else if (!netOf(n.name)) {
      add({
        object: `node ${n.name}`,
        op: '-',
        message: `node ${n.name}: its network namespace was not discovered`,
        node: n.name,
      });
    }
  }
  const alive = (ns: string) => netOf(ns) !== undefined;

  const found = new Map<string, Interface>();
  const findIf = (ns: string, name: string): Interface | undefined => {
    const k = ifKey(ns, name);
    if (found.has(k)) return found.get(k);
    const i = netOf(ns)?.interfaces.find((x) => x.name === name);
    if (i) found.set(k, i);
    return i;
  };
  const byRef = (ref: { netns: number; index: number } | undefined): Interface | undefined =>
    ref ? d.networks[String(ref.netns)]?.interfaces.find((i) => i.index === ref.index) : undefined;
  const nsNameOf = (ino: number): string => {
    for (const [k, v] of Object.entries(nodes)) if (v === ino) return nsLabel(k);
    return `net:[${ino}]`;
  };
  const describeRef = (ref: { netns: number; index: number } | undefined): string => {
    const i = byRef(ref);
    return i ? `${nsNameOf(i.netns)}:${i.name}` : ref ? `net:[${ref.netns}] ifindex ${ref.index}` : 'none';
  };
  const isRefTo = (ref: { netns: number; index: number } | undefined, ns: string, name: string): boolean => {
    const i = byRef(ref);
    return i !== undefined && i.name === name && i.netns === nodes[ns];
  };
  const label = (x: DesiredIf) => `${x.node}:${x.name}`;
  const missingIfs = new Set<string>();
  const missingAddrs: { ns: string; c: Cidr }[] = [];

  // Links and interfaces.
  const byKey = new Map(t.ifs.map((x) => [ifKey(x.ns, x.name), x]));
  const linkDone = new Set<number>();
  for (const x of t.ifs) {
    if (!alive(x.ns)) {
      missingIfs.add(ifKey(x.ns, x.name));
      continue;
    }
    const i = findIf(x.ns, x.name);
    const object = x.link >= 0 ? `link ${t.links[x.link]?.label}` : `bridge ${label(x)}`;
    if (!i) {
      missingIfs.add(ifKey(x.ns, x.name));
      if (x.link >= 0 && linkDone.has(x.link)) continue;
      const l = t.links[x.link];
      if (l && l.type === 'veth') {
        const other = l.ifs.map((k) => byKey.get(k)).find((o) => o !== x);
        // The other end's node is gone: its veth went with it, already reported with the node.
        if (other && !alive(other.ns)) continue;
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
        continue;
      }
      if (x.link >= 0) linkDone.add(x.link);
      add({ object, op: '-', message: `${label(x)} (${x.kind}): declared, missing`, node: x.node });
      continue;
    }
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
      continue;
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
      if (i.macvlan?.mode !== x.macvlan.mode)
        change('macvlan.mode', x.macvlan.mode, i.macvlan?.mode ?? 'none');
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
    // Addresses, per family: a lone missing is "-", a lone extra is "+", both together are one "~".
    for (const fam of ['inet', 'inet6'] as const) {
      const want = x.addrs.filter((a) => a.family === fam);
      const have = i.addresses.filter((a) => a.family === fam && !kernelAddr(a));
      const wantK = new Set(want.map(addrKey));
      const haveK = new Set(have.map(addrKey));
      const miss = want.filter((a) => !haveK.has(addrKey(a)));
      const extra = have.filter((a) => !wantK.has(addrKey(a)));
      for (const m of miss) missingAddrs.push({ ns: x.ns, c: m });
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

  // Undeclared interfaces: everything in the lab's own namespaces; in shared ones only what carries the mark.
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

  // Routes, each in its table. A declared route whose destination is there with another gateway,
  // device or metric is one "~" (the route found is then not also "+").
  const gwOf = (a: Route): string | undefined => a.gateway ?? a.nexthops[0]?.gateway;
  const foundRouteText = (net: NetworkNamespace, a: Route): string => {
    const devName = net.interfaces.find((i) => i.index === a.dev)?.name;
    return `${a.dst === '0.0.0.0/0' || a.dst === '::/0' ? 'default' : a.dst}${gwOf(a) ? ` via ${gwOf(a)}` : ''}${devName ? ` dev ${devName}` : ''}${a.metric ? ` metric ${a.metric}` : ''}${a.table !== 254 ? ` table ${tableText(a.table)}` : ''}`;
  };
  const declaredHere = (ns: string, a: Route): boolean =>
    t.routes.some(
      (r) =>
        r.ns === ns &&
        r.table === a.table &&
        normDst(a.dst) === `${r.dst.address}/${r.dst.prefixlen}` &&
        gwOf(a) === r.via,
    );
  const changedRoutes = new Set<Route>();
  for (const r of t.routes) {
    const net = netOf(r.ns);
    if (!net) continue;
    const dev = r.dev ? findIf(r.ns, r.dev) : undefined;
    if (r.dev && !dev) continue; // its interface is missing: reported there
    const dst = `${r.dst.address}/${r.dst.prefixlen}`;
    const match = net.routes.find(
      (a) =>
        a.table === r.table &&
        a.family === r.dst.family &&
        normDst(a.dst) === dst &&
        gwOf(a) === r.via &&
        (dev === undefined || a.dev === dev.index) &&
        (r.metric === undefined || (a.metric ?? 0) === r.metric),
    );
    if (match) continue;
    // A gateway reached through a missing interface or address: a consequence, reported there.
    const via = r.via;
    if (via) {
      const nets = t.ifs.filter((x) => x.ns === r.ns).flatMap((x) => x.addrs.map((c) => ({ x, c })));
      const cover = nets.filter(({ c }) => contains(c, via));
      if (cover.some(({ x }) => missingIfs.has(ifKey(x.ns, x.name)))) continue;
      if (cover.some(({ c }) => missingAddrs.some((m) => m.ns === r.ns && m.c.address === c.address)))
        continue;
    }
    const other = net.routes.find(
      (a) =>
        !kernelRoute(a) &&
        !changedRoutes.has(a) &&
        a.table === r.table &&
        a.family === r.dst.family &&
        normDst(a.dst) === dst &&
        !declaredHere(r.ns, a),
    );
    if (other) {
      changedRoutes.add(other);
      const p = `route ${routeText(r)}`;
      const found = foundRouteText(net, other);
      add({
        object: `route ${r.node}: ${routeText(r)}`,
        op: '~',
        path: `${r.node}.${p}`,
        declared: routeText(r),
        found,
        message: `route ${dst === '0.0.0.0/0' || dst === '::/0' ? 'default' : dst}${r.table !== 254 ? ` table ${tableText(r.table)}` : ''} in ${r.node}: declared ${routeText(r)}, found ${found}`,
        node: r.node,
        netns: net.ino,
      });
      continue;
    }
    add({
      object: `route ${r.node}: ${routeText(r)}`,
      op: '-',
      message: `route ${routeText(r)} in ${r.node}: declared, missing`,
      node: r.node,
    });
  }
  for (const [ns, ino] of Object.entries(nodes)) {
    if (ns === hostKey) continue; // the host's own routes are not the lab's to judge
    const net = ino === undefined ? undefined : d.networks[String(ino)];
    if (!net) continue;
    for (const a of net.routes) {
      if (kernelRoute(a) || changedRoutes.has(a) || declaredHere(ns, a)) continue;
      const text = foundRouteText(net, a);
      add({
        object: `route ${nsLabel(ns)}: ${text}`,
        op: '+',
        message: `route ${text} in ${nsLabel(ns)}: present, undeclared`,
        node: nsLabel(ns),
        netns: net.ino,
      });
    }
  }

  // Policy rules. Same priority and selector with another table is one "~".
  const changedRules = new Set<Rule>();
  for (const r of t.rules) {
    const net = netOf(r.ns);
    if (!net) continue;
    if (net.rules.some((a) => ruleMatches(r, a))) continue;
    const other = net.rules.find(
      (a) =>
        !kernelRule(a) &&
        !changedRules.has(a) &&
        foundKey(a) === ruleKey(r) &&
        !t.rules.some((x) => x.ns === r.ns && ruleMatches(x, a)),
    );
    if (other) {
      changedRules.add(other);
      add({
        object: `rule ${r.node}: ${ruleText(r)}`,
        op: '~',
        path: `${r.node}.rule ${r.priority}`,
        declared: ruleText(r),
        found: foundRuleText(other),
        message: `rule ${r.priority} in ${r.node}: declared ${ruleText(r)}, found ${foundRuleText(other)}`,
        node: r.node,
        netns: net.ino,
      });
      continue;
    }
    add({
      object: `rule ${r.node}: ${ruleText(r)}`,
      op: '-',
      message: `rule ${ruleText(r)} in ${r.node}: declared, missing`,
      node: r.node,
      netns: net.ino,
    });
  }
  for (const [ns, ino] of Object.entries(nodes)) {
    if (ns === hostKey) continue; // the host's own rules are not the lab's to judge
    const net = ino === undefined ? undefined : d.networks[String(ino)];
    if (!net) continue;
    for (const a of net.rules) {
      if (kernelRule(a) || changedRules.has(a) || t.rules.some((r) => r.ns === ns && ruleMatches(r, a)))
        continue;
      add({
        object: `rule ${nsLabel(ns)}: ${foundRuleText(a)}`,
        op: '+',
        message: `rule ${foundRuleText(a)} in ${nsLabel(ns)}: present, undeclared`,
        node: nsLabel(ns),
        netns: net.ino,
      });
    }
  }

  // Sysctls.
  if (facts.sysctls) {
    for (const s of t.sysctls) {
      if (!alive(s.ns)) continue;
      const got = facts.sysctls[`${s.ns}|${s.key}`];
      if (got !== undefined && got !== s.value)
        add({
          object: `sysctl ${nsLabel(s.ns)}: ${s.key}`,
          op: '~',
          path: `${nsLabel(s.ns)}.${s.key}`,
          declared: s.value,
          found: got,
          message: `${nsLabel(s.ns)} ${s.key}: declared ${s.value}, found ${got}`,
          node: nsLabel(s.ns),
        });
    }
  }

  // NAT and partition rules.
  if (facts.nft) {
    const rules = (ns: string, what: string, want: string[], have: RuleFound[] | undefined) => {
      const got = (have ?? [])
        .map((r) => r.comment ?? '')
        .filter((c) => c.startsWith(`wirescope-lab:${t.name}:`));
      const gotMarks = new Map(got.map((c) => [markOfComment(c), c]));
      const wantMarks = new Set(want.map(markOfComment));
      for (const w of want) {
        if (got.includes(w)) continue;
        const m = markOfComment(w);
        const short = m.split(':').slice(2).join(':');
        if (gotMarks.has(m))
          add({
            object: `${what} ${nsLabel(ns)}`,
            op: '~',
            path: `${nsLabel(ns)}.${short}`,
            message: `${what} rule ${short} in ${nsLabel(ns)}: declared one rule, found another`,
            node: nsLabel(ns),
          });
        else
          add({
            object: `${what} ${nsLabel(ns)}`,
            op: '-',
            message: `${what} rule ${short} in ${nsLabel(ns)}: declared, missing`,
            node: nsLabel(ns),
          });
      }
      for (const [m] of gotMarks) {
        if (!wantMarks.has(m))
          add({
            object: `${what} ${nsLabel(ns)}`,
            op: '+',
            message: `${what} rule ${m.split(':').slice(2).join(':')} in ${nsLabel(ns)}: present, undeclared`,
            node: nsLabel(ns),
          });
      }
    };
    const table = 'wirescope';
    const nat = natSpec(t, table);
    if (nat || facts.nft[hostKey])
      rules(hostKey, 'nat', (nat?.rules ?? []).map(ruleComment), facts.nft[hostKey]);
    for (const n of t.nodes) {
      if (!HOLDERS.has(n.kind) || !alive(n.name)) continue;
      const spec = partitionSpec(t, n.name, table);
      rules(n.name, 'partition', (spec?.rules ?? []).map(ruleComment), facts.nft[n.name]);
    }
  }

  // Reachability against the partitions; a pair with a node already drifting is a consequence.
  const drifting = new Set(drift.map((x) => x.node).filter((n): n is string => n !== undefined));
  for (const c of facts.reach ?? []) {
    if (c.expected === c.reachable || drifting.has(c.from) || drifting.has(c.to)) continue;
    add({
      object: `reach ${c.from} -> ${c.to}`,
      op: '~',
      path: `reach.${c.from}.${c.to}`,
      declared: c.expected ? 'reachable' : 'blocked',
      found: c.reachable ? 'reachable' : 'blocked',
      message: `${c.from} -> ${c.to} (${c.address}): declared ${c.expected ? 'reachable' : 'blocked'}, found ${c.reachable ? 'reachable' : 'blocked'}`,
      node: c.from,
    });
  }

  return { lab: t.name, clean: drift.length === 0, drift, nodes };
}

function normDst(dst: string): string {
  const c = parseCidr(dst);
  return c ? `${c.address}/${c.prefixlen}` : dst;
}

function isLowerDevice(t: Topology, ns: string, name: string): boolean {
  return t.ifs.some(
    (d) =>
      (d.macvlan?.parentNs === ns && d.macvlan.parent === name) ||
      ((d.vxlan?.underlayNs ?? d.ns) === ns && d.vxlan?.underlay === name),
  );
}

/** Human form: grouped by object, one line per difference. */
export function formatDrift(r: VerifyResult): string {
  if (r.clean) return `lab ${escapeTerminal(r.lab)}: clean\n`;
  const groups = new Map<string, Drift[]>();
  for (const x of r.drift) {
    const g = groups.get(x.object) ?? [];
    g.push(x);
    groups.set(x.object, g);
  }
  // Names from the kernel and the lab file: one drift, one line, inert on a terminal.
  let s = `lab ${escapeTerminal(r.lab)}: ${r.drift.length} difference(s)\n`;
  for (const [obj, xs] of groups) {
    s += `${escapeTerminal(obj)}\n`;
    for (const x of xs) s += `  ${x.op} ${escapeTerminal(x.message)}\n`;
  }
  return s;
}
