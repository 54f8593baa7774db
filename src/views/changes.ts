/**
 * What changed between two discoveries, spelled out for people: one line per
 * change, in the words of the text tree (`wirescope watch`).
 *
 *   + netns 4026532316 (h1)
 *   ~ h1: eth0 mtu 1500 → 1400
 *   + h1: eth0 address 10.0.0.77/24
 *   - h1: route 10.9.0.0/16 via 10.0.0.254 dev eth0
 *   + container web (docker) in netns 4026532185
 *
 * Identity is the model's (ARCHITECTURE.md "Object identity"): namespaces by inode,
 * interfaces by (netns, ifindex), containers by key. Counters and other values
 * that move all the time (statistics, neighbours, connected sockets, bridge
 * timers) are no change. The local-table routes the kernel derives from each
 * address are left out: the address line says it. Pure.
 */
import type { ChangeOp } from '../model/changes.js';
import { sameData } from '../model/equal.js';
import { interfaceKey } from '../model/ids.js';
import type { Container, Discovery, Interface, InterfaceRef, NetworkNamespace } from '../model/types.js';
import { forwardedLabel, isKernelLocal, routeLabel, ruleLabel, socketLabel, tableName } from './labels.js';
import { containerOfTenant, isListening, matchingNetworks, TreeContext } from './text-tree.js';

export type { ChangeOp };

export interface ChangeLine {
  op: ChangeOp;
  /** What kind of object changed. */
  what: 'netns' | 'interface' | 'address' | 'route' | 'rule' | 'port' | 'forward' | 'tenant' | 'container';
  /** The network namespace it is in, if any. */
  netns?: number;
  text: string;
}

export interface ChangeOptions {
  /** Only changes in the namespaces this `--netns` filter selects (before or after). */
  netns?: string;
}

const refKey = (r: InterfaceRef | undefined): string | undefined =>
  r === undefined ? undefined : interfaceKey(r);

interface Field {
  name: string;
  /** Compared between the discoveries: identity, not display text (a renamed peer is no new peer). */
  key: (i: Interface) => string | undefined;
  show?: (i: Interface, ctx: TreeContext) => string | undefined;
}

/** Interface fields worth a line when they change, as `name old → new`. */
const FIELDS: Field[] = [
  // One line for `ip link set down`, which changes both the admin flag and the operstate.
  { name: 'state', key: (i) => (i.flags.includes('up') ? i.operstate : `${i.operstate} (set down)`) },
  { name: 'mtu', key: (i) => String(i.mtu) },
  { name: 'mac', key: (i) => i.mac },
  { name: 'alias', key: (i) => i.alias },
  {
    name: 'master',
    key: (i) => refKey(i.master),
    show: (i, ctx) => (i.master ? (ctx.lookup(i.master)?.name ?? `if${i.master.index}`) : undefined),
  },
  { name: 'peer', key: (i) => refKey(peerOf(i)), show: (i, ctx) => wireOf(i, ctx) },
];

/**
 * Kind-specific settings, compared setting by setting (`vx0 vxlan remote 10.0.0.1 → 10.0.0.2`,
 * `br0 bridge stp false → true`, `tap0 tuntap holders qemu(41) → —`). The veth peer is a field
 * above; the engine network name is the decorators' naming, not a setting of the device.
 */
const KIND_SETTINGS = [
  'bridge',
  'bridgePort',
  'macvlan',
  'ipvlan',
  'vlan',
  'vxlan',
  'geneve',
  'tunnel',
  'bond',
  'vrf',
  'tuntap',
] as const satisfies readonly (keyof Interface)[];

function settingText(v: unknown, ctx: TreeContext, from: number): string {
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return v.length ? v.map((x) => settingText(x, ctx, from)).join(', ') : '—';
  if (typeof v !== 'object') return String(v);
  const o = v as Record<string, unknown>;
  // An interface reference: its name, and where it is when elsewhere.
  if (typeof o.netns === 'number' && typeof o.index === 'number' && Object.keys(o).length === 2) {
    const target = ctx.lookup({ netns: o.netns, index: o.index });
    return target ? ctx.where(target, from) : `if${o.index} in netns ${o.netns}`;
  }
  // A process holding a device.
  if (typeof o.pid === 'number' && typeof o.comm === 'string') return `${o.comm}(${o.pid})`;
  return JSON.stringify(v);
}

function settingChanges(o: Interface, i: Interface, before: TreeContext, after: TreeContext): string[] {
  const out: string[] = [];
  for (const kind of KIND_SETTINGS) {
    const was = (o[kind] ?? {}) as Record<string, unknown>;
    const now = (i[kind] ?? {}) as Record<string, unknown>;
    if (sameData(was, now)) continue;
    for (const k of new Set([...Object.keys(was), ...Object.keys(now)])) {
      if (sameData(was[k], now[k])) continue;
      out.push(
        `${i.name} ${kind} ${k} ${settingText(was[k], before, o.netns)} → ${settingText(now[k], after, i.netns)}`,
      );
    }
  }
  return out;
}

const peerOf = (i: Interface) => i.veth?.peer ?? (i.kind === 'veth' ? i.link : undefined);

function wireOf(i: Interface, ctx: TreeContext): string | undefined {
  const ref = peerOf(i);
  const peer = ctx.lookup(ref);
  return peer ? ctx.where(peer, i.netns) : ref ? `if${ref.index} in netns ${ref.netns}` : undefined;
}

const addrText = (a: Interface['addresses'][number]): string => `${a.address}/${a.prefixlen}`;

/**
 * Diff two lists by identity (`key`), shown by a label: what only the old list
 * has is removed, what only the new one has is added. Keys, not labels: a label
 * names devices and namespaces, which may be renamed without the item changing.
 */
function diffBy<T>(
  before: readonly T[],
  after: readonly T[],
  key: (x: T) => string,
  show: (x: T, side: 'before' | 'after') => string,
): { added: string[]; removed: string[] } {
  // Almost always nothing changed, in the same order: a walk over the data answers that without
  // building a key per item (at 1000 namespaces the keys cost most of a diff).
  if (before.length === after.length && before.every((x, i) => sameData(x, after[i]))) {
    return { added: [], removed: [] };
  }
  const b = new Set(before.map(key));
  const a = new Set(after.map(key));
  return {
    added: after.filter((x) => !b.has(key(x))).map((x) => show(x, 'after')),
    removed: before.filter((x) => !a.has(key(x))).map((x) => show(x, 'before')),
  };
}

const json = (x: unknown): string => JSON.stringify(x);

function routeText(ctx: TreeContext, n: NetworkNamespace, r: NetworkNamespace['routes'][number]): string {
  return `${r.table === 254 ? '' : `table ${tableName(r.table)} `}${routeLabel(ctx, n, r)}`;
}

function tenantText(d: Discovery, t: NetworkNamespace['tenants'][number]): string {
  const c = containerOfTenant(d, t);
  return c ? `${c.type} ${c.name} (pid ${t.pid})` : `${t.comm}(${t.pid})`;
}

function addedInterface(out: ChangeLine[], ctx: TreeContext, netns: number, at: string, i: Interface): void {
  const wire = wireOf(i, ctx);
  out.push({
    op: '+',
    what: 'interface',
    netns,
    text: `${at}${i.name} (${i.kind})${wire ? ` ⇄ ${wire}` : ''}`,
  });
  for (const a of i.addresses)
    out.push({ op: '+', what: 'address', netns, text: `${at}${i.name} address ${addrText(a)}` });
}

export function describeChanges(prev: Discovery, next: Discovery, options: ChangeOptions = {}): ChangeLine[] {
  const before = new TreeContext(prev);
  const after = new TreeContext(next);
  const out: ChangeLine[] = [];
  let wanted: ((ino: number) => boolean) | undefined;
  if (options.netns !== undefined) {
    const inos = new Set([
      ...matchingNetworks(prev, options.netns, before).map((n) => n.ino),
      ...matchingNetworks(next, options.netns, after).map((n) => n.ino),
    ]);
    wanted = (ino) => inos.has(ino);
  }
  const keep = (ino: number) => wanted === undefined || wanted(ino);

  const label = (ctx: TreeContext, ino: number): string => {
    const name = ctx.netnsName(ino);
    return name ? `${ino} (${name})` : String(ino);
  };
  // Inside a namespace lines start with its short name: "h1: eth0 mtu 1500 → 1400".
  const short = (ino: number): string => after.netnsName(ino) || before.netnsName(ino) || `netns ${ino}`;

  for (const [key, n] of Object.entries(next.networks)) {
    if (prev.networks[key] || !keep(n.ino)) continue;
    out.push({ op: '+', what: 'netns', netns: n.ino, text: `netns ${label(after, n.ino)}` });
    // What it came with; a vanished namespace takes everything along, so its line says it all.
    // (Not its loopback: every namespace has one.)
    for (const i of n.interfaces)
      if (i.kind !== 'loopback') addedInterface(out, after, n.ino, `${short(n.ino)}: `, i);
  }
  for (const [key, p] of Object.entries(prev.networks)) {
    if (next.networks[key] || !keep(p.ino)) continue;
    out.push({ op: '-', what: 'netns', netns: p.ino, text: `netns ${label(before, p.ino)}` });
  }

  for (const [key, n] of Object.entries(next.networks)) {
    const p = prev.networks[key];
    if (!p || !keep(n.ino)) continue;
    const at = () => short(n.ino);
    const line = (op: ChangeOp, what: ChangeLine['what'], text: string) =>
      out.push({ op, what, netns: n.ino, text: `${at()}: ${text}` });

    // The name lines start with: a namespace first seen while a runtime set it up is named after
    // its transient process (`runc:[2:INIT](812)`), then after its container once the engine
    // reports it. Readers follow namespaces by these names, so a new one gets a line of its own.
    const wasNamed = before.netnsName(n.ino);
    const nowNamed = after.netnsName(n.ino);
    if (wasNamed !== nowNamed)
      out.push({
        op: '~',
        what: 'netns',
        netns: n.ino,
        text: `netns ${n.ino} name ${wasNamed || '—'} → ${nowNamed || '—'}`,
      });

    const old = new Map(p.interfaces.map((i) => [i.index, i]));
    for (const i of n.interfaces) {
      const o = old.get(i.index);
      old.delete(i.index);
      if (!o) {
        addedInterface(out, after, n.ino, `${at()}: `, i);
        continue;
      }
      if (o.name !== i.name) line('~', 'interface', `${o.name} renamed ${i.name}`);
      for (const f of FIELDS) {
        if (f.key(o) === f.key(i)) continue;
        const was = f.show ? f.show(o, before) : f.key(o);
        const now = f.show ? f.show(i, after) : f.key(i);
        line('~', 'interface', `${i.name} ${f.name} ${was ?? '—'} → ${now ?? '—'}`);
      }
      for (const t of settingChanges(o, i, before, after)) line('~', 'interface', t);
      const addrs = diffBy(o.addresses, i.addresses, addrText, addrText);
      for (const a of addrs.removed) line('-', 'address', `${i.name} address ${a}`);
      for (const a of addrs.added) line('+', 'address', `${i.name} address ${a}`);
    }
    for (const o of old.values()) line('-', 'interface', `${o.name} (${o.kind})`);

    const routes = diffBy(
      p.routes.filter((r) => !isKernelLocal(r)),
      n.routes.filter((r) => !isKernelLocal(r)),
      json,
      (r, side) => (side === 'before' ? routeText(before, p, r) : routeText(after, n, r)),
    );
    for (const r of routes.removed) line('-', 'route', `route ${r}`);
    for (const r of routes.added) line('+', 'route', `route ${r}`);
    const rules = diffBy(p.rules, n.rules, json, ruleLabel);
    for (const r of rules.removed) line('-', 'rule', `rule ${r}`);
    for (const r of rules.added) line('+', 'rule', `rule ${r}`);

    const ports = diffBy(
      p.sockets.filter(isListening),
      n.sockets.filter(isListening),
      (x) =>
        `${x.protocol}/${x.family}/${x.localAddress}/${x.localPort}/${x.owners.map((o) => o.pid).join(',')}`,
      socketLabel,
    );
    for (const x of ports.removed) line('-', 'port', `listening ${x}`);
    for (const x of ports.added) line('+', 'port', `listening ${x}`);
    const fwd = diffBy(p.forwardedPorts, n.forwardedPorts, json, (f, side) =>
      forwardedLabel(side === 'before' ? before : after, f),
    );
    for (const f of fwd.removed) line('-', 'forward', `forwarded ${f}`);
    for (const f of fwd.added) line('+', 'forward', `forwarded ${f}`);

    for (const family of ['ipv4', 'ipv6'] as const) {
      const was = p.forwarding?.[family];
      const now = n.forwarding?.[family];
      if (was !== now) line('~', 'netns', `${family} forwarding ${was ?? '—'} → ${now ?? '—'}`);
    }
    const tenants = diffBy(
      p.tenants,
      n.tenants,
      (t) => `${t.pid}/${t.starttime}`,
      (t, side) => tenantText(side === 'before' ? prev : next, t),
    );
    for (const t of tenants.removed) line('-', 'tenant', `tenant ${t}`);
    for (const t of tenants.added) line('+', 'tenant', `tenant ${t}`);
  }

  const where = (c: Container) => (c.netns === undefined ? '' : ` in netns ${c.netns}`);
  const containerKept = (c: Container) => c.netns === undefined || keep(c.netns);
  for (const [key, c] of Object.entries(next.containers)) {
    const o = prev.containers[key];
    if (!containerKept(c) && (o === undefined || !containerKept(o))) continue;
    const line = (op: ChangeOp, text: string) => out.push({ op, what: 'container', netns: c.netns, text });
    if (!o) {
      line('+', `container ${c.name} (${c.type}) ${c.state}${where(c)}`);
      continue;
    }
    // Engines report a container before it runs (created, no namespace yet) and again once it
    // runs, in whichever order their events and the namespace census arrive: each step is a line,
    // and the one that gives it a namespace says which.
    if (o.name !== c.name) line('~', `container ${o.name} (${c.type}) renamed ${c.name}`);
    const moved = c.netns !== undefined && c.netns !== o.netns ? where(c) : '';
    if (o.state !== c.state) line('~', `container ${c.name} (${c.type}) ${o.state} → ${c.state}${moved}`);
    else if (moved) line('~', `container ${c.name} (${c.type}) now${moved}`);
  }
  for (const [key, o] of Object.entries(prev.containers)) {
    if (next.containers[key] || !containerKept(o)) continue;
    out.push({
      op: '-',
      what: 'container',
      netns: o.netns,
      text: `container ${o.name} (${o.type})${where(o)}`,
    });
  }
  return out;
}
