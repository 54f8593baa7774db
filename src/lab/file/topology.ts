/**
 * From a schema-valid declaration to the desired topology: every interface
 * with the namespace (node) that holds it, its kind, parameters and addresses;
 * routes, sysctls, NAT and the blocked pairs of the partitions. Semantic
 * errors (unknown nodes, duplicate or over-long interface names, address
 * conflicts, ...) are collected with the path of the offending YAML node so
 * load.ts can give line and column. Pure.
 */
import { type Cidr, cidrString, familyOf, parseCidr, parseMac, routeDst } from './ip.js';
import { IF_NAME_RULE, isIfName, shown } from './names.js';
import { blockedPairs } from './partitions.js';
import { type DesiredRule, parseFwmark, parseTable, RT_TABLE_MAIN, ruleKey, ruleText } from './rules.js';
import type { EndpointDecl, LabDecl, LinkDecl, NetemDecl, NodeDecl } from './schema.js';

export type Path = (string | number)[];
export interface DeclError {
  path: Path;
  message: string;
}

/** Key of the host's namespace when no `kind: host` node is declared but the host is used. */
export const HOST = '@host';

export type NodeKind = NodeDecl['kind'];

export interface LabNode {
  name: string;
  kind: NodeKind;
  decl: NodeDecl;
  /** Node whose network namespace this node lives in (itself, or the bridge's `in`, or HOST). */
  ns: string;
}

export type IfKind = 'veth' | 'bridge' | 'macvlan' | 'vxlan';

export interface DesiredIf {
  /** Namespace-holding node (or HOST). */
  ns: string;
  name: string;
  kind: IfKind;
  /** Declared node the interface belongs to (a bridge node for its ports and itself). */
  node: string;
  /** Index into Topology.links; -1 for a bridge's own device. */
  link: number;
  /** Bridge device (name in the same namespace) this interface is a port of. */
  master?: string;
  peer?: { ns: string; name: string };
  macvlan?: { parentNs: string; parent: string; mode: string };
  vxlan?: {
    vni: number;
    remote?: string;
    local?: string;
    port: number;
    underlayNs?: string;
    underlay?: string;
  };
  addrs: Cidr[];
  mac?: string;
  mtu?: number;
  netem?: NetemDecl;
}

export interface DesiredLink {
  index: number;
  type: 'veth' | 'macvlan' | 'vxlan';
  /** Keys "ns/name" of its interfaces (veth: two). */
  ifs: string[];
  label: string;
}

export interface DesiredRoute {
  ns: string;
  node: string;
  dst: Cidr;
  via?: string;
  dev?: string;
  metric?: number;
  /** Routing table id (254 = main). */
  table: number;
}

export type { DesiredRule } from './rules.js';

export interface Forward {
  proto: 'tcp' | 'udp';
  port: number;
  toAddr: string;
  toPort: number;
  label: string;
}

export interface Topology {
  name: string;
  nodes: LabNode[];
  /** Every namespace-holding node name, HOST included when used. */
  namespaces: string[];
  ifs: DesiredIf[];
  links: DesiredLink[];
  routes: DesiredRoute[];
  rules: DesiredRule[];
  sysctls: { ns: string; key: string; value: string }[];
  masquerade: { source: Cidr; out?: string }[];
  forwards: Forward[];
  /** Per node: peers whose traffic it drops (from the partitions). */
  blocked: Map<string, Set<string>>;
}

export const ifKey = (ns: string, name: string): string => `${ns}/${name}`;

const IFNAMSIZ = 16; // include/uapi/linux/if.h: 15 bytes + NUL

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function buildTopology(decl: LabDecl): { topology: Topology; errors: DeclError[] } {
  const errors: DeclError[] = [];
  const err = (path: Path, message: string) => errors.push({ path, message });
  const nodes: LabNode[] = [];
  const byName = new Map<string, LabNode>();
  let hostNode: string | undefined;

  for (const [name, n] of Object.entries(decl.nodes)) {
    if (n.kind === 'host') {
      if (hostNode) err(['nodes', name, 'kind'], `only one host node is allowed (already "${hostNode}")`);
      hostNode = name;
    }
  }
  const hostKey = hostNode ?? HOST;
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

  const ifs: DesiredIf[] = [];
  const ifByKey = new Map<string, DesiredIf>();
  const ifPath = new Map<string, Path>();
  const addIf = (d: DesiredIf, path: Path) => {
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

  const addrsOf = (o: { ipv4?: string | string[]; ipv6?: string | string[] }, path: Path): Cidr[] => {
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
  const macOf = (m: string | undefined, path: Path): string | undefined => {
    if (m === undefined) return undefined;
    const v = parseMac(m);
    if (!v) err([...path, 'mac'], `"${m}" is not a MAC address`);
    return v;
  };

  // Bridges' own devices.
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

  type Ep = { node: LabNode; name: string; obj?: Exclude<EndpointDecl, string>; path: Path };
  const endpoint = (e: EndpointDecl, path: Path): Ep | undefined => {
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
  /** "node:ifname" reference to an existing device (parent, underlay); the device may be undeclared. */
  const devRef = (s: string, path: Path): { ns: string; name: string } | undefined => {
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

  const links: DesiredLink[] = [];
  (decl.links ?? []).forEach((l: LinkDecl, li) => {
    const lp: Path = ['links', li];
    const type = l.type ?? 'veth';
    const eps = l.endpoints ?? (l.endpoint !== undefined ? [l.endpoint] : []);
    if (l.endpoints && l.endpoint !== undefined) err(lp, 'give either "endpoints" or "endpoint", not both');
    const epPath = (i: number): Path => (l.endpoints ? [...lp, 'endpoints', i] : [...lp, 'endpoint']);
    const want = type === 'veth' ? 2 : 1;
    if (eps.length !== want) {
      err(lp, `a ${type} link has ${want === 2 ? 'two endpoints' : 'one endpoint'}, found ${eps.length}`);
      return;
    }
    for (const [f, types] of [
      ['parent', ['macvlan']],
      ['mode', ['macvlan']],
      ['vni', ['vxlan']],
      ['remote', ['vxlan']],
      ['local', ['vxlan']],
      ['port', ['vxlan']],
      ['underlay', ['vxlan']],
    ] as const) {
      if (l[f] !== undefined && !(types as readonly string[]).includes(type))
        err([...lp, f], `"${f}" does not apply to a ${type} link`);
    }
    const resolved = eps.map((e, i) => endpoint(e, epPath(i)));
    if (resolved.some((r) => r === undefined)) return;
    const ends = resolved as Ep[];
    for (const ep of ends) {
      if (ep.node.kind === 'bridge' && type !== 'veth')
        err(ep.path, `a ${type} endpoint cannot be a bridge port; use a veth`);
    }
    const index = links.length;
    const mk = (ep: Ep, kind: IfKind): DesiredIf => {
      const d: DesiredIf = {
        ns: ep.node.ns,
        name: ep.name,
        kind,
        node: ep.node.name,
        link: index,
        addrs: ep.obj ? addrsOf(ep.obj, ep.path) : [],
        mac: macOf(ep.obj?.mac, ep.path),
        mtu: ep.obj?.mtu ?? l.mtu,
      };
      if (ep.node.kind === 'bridge') {
        d.master = ep.node.decl.name ?? ep.node.name;
        if (d.addrs.length > 0)
          err(ep.path, 'a bridge port carries no addresses; put them on the bridge node');
      }
      if (l.netem) d.netem = l.netem;
      return d;
    };
    if (type === 'veth') {
      const [a, b] = ends as [Ep, Ep];
      const da = mk(a, 'veth');
      const db = mk(b, 'veth');
      da.peer = { ns: db.ns, name: db.name };
      db.peer = { ns: da.ns, name: da.name };
      addIf(da, a.path);
      addIf(db, b.path);
      links.push({
        index,
        type,
        ifs: [ifKey(da.ns, da.name), ifKey(db.ns, db.name)],
        label: `${a.node.name}:${a.name} <-> ${b.node.name}:${b.name}`,
      });
      return;
    }
    const [e] = ends as [Ep];
    const d = mk(e, type);
    if (type === 'macvlan') {
      if (!l.parent) {
        err(lp, 'a macvlan link needs "parent" ("node:interface")');
        return;
      }
      const p = devRef(l.parent, [...lp, 'parent']);
      if (!p) return;
      d.macvlan = { parentNs: p.ns, parent: p.name, mode: l.mode ?? 'bridge' };
    } else {
      if (l.vni === undefined) {
        err(lp, 'a vxlan link needs "vni"');
        return;
      }
      d.vxlan = { vni: l.vni, port: l.port ?? 4789 };
      for (const f of ['remote', 'local'] as const) {
        const v = l[f];
        if (v === undefined) continue;
        if (!familyOf(v)) err([...lp, f], `"${v}" is not an IP address`);
        else d.vxlan[f] = parseCidr(v)?.address ?? v;
      }
      if (l.underlay) {
        const u = devRef(l.underlay, [...lp, 'underlay']);
        if (u) {
          d.vxlan.underlayNs = u.ns;
          d.vxlan.underlay = u.name;
        }
      }
    }
    addIf(d, e.path);
    links.push({ index, type, ifs: [ifKey(d.ns, d.name)], label: `${e.node.name}:${e.name} (${type})` });
  });

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

  const routes: DesiredRoute[] = [];
  const rules: DesiredRule[] = [];
  const sysctls: Topology['sysctls'] = [];
  for (const node of nodes) {
    (node.decl.routes ?? []).forEach((r, ri) => {
      const rp: Path = ['nodes', node.name, 'routes', ri];
      const dst = routeDst(r.dst, r.via);
      if (!dst) {
        err([...rp, 'dst'], `"${r.dst}" is not a destination ("default" or a CIDR)`);
        return;
      }
      if (r.via !== undefined && familyOf(r.via) !== dst.family) {
        err(
          [...rp, 'via'],
          `gateway "${r.via}" is not an ${dst.family === 'inet' ? 'IPv4' : 'IPv6'} address`,
        );
        return;
      }
      if (r.via === undefined && r.dev === undefined) {
        err(rp, 'a route needs "via" or "dev"');
        return;
      }
      if (r.dev !== undefined && !ifByKey.has(ifKey(node.ns, r.dev)))
        err([...rp, 'dev'], `interface "${r.dev}" is not declared in node "${node.name}"`);
      let table = RT_TABLE_MAIN;
      if (r.table !== undefined) {
        const id = parseTable(r.table);
        if (id === undefined) {
          err([...rp, 'table'], tableError(r.table));
          return;
        }
        table = id;
      }
      const route: DesiredRoute = { ns: node.ns, node: node.name, dst, table };
      if (r.via !== undefined) route.via = parseCidr(r.via)?.address ?? r.via;
      if (r.dev !== undefined) route.dev = r.dev;
      if (r.metric !== undefined) route.metric = r.metric;
      routes.push(route);
    });
    rules.push(...nodeRules(node, err, (name) => name === 'lo' || ifByKey.has(ifKey(node.ns, name))));
    for (const [k, v] of Object.entries(node.decl.sysctls ?? {})) {
      if (!/^net\.[A-Za-z0-9_.-]+$/.test(k) || k.includes('..')) {
        err(
          ['nodes', node.name, 'sysctls', k],
          `"${k}" is not a net.* sysctl (only per-namespace ones apply)`,
        );
        continue;
      }
      sysctls.push({ ns: node.ns, key: k, value: typeof v === 'boolean' ? (v ? '1' : '0') : String(v) });
    }
  }

  const masquerade: Topology['masquerade'] = [];
  const forwards: Forward[] = [];
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
  if (forwards.length > 0 || masquerade.length > 0) {
    // NAT lives in the host's namespace.
    if (!hostNode && !nodes.some((n) => n.ns === HOST)) {
      /* fine: the host is implied */
    }
  }

  const pr = blockedPairs(
    decl.partitions ?? [],
    nodes
      .filter((n) => n.kind === 'netns' || n.kind === 'container' || n.kind === 'docker')
      .map((n) => n.name),
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
      ifs,
      links,
      routes,
      rules,
      sysctls,
      masquerade,
      forwards,
      blocked: pr.blocked,
    },
    errors,
  };
}

const tableError = (v: number | string): string =>
  `table ${JSON.stringify(v)} is not a routing table (an id 1..4294967294, or main, local, default)`;

/**
 * A node's policy rules: CIDRs of one family, interfaces the node has,
 * a table, and no two rules with the same priority and selector.
 */
function nodeRules(
  node: LabNode,
  err: (path: Path, message: string) => void,
  hasIf: (name: string) => boolean,
): DesiredRule[] {
  const out: DesiredRule[] = [];
  const seen = new Map<string, DesiredRule>();
  (node.decl.rules ?? []).forEach((r, i) => {
    const rp: Path = ['nodes', node.name, 'rules', i];
    let ok = true;
    const fams = new Set<'inet' | 'inet6'>();
    const net = (f: 'from' | 'to'): Cidr | undefined => {
      const v = r[f];
      if (v === undefined || v === 'all') return undefined;
      const c = v === 'default' ? undefined : routeDst(v);
      if (!c) {
        err([...rp, f], `"${v}" is not a CIDR (e.g. 10.1.0.0/24 or 2001:db8::/64) or "all"`);
        ok = false;
        return undefined;
      }
      fams.add(c.family);
      return c;
    };
    const src = net('from');
    const dst = net('to');
    if (r.family !== undefined) fams.add(r.family === 'ipv6' ? 'inet6' : 'inet');
    if (fams.size > 1) {
      err(rp, 'a rule mixes IPv4 and IPv6 (from, to and family must agree)');
      ok = false;
    }
    for (const f of ['iif', 'oif'] as const) {
      const name = r[f];
      if (name !== undefined && !hasIf(name)) {
        err([...rp, f], `interface "${name}" is not declared in node "${node.name}"`);
        ok = false;
      }
    }
    let fwmark: DesiredRule['fwmark'];
    if (r.fwmark !== undefined) {
      fwmark = parseFwmark(r.fwmark);
      if (!fwmark) {
        err([...rp, 'fwmark'], `"${r.fwmark}" is not a firewall mark (e.g. 0x10 or 0x10/0xff)`);
        ok = false;
      }
    }
    const table = parseTable(r.table);
    if (table === undefined) {
      err([...rp, 'table'], tableError(r.table));
      ok = false;
    }
    if (!ok || table === undefined) return;
    const rule: DesiredRule = {
      ns: node.ns,
      node: node.name,
      family: [...fams][0] ?? 'inet',
      priority: r.priority,
      table,
    };
    if (src) rule.src = src;
    if (dst) rule.dst = dst;
    if (r.iif !== undefined) rule.iif = r.iif;
    if (r.oif !== undefined) rule.oif = r.oif;
    if (fwmark && (fwmark.mark !== 0 || fwmark.mask !== 0)) rule.fwmark = fwmark;
    const key = ruleKey(rule);
    const prev = seen.get(key);
    if (prev !== undefined) {
      // fib_rules.c would keep both and only ever use the first: almost certainly a mistake.
      err(
        [...rp, 'priority'],
        `this rule has the same priority and selector as an earlier rule of node "${node.name}" (${ruleText(prev)})`,
      );
      return;
    }
    seen.set(key, rule);
    out.push(rule);
  });
  return out;
}

export const nsLabel = (ns: string): string => (ns === HOST ? 'host' : ns);

/** Why a name cannot be an interface name (names.ts), or undefined when it can. */
function ifNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes >= IFNAMSIZ) return `interface name ${shown(name)} is ${bytes} bytes; Linux allows at most 15`;
  if (!isIfName(name)) return `interface name ${shown(name)} is not valid (${IF_NAME_RULE})`;
  return undefined;
}

/** IPv4/IPv6 addresses of a node's interfaces (for partitions and /etc/hosts). */
export function nodeAddrs(t: Topology, node: string): Cidr[] {
  return t.ifs.filter((d) => d.node === node).flatMap((d) => d.addrs);
}

export const addrString = cidrString;
