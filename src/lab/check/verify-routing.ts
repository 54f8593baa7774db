/**
 * The routing checks of `verifyLab`: routes of every table and policy rules,
 * declared against found through the one diff (diff.ts). A route is keyed by
 * table, family and destination, a rule by its selector; one found with the
 * same key and other values is one "~"; kernel-made ones are never drift;
 * the host's own undeclared ones are not the lab's to judge.
 */
import type { Drift } from '../../model/changes.js';
import type { NetworkNamespace, Route, Rule } from '../../model/types.js';
import { routeBriefLabel } from '../../views/labels.js';
import { routeText } from '../build/plan.js';
import { contains, parseCidr } from '../file/ip.js';
import {
  type DesiredRule,
  foundKey,
  foundRuleText,
  kernelRule,
  RT_TABLE_MAIN,
  ruleKey,
  ruleMatches,
  ruleText,
  tableText,
} from '../file/rules.js';
import { type DesiredRoute, ifKey, nsLabel } from '../file/topology.js';
import { type DiffResult, type DiffSpec, diff, diffDrifts, type Present } from './diff.js';
import type { VerifyContext } from './verify-context.js';

/** Routes the kernel makes (connected, local, broadcast, multicast, RA) are not drift, in any table. */
function kernelRoute(r: Route): boolean {
  return r.type !== 'unicast' || ['kernel', 'ra', 'redirect'].includes(r.protocol);
}

function normDst(dst: string): string {
  const c = parseCidr(dst);
  return c ? `${c.address}/${c.prefixlen}` : dst;
}

/** A found item with the namespace it was found in (its device names, its node). */
interface InNs<T> {
  ns: string;
  net: NetworkNamespace;
  item: T;
}

const gwOf = (a: Route): string | undefined => a.gateway ?? a.nexthops[0]?.gateway;
const devOf = (f: InNs<Route>): string | undefined =>
  f.net.interfaces.find((i) => i.index === f.item.dev)?.name;
const foundRouteText = (f: InNs<Route>): string =>
  routeBriefLabel({
    dst: f.item.dst,
    gateway: gwOf(f.item),
    dev: devOf(f),
    metric: f.item.metric || undefined,
    table: f.item.table,
  });
const dstText = (r: DesiredRoute): string =>
  r.dst.prefixlen === 0 ? 'default' : `${r.dst.address}/${r.dst.prefixlen}`;

const ROUTES: DiffSpec<DesiredRoute, InNs<Route>> = {
  key: (r) => `${r.table}|${r.dst.family}|${r.dst.address}/${r.dst.prefixlen}`,
  foundKey: ({ item: a }) => `${a.table}|${a.family}|${normDst(a.dst)}`,
  fields: [
    { name: 'via', declared: (r) => r.via ?? 'none', found: (f) => gwOf(f.item) ?? 'none' },
    { name: 'dev', declared: (r) => r.dev, found: (f) => devOf(f) ?? 'none' },
    {
      name: 'metric',
      declared: (r) => (r.metric === undefined ? undefined : String(r.metric)),
      found: (f) => String(f.item.metric ?? 0),
    },
  ],
  quiet: (f) => kernelRoute(f.item),
};

const routePresent = (cx: VerifyContext): Present<DesiredRoute, InNs<Route>> => ({
  object: (r) => `route ${r.node}: ${routeText(r)}`,
  foundObject: (f) => `route ${nsLabel(f.ns)}: ${foundRouteText(f)}`,
  label: (r) => `route ${routeText(r)} in ${r.node}`,
  foundLabel: (f) => `route ${foundRouteText(f)} in ${nsLabel(f.ns)}`,
  at: (r) => ({ node: r.node, netns: cx.nodes[r.ns] }),
  foundAt: (f) => ({ node: nsLabel(f.ns), netns: f.net.ino }),
  changed: {
    whole: {
      subject: (r) =>
        `route ${dstText(r)}${r.table !== RT_TABLE_MAIN ? ` table ${tableText(r.table)}` : ''} in ${r.node}`,
      declared: routeText,
      found: foundRouteText,
    },
  },
});

const RULES: DiffSpec<DesiredRule, InNs<Rule>> = {
  key: ruleKey,
  foundKey: (f) => foundKey(f.item),
  // The selector is the key; what a rule does is its one field (ruleMatches: a plain lookup in the table).
  fields: [
    {
      name: 'action',
      declared: ruleText,
      found: (f) => foundRuleText(f.item),
      same: (r, f) => ruleMatches(r, f.item),
    },
  ],
  quiet: (f) => kernelRule(f.item),
};

const rulePresent = (cx: VerifyContext): Present<DesiredRule, InNs<Rule>> => ({
  object: (r) => `rule ${r.node}: ${ruleText(r)}`,
  foundObject: (f) => `rule ${nsLabel(f.ns)}: ${foundRuleText(f.item)}`,
  label: (r) => `rule ${ruleText(r)} in ${r.node}`,
  foundLabel: (f) => `rule ${foundRuleText(f.item)} in ${nsLabel(f.ns)}`,
  at: (r) => ({ node: r.node, netns: cx.nodes[r.ns] }),
  foundAt: (f) => ({ node: nsLabel(f.ns), netns: f.net.ino }),
  changed: {
    whole: {
      subject: (r) => `rule ${r.priority} in ${r.node}`,
      declared: ruleText,
      found: (f) => foundRuleText(f.item),
    },
  },
});

/**
 * One diff per running namespace, merged: missing and changed in the file's
 * order, unexpected per namespace (never the host's).
 */
function diffPerNs<D extends { ns: string }, T>(
  cx: VerifyContext,
  declared: readonly D[],
  items: (net: NetworkNamespace) => readonly T[],
  spec: DiffSpec<D, InNs<T>>,
): DiffResult<D, InNs<T>> {
  const all: DiffResult<D, InNs<T>> = { matched: [], missing: [], unexpected: [], changed: [] };
  for (const ns of Object.keys(cx.nodes)) {
    const net = cx.netOf(ns);
    if (!net) continue;
    const found = items(net).map((item) => ({ ns, net, item }));
    const r = diff(
      declared.filter((d) => d.ns === ns),
      found,
      spec,
    );
    all.missing.push(...r.missing);
    all.changed.push(...r.changed);
    if (ns !== cx.hostKey) all.unexpected.push(...r.unexpected);
  }
  return all;
}

/**
 * A declared route that cannot be there because something it needs is
 * missing and reported already: its device, or the interface or address
 * whose network holds its gateway.
 */
function routeExcused(cx: VerifyContext, r: DesiredRoute): boolean {
  if (r.dev && !cx.findIf(r.ns, r.dev)) return true;
  const via = r.via;
  if (!via) return false;
  const cover = cx.t.ifs
    .filter((x) => x.ns === r.ns)
    .flatMap((x) => x.addrs.map((c) => ({ x, c })))
    .filter(({ c }) => contains(c, via));
  return (
    cover.some(({ x }) => cx.missingIfs.has(ifKey(x.ns, x.name))) ||
    cover.some(({ c }) => cx.missingAddrs.some((m) => m.ns === r.ns && m.c.address === c.address))
  );
}

/** Routes, each in its table. */
export function checkRoutes(cx: VerifyContext): void {
  const r = diffPerNs(cx, cx.t.routes, (net) => net.routes, ROUTES);
  const drift: Drift[] = diffDrifts(r, routePresent(cx), {
    declared: cx.t.routes,
    excused: (d) => routeExcused(cx, d),
  });
  for (const x of drift) cx.add(x);
}

/** Policy rules. */
export function checkRules(cx: VerifyContext): void {
  const r = diffPerNs(cx, cx.t.rules, (net) => net.rules, RULES);
  for (const x of diffDrifts(r, rulePresent(cx), { declared: cx.t.rules })) cx.add(x);
}
