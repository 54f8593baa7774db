/**
 * The links of a lab file (veth, macvlan, vxlan): endpoints resolved to their
 * nodes, fields checked against the link type, the interfaces they make.
 * Part of buildTopology (topology-build.ts). Pure.
 */
import { familyOf, parseCidr } from './ip.js';
import type { LinkDecl } from './schema.js';
import { type DesiredIf, type IfKind, ifKey, type Path } from './topology.js';
import type { Ep, TopologyBuilder } from './topology-build.js';

/** One link declaration: its interfaces (two for a veth) and the link itself. */
export function addLink(b: TopologyBuilder, l: LinkDecl, li: number): void {
  const { err, links, addIf, addrsOf, macOf, endpoint, devRef } = b;
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
      if (d.addrs.length > 0) err(ep.path, 'a bridge port carries no addresses; put them on the bridge node');
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
}
