/**
 * `lab up`, the routing phases: addresses, routes (of any table) and policy
 * rules, each diffed against a dump of the namespace (plan.ts).
 */
import { NetlinkError } from '../../kernel/netlink.js';
import {
  type DesiredRule,
  foundRuleText,
  parseTable,
  RT_TABLE_MAIN,
  ruleMatches,
  ruleText,
} from '../file/rules.js';
import { nsLabel } from '../file/topology.js';
import { buildTopology } from '../file/topology-build.js';
import type { UpContext } from './apply-context.js';
import { where } from './apply-context.js';
import type { RouteState } from './netlink-ops.js';
import {
  addrFix,
  desiredRuleSpec,
  foundDst,
  foundRouteText,
  foundRuleSpec,
  labRoute,
  routeFix,
  routeText,
  ruleFix,
} from './plan.js';
import type { LabState } from './state.js';

/** Addresses: deletions first, then additions, per interface. */
export async function applyAddresses(run: UpContext): Promise<void> {
  const { t } = run;
  const nsList = [...new Set(t.ifs.map((d) => d.ns))];
  for (const ns of nsList) {
    const h = run.handle(ns);
    const have = h ? h.addrs() : [];
    for (const d of t.ifs.filter((x) => x.ns === ns)) {
      const a = run.link(ns, d.name);
      const mine = a ? have.filter((x) => x.index === a.index) : [];
      const fx = addrFix(d.addrs, mine);
      // Deletions first: removing an IPv4 primary address also removes the secondaries of its
      // subnet (unless promote_secondaries), which would take a just-added address along.
      for (const c of fx.del) {
        await run.act(
          'delete',
          `delete address ${c.address}/${c.prefixlen} from ${where(d)}`,
          () => a && h?.delAddr(a.index, c, where(d)),
        );
      }
      for (const c of fx.add) {
        await run.act(
          'create',
          `add address ${c.address}/${c.prefixlen} to ${where(d)}`,
          () => a && h?.addAddr(a.index, c, where(d)),
        );
      }
    }
  }
}

/**
 * Routes: in node namespaces every static route is the lab's; on the host only
 * the ones it declared.
 */
export async function applyRoutes(run: UpContext): Promise<void> {
  const { t, hostKey, prev } = run;
  const prevHostRoutes = prevRoutesOn(prev, hostKey);
  for (const ns of new Set([...t.routes.map((r) => r.ns), ...run.handles.keys()])) {
    const h = run.handle(ns);
    const want = t.routes.filter((r) => r.ns === ns);
    const have: RouteState[] = h ? h.routes() : [];
    const oifOf = (dev: string) => run.link(ns, dev)?.index;
    const fx = routeFix(want, have, oifOf, (a) =>
      ns !== hostKey
        ? labRoute(a, true)
        : labRoute(a, false) &&
          prevHostRoutes.some(
            (p) => p.dst === a.dst && (p.via ?? '') === (a.gateway ?? '') && p.table === a.table,
          ),
    );
    for (const r of fx.add) {
      const oif = r.dev ? oifOf(r.dev) : undefined;
      await run.act(
        'create',
        `add route ${routeText(r)} in ${r.node}`,
        () =>
          h?.addRoute(
            {
              dst: r.dst,
              ...(r.via ? { gateway: r.via } : {}),
              ...(oif !== undefined ? { oif } : {}),
              ...(r.metric !== undefined ? { metric: r.metric } : {}),
              table: r.table,
            },
            `${routeText(r)} in ${r.node}`,
          ),
        () => {
          try {
            h?.delRoute({ dst: r.dst, table: r.table, ...(r.via ? { gateway: r.via } : {}) }, routeText(r));
          } catch {
            /* went with its interface */
          }
        },
      );
    }
    for (const a of fx.del) {
      const dst = foundDst(a);
      await run.act('delete', `delete route ${foundRouteText(a)} in ${nsLabel(ns)}`, () => {
        try {
          h?.delRoute(
            {
              dst,
              table: a.table,
              ...(a.gateway ? { gateway: a.gateway } : {}),
              ...(a.dev !== undefined ? { oif: a.dev } : {}),
            },
            nsLabel(ns),
          );
        } catch (e) {
          // ESRCH: the declared route just added replaced it (same table, destination and metric).
          if (!(e instanceof NetlinkError && e.errno === 3)) throw e;
        }
      });
    }
  }
}

/**
 * Policy rules: in node namespaces every rule but the kernel's is the lab's; on
 * the host only the ones it declared before. New ones first, so traffic is
 * never left without its rule.
 */
export async function applyRules(run: UpContext): Promise<void> {
  const { t, hostKey, prev } = run;
  // the ones it declared before. New ones first, so traffic is never left without its rule.
  const prevHostRules = prevRulesOn(prev, hostKey);
  for (const ns of new Set([...t.rules.map((r) => r.ns), ...run.handles.keys()])) {
    const h = run.handle(ns);
    const want = t.rules.filter((r) => r.ns === ns);
    if (ns === hostKey && want.length === 0 && prevHostRules.length === 0) continue;
    const have = h ? h.rules() : [];
    const fx = ruleFix(
      want,
      have,
      (a) => ns !== hostKey || (a.protocol === 'static' && prevHostRules.some((p) => ruleMatches(p, a))),
    );
    for (const r of fx.add) {
      await run.act(
        'create',
        `add rule ${ruleText(r)} in ${r.node}`,
        () => h?.addRule(desiredRuleSpec(r), `${ruleText(r)} in ${r.node}`),
        () => h?.delRule(desiredRuleSpec(r), ruleText(r)),
      );
    }
    for (const a of fx.del) {
      await run.act('delete', `delete rule ${foundRuleText(a)} in ${nsLabel(ns)}`, () =>
        h?.delRule(foundRuleSpec(a), `${foundRuleText(a)} in ${nsLabel(ns)}`),
      );
    }
  }
}

function prevRoutesOn(
  prev: LabState | undefined,
  hostKey: string,
): { dst: string; via?: string; table: number }[] {
  if (!prev) return [];
  const out: { dst: string; via?: string; table: number }[] = [];
  for (const [n, d] of Object.entries(prev.decl.nodes)) {
    if ((d.kind === 'host' ? n : '') !== hostKey) continue;
    for (const r of d.routes ?? [])
      out.push({
        dst: r.dst === 'default' ? (r.via?.includes(':') ? '::/0' : '0.0.0.0/0') : r.dst,
        ...(r.via ? { via: r.via } : {}),
        table: (r.table !== undefined ? parseTable(r.table) : undefined) ?? RT_TABLE_MAIN,
      });
  }
  return out;
}

/** Host rules the lab declared when it was last applied (the only host rules it may remove). */
export function prevRulesOn(prev: LabState | undefined, hostKey: string): DesiredRule[] {
  if (!prev) return [];
  // The state's declaration passed validation when it was applied; its rules come out the same way.
  return buildTopology(prev.decl).topology.rules.filter(
    (r) => r.ns === hostKey && prev.decl.nodes[r.node]?.kind === 'host',
  );
}
