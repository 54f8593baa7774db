/**
 * The routing checks of `verifyLab`: routes of every table and policy rules,
 * declared against found. A declared route or rule whose destination or
 * selector is there with other values is one "~"; kernel-made ones are never
 * drift; the host's own are not judged.
 */
import type { NetworkNamespace, Route, Rule } from '../../model/types.js';
import { routeText } from '../build/plan.js';
import { contains, parseCidr } from '../file/ip.js';
import {
  foundKey,
  foundRuleText,
  kernelRule,
  ruleKey,
  ruleMatches,
  ruleText,
  tableText,
} from '../file/rules.js';
import { ifKey, nsLabel } from '../file/topology.js';
import type { VerifyContext } from './verify-context.js';

/** Routes the kernel makes (connected, local, broadcast, multicast, RA) are not drift, in any table. */
function kernelRoute(r: Route): boolean {
  return r.type !== 'unicast' || ['kernel', 'ra', 'redirect'].includes(r.protocol);
}

function normDst(dst: string): string {
  const c = parseCidr(dst);
  return c ? `${c.address}/${c.prefixlen}` : dst;
}

/** Routes, each in its table. */
export function checkRoutes(cx: VerifyContext): void {
  const { t, d, nodes, hostKey, missingIfs, missingAddrs, add, netOf, findIf } = cx;
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
}

/** Policy rules. */
export function checkRules(cx: VerifyContext): void {
  const { t, d, nodes, hostKey, add, netOf } = cx;
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
}
