/**
 * `buildTopology`: from a schema-valid declaration to the desired topology
 * (topology.ts), in phases over one shared `TopologyBuilder`: nodes placed
 * and their kind-specific fields checked, bridges' own devices, links
 * (topology-links.ts), bridge ports and address conflicts, each node's
 * routes, rules and sysctls (topology-nodes.ts), NAT, partitions. Semantic
 * errors (unknown nodes, duplicate or over-long interface names, address
 * conflicts, ...) are collected with the path of the offending YAML node so
 * load.ts can give line and column. Pure.
 */
import { type Cidr, familyOf, parseCidr, parseMac } from './ip.js';
import { IF_NAME_RULE, isIfName, shown } from './names.js';
import { blockedPairs } from './partitions.js';
import type { DesiredRule } from './rules.js';
import type { EndpointDecl, LabDecl, NodeDecl } from './schema.js';
import {
  type DeclError,
  type DesiredIf,
  type DesiredLink,
  type DesiredRoute,
  type Forward,
  HOLDER_KINDS,
  HOST,
  ifKey,
  type LabNode,
  type NodeKind,
  nsLabel,
  type Path,
  type Topology,
} from './topology.js';
import { addLink } from './topology-links.js';
import { addNodeSettings } from './topology-nodes.js';

const IFNAMSIZ = 16; // include/uapi/linux/if.h: 15 bytes + NUL

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Why a name cannot be an interface name (names.ts), or undefined when it can. */
export function ifNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes >= IFNAMSIZ) return `interface name ${shown(name)} is ${bytes} bytes; Linux allows at most 15`;
  if (!isIfName(name)) return `interface name ${shown(name)} is not valid (${IF_NAME_RULE})`;
  return undefined;
}

/** A link endpoint resolved to its node. */
export type Ep = { node: LabNode; name: string; obj?: Exclude<EndpointDecl, string>; path: Path };

/** What the phases of buildTopology share: the declaration, what is built so far, and the errors. */
export class TopologyBuilder {
  readonly errors: DeclError[] = [];
  readonly nodes: LabNode[] = [];
  readonly byName = new Map<string, LabNode>();
  /** The `kind: host` node, if one is declared. */
  hostNode: string | undefined;
  /** The host's namespace key: its node's name, or HOST. */
  hostKey: string = HOST;
  readonly ifs: DesiredIf[] = [];
  readonly ifByKey = new Map<string, DesiredIf>();
  readonly ifPath = new Map<string, Path>();
  readonly links: DesiredLink[] = [];
  readonly routes: DesiredRoute[] = [];
  readonly rules: DesiredRule[] = [];
  readonly sysctls: Topology['sysctls'] = [];
  readonly masquerade: Topology['masquerade'] = [];
  readonly forwards: Forward[] = [];

  constructor(readonly decl: LabDecl) {}

  readonly err = (path: Path, message: string): void => {
    this.errors.push({ path, message });
  };
  readonly addIf = (d: DesiredIf, path: Path) => {
    const { err, ifs, ifByKey, ifPath } = this;
    const key = ifKey(d.ns, d.name);
    const bad = ifNameProblem(d.name);
    if (bad) err(path, bad);
    if (d.name === 'lo') err(path, '"lo" is the loopback device of every namespace');
    const prev = ifPath.get(key);
    if (prev) {
      err(
        path,
        `interface "${d.name}" is declared twice in namespace of node "${nsLabel(d.ns)}" (also at ${prev.join('.')})`,
      );
      return;
    }
    ifs.push(d);
    ifByKey.set(key, d);
    ifPath.set(key, path);
  };
  readonly addrsOf = (o: { ipv4?: string | string[]; ipv6?: string | string[] }, path: Path): Cidr[] => {
    const { err } = this;
    const out: Cidr[] = [];
    for (const [fam, v] of [
      ['inet', o.ipv4],
      ['inet6', o.ipv6],
    ] as const) {
      const f = fam === 'inet' ? 'ipv4' : 'ipv6';
      for (const s of list(v)) {
        const c = parseCidr(s, fam);
        if (!c) err([...path, f], `"${s}" is not an ${f === 'ipv4' ? 'IPv4' : 'IPv6'} address with prefix`);
        else out.push(c);
      }
    }
    return out;
  };
  readonly macOf = (m: string | undefined, path: Path): string | undefined => {
    const { err } = this;
    if (m === undefined) return undefined;
    const v = parseMac(m);
    if (!v) err([...path, 'mac'], `"${m}" is not a MAC address`);
    return v;
  };
  readonly endpoint = (e: EndpointDecl, path: Path): Ep | undefined => {
    const { err, byName } = this;
    let nodeName: string;
    let ifname: string;
    let obj: Exclude<EndpointDecl, string> | undefined;
    if (typeof e === 'string') {
      const i = e.indexOf(':');
      if (i <= 0 || i === e.length - 1) {
        err(path, `endpoint "${e}" must be "node:interface"`);
        return undefined;
      }
      nodeName = e.slice(0, i);
      ifname = e.slice(i + 1);
    } else {
      nodeName = e.node;
      ifname = e.name;
      obj = e;
    }
    const node = byName.get(nodeName);
    if (!node) {
      err(typeof e === 'string' ? path : [...path, 'node'], `unknown node "${nodeName}" in endpoint`);
      return undefined;
    }
    return obj ? { node, name: ifname, obj, path } : { node, name: ifname, path };
  };
  readonly devRef = (s: string, path: Path): { ns: string; name: string } | undefined => {
    const { err, byName } = this;
    const i = s.indexOf(':');
    if (i <= 0 || i === s.length - 1) {
      err(path, `"${s}" must be "node:interface"`);
      return undefined;
    }
    const node = byName.get(s.slice(0, i));
    if (!node) {
      err(path, `unknown node "${s.slice(0, i)}"`);
      return undefined;
    }
    const bad = ifNameProblem(s.slice(i + 1));
    if (bad) {
      err(path, bad);
      return undefined;
    }
    return { ns: node.ns, name: s.slice(i + 1) };
  };
}

export function buildTopology(decl: LabDecl): { topology: Topology; errors: DeclError[] } {
  const b = new TopologyBuilder(decl);
  placeNodes(b);
  addBridges(b);
  (decl.links ?? []).forEach((l, li) => {
    addLink(b, l, li);
  });
  checkPortsAndAddresses(b);
  addNodeSettings(b);
  addNat(b);
  return finish(b);
}

/** Nodes, each in its namespace (a bridge in the host's or its `in` node's), and their kind-specific fields. */
function placeNodes(b: TopologyBuilder): void {
  const { decl, err, nodes, byName } = b;
  for (const [name, n] of Object.entries(decl.nodes)) {
    if (n.kind === 'host') {
      if (b.hostNode) err(['nodes', name, 'kind'], `only one host node is allowed (already "${b.hostNode}")`);
      b.hostNode = name;
    }
  }
  const hostKey = b.hostNode ?? HOST;
  b.hostKey = hostKey;
  for (const [name, n] of Object.entries(decl.nodes)) {
    const node: LabNode = { name, kind: n.kind, decl: n, ns: n.kind === 'bridge' ? hostKey : name };
    nodes.push(node);
    byName.set(name, node);
  }
  // Kind-specific fields and placement.
  for (const node of nodes) {
    const n = node.decl;
    const at = (f: string): Path => ['nodes', node.name, f];
    const only = (fields: (keyof NodeDecl)[], kinds: NodeKind[]) => {
      for (const f of fields) {
        if (n[f] !== undefined && !kinds.includes(n.kind))
          err(at(f), `"${f}" does not apply to a ${n.kind} node`);
      }
    };
    only(['rootfs', 'hostname', 'dns', 'hosts', 'limits', 'root'], ['container']);
    only(['image'], ['docker']);
    only(['command'], ['container', 'docker']);
    only(['in', 'name', 'ipv4', 'ipv6', 'mac', 'mtu'], ['bridge']);
    only(['routes', 'rules', 'sysctls'], ['netns', 'container', 'docker', 'host']);
    if (n.kind === 'container' && !n.rootfs) err(['nodes', node.name], 'a container node needs "rootfs"');
    // A container's /etc/resolv.conf and /etc/hosts take addresses only, never free text.
    (n.dns?.nameservers ?? []).forEach((a, i) => {
      if (!familyOf(a))
        err(['nodes', node.name, 'dns', 'nameservers', i], `${shown(a)} is not an IP address`);
    });
    for (const [h, a] of Object.entries(n.hosts ?? {}))
      if (!familyOf(a)) err(['nodes', node.name, 'hosts', h], `${shown(a)} is not an IP address`);
    if (n.kind === 'docker' && !n.image) err(['nodes', node.name], 'a docker node needs "image"');
    if (n.kind === 'bridge' && n.in !== undefined) {
      const holder = byName.get(n.in);
      if (!holder) err(at('in'), `unknown node "${n.in}"`);
      else if (holder.kind === 'bridge') err(at('in'), `a bridge cannot live in bridge node "${n.in}"`);
      else node.ns = holder.ns;
    }
  }
}

/** Bridges' own devices. */
function addBridges(b: TopologyBuilder): void {
  const { nodes, addIf, addrsOf, macOf } = b;
  for (const node of nodes) {
    if (node.kind !== 'bridge') continue;
    const path: Path = ['nodes', node.name];
    addIf(
      {
        ns: node.ns,
        name: node.decl.name ?? node.name,
        kind: 'bridge',
        node: node.name,
        link: -1,
        addrs: addrsOf(node.decl, path),
        mac: macOf(node.decl.mac, path),
        mtu: node.decl.mtu,
      },
      node.decl.name !== undefined ? [...path, 'name'] : path,
    );
  }
}

/**
 * Bridge ports must reach their bridge in the same namespace (checked by
 * construction: the port lives in the bridge node's namespace); no address
 * may sit on two interfaces of the lab.
 */
function checkPortsAndAddresses(b: TopologyBuilder): void {
  const { err, ifs, ifByKey, ifPath } = b;
  // Bridge ports must reach their bridge in the same namespace (checked by construction: the port
  // lives in the bridge node's namespace); parents and underlays, if declared, must be there.
  for (const d of ifs) {
    if (d.master && !ifByKey.has(ifKey(d.ns, d.master)))
      err(ifPath.get(ifKey(d.ns, d.name)) ?? [], `bridge "${d.master}" not found`);
  }

  // Address conflicts: one address on two interfaces of the lab.
  const seen = new Map<string, string>();
  for (const d of ifs) {
    for (const a of d.addrs) {
      const who = `${d.node}:${d.name}`;
      const prev = seen.get(a.address);
      if (prev !== undefined && prev !== who)
        err(ifPath.get(ifKey(d.ns, d.name)) ?? [], `address ${a.address} is also assigned to ${prev}`);
      else if (prev === who)
        err(ifPath.get(ifKey(d.ns, d.name)) ?? [], `address ${a.address} is listed twice on ${who}`);
      seen.set(a.address, who);
    }
  }
}

/** NAT: masquerade sources and port forwards to a node's (first IPv4) address or a literal one. */
function addNat(b: TopologyBuilder): void {
  const { decl, err, byName, ifs, masquerade, forwards } = b;
  (decl.nat?.masquerade ?? []).forEach((m, i) => {
    const c = parseCidr(m.source);
    if (!c) err(['nat', 'masquerade', i, 'source'], `"${m.source}" is not a CIDR`);
    else masquerade.push(m.out !== undefined ? { source: c, out: m.out } : { source: c });
  });
  (decl.nat?.forwards ?? []).forEach((f, i) => {
    const p: Path = ['nat', 'forwards', i, 'to'];
    const j = f.to.lastIndexOf(':');
    const target = f.to.slice(0, j);
    const port = Number(f.to.slice(j + 1));
    if (j <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
      err(p, `"${f.to}" must be "node:port" or "address:port"`);
      return;
    }
    let toAddr: string | undefined;
    if (familyOf(target) === 'inet') toAddr = target;
    else {
      const node = byName.get(target);
      if (!node) {
        err(p, `unknown node "${target}"`);
        return;
      }
      toAddr = ifs
        .filter((d) => d.node === target)
        .flatMap((d) => d.addrs)
        .find((a) => a.family === 'inet')?.address;
      if (!toAddr) {
        err(p, `node "${target}" has no IPv4 address to forward to`);
        return;
      }
    }
    forwards.push({
      proto: f.proto ?? 'tcp',
      port: f.port,
      toAddr,
      toPort: port,
      label: `${f.proto ?? 'tcp'}/${f.port} -> ${f.to}`,
    });
  });
}

/** Partitions, the namespaces the lab uses, and the result. */
function finish(b: TopologyBuilder): { topology: Topology; errors: DeclError[] } {
  const { decl, err, nodes, hostKey, ifs, masquerade, forwards } = b;
  const pr = blockedPairs(
    decl.partitions ?? [],
    nodes.filter((n) => HOLDER_KINDS.has(n.kind)).map((n) => n.name),
  );
  for (const e of pr.errors) err(['partitions', ...e.path], e.message);

  const namespaces = [
    ...new Set([...nodes.filter((n) => n.kind !== 'bridge').map((n) => n.name), ...nodes.map((n) => n.ns)]),
  ];
  if (masquerade.length > 0 || forwards.length > 0)
    if (!namespaces.includes(hostKey)) namespaces.push(hostKey);
  for (const d of ifs) {
    for (const ns of [d.ns, d.macvlan?.parentNs, d.vxlan?.underlayNs])
      if (ns && !namespaces.includes(ns)) namespaces.push(ns);
  }

  return {
    topology: {
      name: decl.name,
      nodes,
      namespaces,
      hostKey,
      ifs,
      links: b.links,
      routes: b.routes,
      rules: b.rules,
      sysctls: b.sysctls,
      masquerade,
      forwards,
      blocked: pr.blocked,
    },
    errors: b.errors,
  };
}
