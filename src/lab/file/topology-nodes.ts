/**
 * Each node's routes, policy rules and sysctls, checked against the
 * interfaces the node has. Part of buildTopology (topology-build.ts). Pure.
 */
import { type Cidr, familyOf, parseCidr, routeDst } from './ip.js';
import { type DesiredRule, parseFwmark, parseTable, RT_TABLE_MAIN, ruleKey, ruleText } from './rules.js';
import { type DesiredRoute, ifKey, type LabNode, type Path } from './topology.js';
import type { TopologyBuilder } from './topology-build.js';

export function addNodeSettings(b: TopologyBuilder): void {
  const { err, ifByKey, rules } = b;
  for (const node of b.nodes) {
    nodeRoutes(b, node);
    rules.push(...nodeRules(node, err, (name) => name === 'lo' || ifByKey.has(ifKey(node.ns, name))));
    nodeSysctls(b, node);
  }
}

/** Routes: a destination of the gateway's family, "via" or "dev", a declared device, a table. */
function nodeRoutes(b: TopologyBuilder, node: LabNode): void {
  const { err, ifByKey, routes } = b;
  (node.decl.routes ?? []).forEach((r, ri) => {
    const rp: Path = ['nodes', node.name, 'routes', ri];
    const dst = routeDst(r.dst, r.via);
    if (!dst) {
      err([...rp, 'dst'], `"${r.dst}" is not a destination ("default" or a CIDR)`);
      return;
    }
    if (r.via !== undefined && familyOf(r.via) !== dst.family) {
      err([...rp, 'via'], `gateway "${r.via}" is not an ${dst.family === 'inet' ? 'IPv4' : 'IPv6'} address`);
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
}

/** Sysctls: net.* only (the per-namespace ones), values as the kernel takes them. */
function nodeSysctls(b: TopologyBuilder, node: LabNode): void {
  const { err, sysctls } = b;
  for (const [k, v] of Object.entries(node.decl.sysctls ?? {})) {
    if (!/^net\.[A-Za-z0-9_.-]+$/.test(k) || k.includes('..')) {
      err(['nodes', node.name, 'sysctls', k], `"${k}" is not a net.* sysctl (only per-namespace ones apply)`);
      continue;
    }
    sysctls.push({ ns: node.ns, key: k, value: typeof v === 'boolean' ? (v ? '1' : '0') : String(v) });
  }
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
