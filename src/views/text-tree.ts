/**
 * The human view of `wirescope discover`: per network namespace, its tenants
 * (containers, processes, bind mounts), its interfaces with every wire
 * spelled out — `veth12 ⇄ eth0 in netns 4026532475 (guest1)` — addresses,
 * routes of all tables, listening ports with their owners, forwarded ports,
 * and the tenants' DNS configuration. Colour is the caller's choice (only on
 * a TTY); the text is the same either way.
 */
import { groupKind, LAB_NODE_TYPE } from '../model/groups.js';
import { namingTenants } from '../model/tenants.js';
import type {
  Container,
  Discovery,
  Interface,
  InterfaceRef,
  NetworkNamespace,
  Route,
  Socket,
  Tenant,
} from '../model/types.js';
import {
  forwardedLabel,
  isDefaultRule,
  isKernelLocal,
  routeLabel,
  ruleLabel,
  socketLabel,
  tableName,
} from './labels.js';
import { escapeTerminal, escapeTerminalDeep } from './terminal.js';

export interface TextTreeOptions {
  /** ANSI colours (default false). */
  color?: boolean;
  /** Only namespaces whose inode or name (tenant, container, bind mount path) matches. */
  netns?: string;
  /** Also list connected and other non-listening sockets (default: only a count). */
  allSockets?: boolean;
  /**
   * Also list the local-table routes the kernel derives from every address
   * (local, broadcast, multicast; default: only their count).
   */
  allRoutes?: boolean;
}

interface Node {
  label: string;
  children: Node[];
}

const node = (label: string, children: Node[] = []): Node => ({ label, children });

type Paint = (s: string) => string;
interface Palette {
  ns: Paint;
  nif: Paint;
  wire: Paint;
  dim: Paint;
  down: Paint;
  warn: Paint;
  tenant: Paint;
}

const ansi =
  (open: string, close = '\x1b[0m'): Paint =>
  (s) =>
    `${open}${s}${close}`;
const plain: Paint = (s) => s;

function palette(color: boolean): Palette {
  if (!color)
    return { ns: plain, nif: plain, wire: plain, dim: plain, down: plain, warn: plain, tenant: plain };
  return {
    ns: ansi('\x1b[1m'),
    nif: ansi('\x1b[36m'),
    wire: ansi('\x1b[33m'),
    dim: ansi('\x1b[2m'),
    down: ansi('\x1b[31m'),
    warn: ansi('\x1b[35m'),
    tenant: ansi('\x1b[32m'),
  };
}

const WARNINGS_PER_CODE = 5;
const PORTS_SHOWN = 16;

export class TreeContext {
  readonly interfaces = new Map<number, Map<number, Interface>>();
  /** Reverse wires: which interfaces sit on this one (macvlans, vlans, vxlan overlays, tunnels). */
  readonly uppers = new Map<Interface, { iface: Interface; how: string }[]>();
  private readonly names = new Map<number, string>();

  constructor(readonly discovery: Discovery) {
    for (const ns of Object.values(discovery.networks)) {
      const m = new Map<number, Interface>();
      for (const i of ns.interfaces) m.set(i.index, i);
      this.interfaces.set(ns.ino, m);
    }
    for (const m of this.interfaces.values()) {
      for (const i of m.values()) {
        const lower: [InterfaceRef | undefined, string][] = [
          [i.macvlan?.parent, i.macvlan?.macvtap ? 'parent of macvtap' : 'parent of macvlan'],
          [i.ipvlan?.parent, 'parent of ipvlan'],
          [i.vlan?.parent, 'parent of vlan'],
          [i.vxlan?.underlay, 'underlay of vxlan'],
          [i.tunnel?.underlay, `underlay of ${i.tunnel?.type ?? 'tunnel'}`],
        ];
        for (const [ref, how] of lower) {
          const l = this.lookup(ref);
          if (!l) continue;
          const list = this.uppers.get(l) ?? [];
          list.push({ iface: i, how });
          this.uppers.set(l, list);
        }
      }
    }
  }

  lookup(ref: InterfaceRef | undefined): Interface | undefined {
    return ref === undefined ? undefined : this.interfaces.get(ref.netns)?.get(ref.index);
  }

  /** A short human name for a network namespace: its containers, processes or bind mount. */
  netnsName(ino: number): string {
    const cached = this.names.get(ino);
    if (cached !== undefined) return cached;
    const d = this.discovery;
    const ns = d.networks[ino];
    let name = '';
    // The host's namespace is simply "host": its many tenants are listed in its own block.
    if (ns?.isInitial) name = 'host';
    else if (ns) {
      const tenants = ns.tenants.filter((t) => !(t.pid === 2 && d.processes[t.pid]?.ppid === 0));
      // A chrooted workload before its launcher (see model/tenants.ts); a
      // container named once even when several of its processes are tenants.
      const names = [...new Set(namingTenants(tenants, d.processes).map((t) => tenantName(d, t)))];
      name = names.slice(0, 3).join(', ');
      if (names.length > 3) name += `, +${names.length - 3}`;
    }
    if (name === '') name = holderPath(d, ino) ?? '';
    this.names.set(ino, name);
    return name;
  }

  /** `eth0 in netns 4026532475 (guest1)`, or just `eth0` within the same namespace. */
  where(target: Interface, from: number): string {
    if (target.netns === from) return target.name;
    const name = this.netnsName(target.netns);
    return `${target.name} in netns ${target.netns}${name ? ` (${name})` : ''}`;
  }

  ifname(netns: number, index: number | undefined): string {
    if (index === undefined) return '?';
    return this.interfaces.get(netns)?.get(index)?.name ?? `if${index}`;
  }
}

/** The container a tenant is or runs in, by key (or by id: containerd keys are scoped). */
export function containerOfTenant(d: Discovery, t: Tenant): Container | undefined {
  const cid = t.container ?? d.processes[t.pid]?.container;
  if (cid === undefined) return undefined;
  return d.containers[cid] ?? Object.values(d.containers).find((x) => x.id === cid);
}

function tenantName(d: Discovery, t: Tenant): string {
  const c = containerOfTenant(d, t);
  if (c) return c.prefix ? `${c.prefix}/${c.name || c.id}` : c.name || c.id;
  return `${t.comm}(${t.pid})`;
}

function holderPath(d: Discovery, ino: number): string | undefined {
  const rec = d.namespaces[ino] ?? Object.values(d.namespaces).find((n) => n.type === 'net' && n.ino === ino);
  if (!rec) return undefined;
  const bm = [...rec.bindMounts].sort(
    (a, b) =>
      Number(b.mntns === d.initial.mnt) - Number(a.mntns === d.initial.mnt) || a.path.localeCompare(b.path),
  )[0];
  if (bm) return bm.path;
  const fd = rec.fds[0];
  if (fd) return `/proc/${fd.pid}/fd/${fd.fd}`;
  return rec.ref;
}

function matchesFilter(ctx: TreeContext, ns: NetworkNamespace, filter: string): boolean {
  if (String(ns.ino) === filter || `net:[${ns.ino}]` === filter) return true;
  if (filter === 'host' && ns.isInitial) return true;
  const d = ctx.discovery;
  for (const t of ns.tenants) {
    const n = tenantName(d, t);
    if (n === filter || n.endsWith(`/${filter}`) || t.comm === filter || String(t.pid) === filter)
      return true;
    const cid = t.container ?? d.processes[t.pid]?.container;
    if (cid !== undefined && (cid === filter || (filter.length >= 6 && cid.startsWith(filter)))) return true;
    // A group (compose project, pod, lab) selects its members; `group/member` one of them,
    // which tells apart nodes of the same name in two labs.
    const c = containerOfTenant(d, t);
    for (const g of c?.groups ?? []) {
      const name = d.groups[g]?.name;
      if (name !== undefined && (filter === name || filter === `${name}/${c?.name}`)) return true;
    }
  }
  const path = holderPath(d, ns.ino);
  return path !== undefined && (path === filter || path.split('/').pop() === filter);
}

/** The network namespaces a `--netns` filter selects: by inode, tenant, container (id prefix), group or bind mount. */
export function matchingNetworks(
  discovery: Discovery,
  filter: string | undefined,
  ctx = new TreeContext(discovery),
): NetworkNamespace[] {
  return Object.values(discovery.networks)
    .filter((ns) => filter === undefined || matchesFilter(ctx, ns, filter))
    .sort((a, b) => Number(b.isInitial) - Number(a.isInitial) || a.ino - b.ino);
}

export function renderTextTree(raw: Discovery, options: TextTreeOptions = {}): string {
  // For a terminal: every name, command line, alias and message made inert before the
  // layout and colours (ours, the only escapes in the output) go around them.
  const discovery = escapeTerminalDeep(raw);
  const p = palette(options.color === true);
  const ctx = new TreeContext(discovery);
  const networks = Object.values(discovery.networks)
    .filter((ns) => options.netns === undefined || matchesFilter(ctx, ns, options.netns))
    .sort((a, b) => Number(b.isInitial) - Number(a.isInitial) || a.ino - b.ino);

  const out: string[] = [];
  for (const ns of networks) {
    const name = ctx.netnsName(ns.ino);
    out.push(p.ns(`netns ${ns.ino}${name ? ` (${name})` : ''}`));
    renderChildren(netnsChildren(ctx, ns, p, options), '', out);
    out.push('');
  }
  if (networks.length === 0) {
    out.push(
      options.netns === undefined
        ? 'no network namespaces found'
        : `no network namespace matches "${escapeTerminal(options.netns)}"`,
    );
  }
  const containerCount = Object.keys(discovery.containers).length;
  out.push(
    p.dim(
      `${networks.length} network namespace(s), ${containerCount} container(s), ` +
        `discovered in ${discovery.durationMs.toFixed(1)} ms`,
    ),
  );
  if (discovery.warnings.length > 0) {
    out.push(p.warn(`${discovery.warnings.length} warning(s):`));
    // An unprivileged run warns once per namespace: a few of each kind say it, the native JSON has all.
    const byCode = new Map<string, string[]>();
    for (const w of discovery.warnings) {
      const list = byCode.get(w.code) ?? [];
      list.push(w.message);
      byCode.set(w.code, list);
    }
    for (const [code, messages] of byCode) {
      for (const m of messages.slice(0, WARNINGS_PER_CODE)) out.push(p.warn(`  ${code}: ${m}`));
      if (messages.length > WARNINGS_PER_CODE) {
        out.push(
          p.warn(`  ${code}: … and ${messages.length - WARNINGS_PER_CODE} more (--format native lists all)`),
        );
      }
    }
  }
  for (const m of discovery.missingPrivileges) out.push(p.warn(`missing ${m.capability}: ${m.effect}`));
  return `${out.join('\n')}\n`;
}

function renderChildren(children: Node[], indent: string, out: string[]): void {
  children.forEach((c, i) => {
    const last = i === children.length - 1;
    const lines = c.label.split('\n');
    out.push(`${indent}${last ? '└─ ' : '├─ '}${lines[0]}`);
    const cont = `${indent}${last ? '   ' : '│  '}`;
    for (const l of lines.slice(1)) out.push(`${cont}${l}`);
    renderChildren(c.children, cont, out);
  });
}

function netnsChildren(ctx: TreeContext, ns: NetworkNamespace, p: Palette, options: TextTreeOptions): Node[] {
  const d = ctx.discovery;
  const nodes: Node[] = [];

  const tenants = ns.tenants.filter((t) => !(t.pid === 2 && d.processes[t.pid]?.ppid === 0));
  if (tenants.length > 0) {
    // Tenants of one namespace often share one /etc (processes of the host): say it once.
    const summaries = tenants.map((t) => dnsSummary(t));
    const shared =
      tenants.length > 1 && summaries.every((x) => x === summaries[0]) ? summaries[0] : undefined;
    const children = tenants.map((t, k) => tenantNode(ctx, t, p, shared === undefined ? summaries[k] : ''));
    if (shared) children.push(node(p.dim(`${shared} (all tenants)`)));
    nodes.push(node('tenants', children));
  } else {
    const path = holderPath(d, ns.ino);
    nodes.push(node('tenants', [node(p.tenant(`bind mount ${path ?? '(held by reference only)'}`))]));
  }

  const ifaces = [...ns.interfaces].sort((a, b) => a.index - b.index);
  nodes.push(
    node(
      `interfaces (${ifaces.length})`,
      ifaces.map((i) => interfaceNode(ctx, ns, i, p)),
    ),
  );

  if (ns.routes.length > 0) nodes.push(node(`routes (${ns.routes.length})`, routeNodes(ctx, ns, options, p)));
  if (ns.rules.some((r) => !isDefaultRule(r))) {
    nodes.push(
      node(
        `policy rules (${ns.rules.length})`,
        ns.rules.map((r) => node(ruleLabel(r))),
      ),
    );
  }

  const listening = ns.sockets.filter((s) => isListening(s));
  const others = ns.sockets.length - listening.length;
  const portNodes = listening.sort(bySocket).map((s) => socketNode(s));
  if (options.allSockets) {
    for (const s of ns.sockets.filter((x) => !isListening(x)).sort(bySocket)) portNodes.push(socketNode(s));
  }
  if (portNodes.length > 0 || others > 0) {
    const title =
      `listening ports (${listening.length})` +
      (others > 0 && !options.allSockets ? `, ${others} other socket(s) not shown` : '');
    nodes.push(node(title, portNodes));
  }
  if (ns.forwardedPorts.length > 0) {
    nodes.push(
      node(
        `forwarded ports (${ns.forwardedPorts.length})`,
        ns.forwardedPorts.map((f) => node(forwardedLabel(ctx, f))),
      ),
    );
  }
  return nodes;
}

export const isListening = (s: Socket): boolean =>
  s.macrostate === 'listening' || (s.protocol === 'udp' && s.macrostate === 'unconnected');

const bySocket = (a: Socket, b: Socket): number =>
  a.protocol.localeCompare(b.protocol) ||
  a.localPort - b.localPort ||
  a.family.localeCompare(b.family) ||
  a.localAddress.localeCompare(b.localAddress);

function tenantNode(ctx: TreeContext, t: Tenant, p: Palette, dns: string | undefined): Node {
  const d = ctx.discovery;
  const c = containerOfTenant(d, t);
  let label: string;
  if (c) {
    const engine = d.engines[c.engine];
    const groups = c.groups
      .map((g) => d.groups[g])
      .filter((g) => g !== undefined)
      .map((g) => `${groupKind(g.type)} ${g.name}`);
    const what = c.type === LAB_NODE_TYPE ? 'lab node' : `${c.type} container`;
    label =
      p.tenant(`${what} ${tenantName(d, t)}`) +
      ` ${c.state}, pid ${t.pid}` +
      (c.image ? `, image ${c.image}` : '') +
      (groups.length ? `, ${groups.join(', ')}` : '') +
      (c.privileged ? ', privileged' : '') +
      (engine
        ? p.dim(` (engine ${engine.type}${engine.version ? ` ${engine.version}` : ''} pid ${engine.pid})`)
        : '');
  } else {
    const proc = d.processes[t.pid];
    const cmd = proc?.cmdline.join(' ') ?? '';
    label = p.tenant(`process ${t.comm}(${t.pid})`) + (cmd ? p.dim(` ${truncate(cmd, 60)}`) : '');
  }
  return node(dns ? `${label}\n${p.dim(dns)}` : label);
}

function dnsSummary(t: Tenant): string {
  const dns = t.dns;
  const parts: string[] = [];
  const host = dns.utsHostname ?? dns.etcHostname;
  if (host)
    parts.push(
      `hostname ${host}${dns.utsDomainname && dns.utsDomainname !== '(none)' ? `.${dns.utsDomainname}` : ''}`,
    );
  const rc = dns.resolvConf;
  if (rc) {
    parts.push(rc.nameservers.length ? `nameservers ${rc.nameservers.join(' ')}` : 'no nameservers');
    if (rc.search.length) parts.push(`search ${rc.search.join(' ')}`);
    else if (rc.domain) parts.push(`domain ${rc.domain}`);
  }
  if (dns.hosts.length)
    parts.push(`${dns.hosts.length} /etc/hosts entr${dns.hosts.length === 1 ? 'y' : 'ies'}`);
  return parts.length ? `dns: ${parts.join(', ')}` : '';
}

const truncate = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function interfaceNode(ctx: TreeContext, ns: NetworkNamespace, i: Interface, p: Palette): Node {
  const state = i.operstate.toUpperCase();
  const head = [
    p.nif(i.name),
    p.dim(`#${i.index}`),
    i.kind,
    state === 'DOWN' || state === 'LOWERLAYERDOWN' ? p.down(state) : state,
    `mtu ${i.mtu}`,
    i.mac && i.kind !== 'loopback' ? i.mac : '',
    i.alias ? `alias "${i.alias}"` : '',
    i.flags.includes('promisc') || i.flags.includes('PROMISC') ? 'promisc' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const lines: string[] = [head];
  const addrs = i.addresses.map(
    (a) =>
      `${a.address}/${a.prefixlen}${a.scope !== 'global' && a.scope !== 'universe' ? ` ${a.scope}` : ''}`,
  );
  if (addrs.length) lines.push(addrs.join('  '));

  const wires: string[] = [];
  const peer = ctx.lookup(i.veth?.peer ?? (i.kind === 'veth' ? i.link : undefined));
  if (peer) wires.push(`${i.name} ⇄ ${ctx.where(peer, ns.ino)}`);
  else if (i.kind === 'veth') {
    const u = i.linkUnresolved;
    wires.push(
      `${i.name} ⇄ ? (peer not found${u ? `: ifindex ${u.index}${u.netnsId !== undefined ? `, nsid ${u.netnsId}` : ''}` : ''})`,
    );
  }
  const master = ctx.lookup(i.master);
  if (master) wires.push(`port of ${master.kind} ${ctx.where(master, ns.ino)}`);
  if (i.ports.length) {
    const ports = i.ports
      .map((r) => ctx.lookup(r))
      .filter((x) => x !== undefined)
      .sort((a, b) => a.index - b.index);
    // A lab bridge may have hundreds of ports; each port shows its own wire below.
    const shown = ports.slice(0, PORTS_SHOWN).map((x) => portLabel(ctx, x, ns.ino));
    const more = ports.length - shown.length;
    wires.push(`ports (${ports.length}): ${shown.join(', ')}${more > 0 ? `, … +${more} more` : ''}`);
  }
  if (i.macvlan) {
    const parent = ctx.lookup(i.macvlan.parent);
    wires.push(
      `${i.macvlan.macvtap ? 'macvtap' : 'macvlan'} (${i.macvlan.mode}) on ${parent ? ctx.where(parent, ns.ino) : '?'}`,
    );
  }
  if (i.ipvlan) {
    const parent = ctx.lookup(i.ipvlan.parent);
    wires.push(`ipvlan (${i.ipvlan.mode}) on ${parent ? ctx.where(parent, ns.ino) : '?'}`);
  }
  if (i.vlan) {
    const parent = ctx.lookup(i.vlan.parent);
    wires.push(`vlan ${i.vlan.id} (${i.vlan.protocol}) on ${parent ? ctx.where(parent, ns.ino) : '?'}`);
  }
  if (i.vxlan) {
    const v = i.vxlan;
    const under = ctx.lookup(v.underlay);
    wires.push(
      [
        `vxlan vni ${v.vni}`,
        v.remote ? `remote ${v.remote}` : '',
        v.group ? `group ${v.group}` : '',
        v.local ? `local ${v.local}` : '',
        v.port ? `port ${v.port}` : '',
        under ? `underlay ${ctx.where(under, ns.ino)}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  if (i.geneve)
    wires.push(`geneve vni ${i.geneve.vni}${i.geneve.remote ? ` remote ${i.geneve.remote}` : ''}`);
  if (i.tunnel) {
    const t = i.tunnel;
    const under = ctx.lookup(t.underlay);
    wires.push(
      [
        t.type,
        t.local ? `local ${t.local}` : '',
        t.remote ? `remote ${t.remote}` : '',
        under ? `underlay ${ctx.where(under, ns.ino)}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  if (i.bond) wires.push(`bond mode ${i.bond.mode}`);
  if (i.vrf) wires.push(`vrf table ${tableName(i.vrf.table)}`);
  if (i.tuntap) {
    const holders = [...new Map(i.tuntap.holders.map((h) => [h.pid, h])).values()];
    wires.push(
      `${i.tuntap.mode} ${holders.length ? `held by ${holders.map((h) => `${h.comm}(${h.pid})`).join(', ')}` : 'not held by any process'}`,
    );
  }
  if (i.physical?.driver)
    wires.push(`driver ${i.physical.driver}${i.physical.busAddress ? ` at ${i.physical.busAddress}` : ''}`);
  if (i.network) {
    wires.push(
      `${i.network.engine} network "${i.network.name}"${i.network.internal ? ' (internal)' : ''}${i.network.default ? ' (default)' : ''}`,
    );
  }
  for (const up of ctx.uppers.get(i) ?? []) wires.push(`${up.how} ${ctx.where(up.iface, ns.ino)}`);
  for (const w of wires) lines.push(p.wire(w));
  return node(lines.join('\n'));
}

/** A bridge port, with the far end of its veth when it leads elsewhere. */
function portLabel(ctx: TreeContext, port: Interface, from: number): string {
  const peer = ctx.lookup(port.veth?.peer ?? (port.kind === 'veth' ? port.link : undefined));
  return peer ? `${port.name} (⇄ ${ctx.where(peer, from)})` : port.name;
}

function routeNodes(ctx: TreeContext, ns: NetworkNamespace, options: TextTreeOptions, p: Palette): Node[] {
  const byTable = new Map<number, Route[]>();
  for (const r of ns.routes) {
    const list = byTable.get(r.table) ?? [];
    list.push(r);
    byTable.set(r.table, list);
  }
  // main first, then the other numbered tables, local last (it is long and rarely the question).
  const order = (t: number): number => (t === 254 ? -2 : t === 255 ? 1e9 : t);
  return [...byTable.entries()]
    .sort((a, b) => order(a[0]) - order(b[0]))
    .map(([table, routes]) => {
      const shown = options.allRoutes ? routes : routes.filter((r) => !isKernelLocal(r));
      const children = shown.map((r) => node(routeLabel(ctx, ns, r)));
      const hidden = routes.length - shown.length;
      if (hidden > 0) {
        children.push(
          node(p.dim(`${hidden} route(s) the kernel derives from addresses (--all-routes lists them)`)),
        );
      }
      return node(`table ${tableName(table)}`, children);
    });
}

const socketNode = (s: Socket): Node => node(socketLabel(s));
