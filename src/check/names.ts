/**
 * Which names the start namespace should be able to resolve, and the plan a
 * worker carries out. Pure: the neighbourhood and the start container's DNS
 * files (read by discovery through the container's root) in, a plan out.
 */
import { LAB_NODE_TYPE } from '../model/groups.js';
import type { Discovery, NetworkNamespace, Tenant } from '../model/types.js';
import { portsFor, reachableAddresses } from './neighbours.js';
import {
  type AddressToCheck,
  type CheckLimits,
  type CheckPlan,
  DEFAULT_LIMITS,
  type NameToCheck,
  type Neighbourhood,
  type ResolverConfig,
} from './types.js';

/** Docker Compose puts the service name on every container it starts. */
const COMPOSE_SERVICE = 'com.docker.compose.service';
/** Loopback and the ip6-* boilerplate of every /etc/hosts say nothing about neighbours. */
const BOILERPLATE_HOSTS = /^(localhost|ip6-.*|localhost6?\..*)$/;

/** resolv.conf(5): the resolver uses at most this many nameserver lines. */
const MAXNS = 3;
/**
 * Names and bare addresses per check: each costs a lookup or a probe budget,
 * and a hostile /etc/hosts or a huge network must not hold a worker for hours.
 */
export const MAX_CHECKS_PER_PLAN = 1024;

/** A DNS name we are willing to put on the wire (RFC 1035 letters, digits, hyphen, dot, underscore). */
export function isQueryableName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 253 &&
    /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(name) &&
    !name.includes('..')
  );
}

/** The tenant whose resolver applies: the start container's, else the namespace's first tenant. */
function tenantOf(ns: NetworkNamespace, container: string | undefined): Tenant | undefined {
  return ns.tenants.find((t) => container !== undefined && t.container === container) ?? ns.tenants[0];
}

export function resolverOf(ns: NetworkNamespace, container: string | undefined): ResolverConfig {
  const dns = tenantOf(ns, container)?.dns;
  const rc = dns?.resolvConf;
  let ndots = 1;
  for (const o of rc?.options ?? []) {
    const m = /^ndots:(\d+)$/.exec(o);
    if (m) ndots = Math.min(15, Number(m[1])); // resolv.conf(5) caps ndots at 15
  }
  return {
    // resolv.conf(5): without a nameserver line the resolver asks the local one; past
    // MAXNS (3) nameservers the others are ignored, so they are not asked here either.
    nameservers: rc && rc.nameservers.length > 0 ? rc.nameservers.slice(0, MAXNS) : ['127.0.0.1'],
    search: rc ? [...(rc.search.length > 0 ? rc.search : rc.domain ? [rc.domain] : [])] : [],
    ndots,
    hosts: (dns?.hosts ?? []).map((h) => ({ address: h.address, names: [...h.names] })),
  };
}

export interface PlanOptions {
  limits?: Partial<CheckLimits>;
}

/** Builds the plan for the neighbourhood `hood` of a start namespace opened at `path`. */
export function planCheck(
  d: Discovery,
  hood: Neighbourhood,
  path: string,
  opts: PlanOptions = {},
): CheckPlan {
  const ns = d.networks[String(hood.target.netns)];
  if (!ns) throw new Error(`network namespace ${hood.target.netns} is not in the discovery`);
  const resolver = resolverOf(ns, hood.target.container);
  const names: NameToCheck[] = [];
  const seen = new Set<string>();
  const addresses: AddressToCheck[] = [];
  let dropped = 0;
  const add = (fqdn: string, source: string, neighbour?: number) => {
    const key = fqdn.toLowerCase();
    if (seen.has(key) || !isQueryableName(fqdn)) return;
    if (names.length + addresses.length >= MAX_CHECKS_PER_PLAN) {
      dropped++;
      return;
    }
    seen.add(key);
    names.push({ fqdn, source, ...(neighbour !== undefined ? { neighbour } : {}) });
  };
  const byAddress = (a: Omit<AddressToCheck, 'address'>, address: string) => {
    if (names.length + addresses.length >= MAX_CHECKS_PER_PLAN) dropped++;
    else addresses.push({ ...a, address });
  };
  const owners: Record<string, number> = {};
  const ports: CheckPlan['ports'] = {};
  for (const n of hood.neighbours) {
    const farNs = d.networks[String(n.netns)];
    for (const a of n.addresses) {
      owners[a] = n.netns;
      ports[a] = farNs ? portsFor(farNs, a) : [];
    }
    const c = n.container ? d.containers[n.container] : undefined;
    const dnsSegments = n.segments.filter((s) => !s.noDns);
    if (c?.type === LAB_NODE_TYPE) {
      // A lab has no name service: its nodes are known by name to the lab, reached by address.
      for (const a of n.addresses) byAddress({ label: n.label, neighbour: n.netns, source: 'node' }, a);
    } else if (c && dnsSegments.length > 0) {
      const base = [
        [c.name, 'container'],
        [c.labels[COMPOSE_SERVICE], 'service'],
      ] as const;
      for (const [name, source] of base) {
        if (!name) continue;
        add(name, source, n.netns);
        // Docker's embedded DNS also answers NAME.NETWORK for each network the two share.
        for (const s of dnsSegments)
          if (s.network) add(`${name}.${s.network}`, `${source}@${s.network}`, n.netns);
      }
      // An alias is a name on one network: only on the networks the two share.
      for (const s of dnsSegments) {
        if (!s.network) continue;
        for (const alias of c.networkAliases?.[s.network] ?? []) {
          add(alias, 'alias', n.netns);
          add(`${alias}.${s.network}`, `alias@${s.network}`, n.netns);
        }
      }
    } else {
      // No name a resolver could know: the addresses themselves are checked.
      for (const a of n.addresses) byAddress({ label: n.label, neighbour: n.netns, source: 'address' }, a);
    }
  }
  // The start's own addresses: a compose service name covers every replica, the start's own
  // included (Docker's DNS answers with all of them), and an address of oneself is no fault.
  for (const i of ns.interfaces) {
    for (const a of reachableAddresses(i)) {
      if (owners[a] !== undefined) continue;
      owners[a] = hood.target.netns;
      ports[a] = portsFor(ns, a);
    }
  }
  // A gateway is no neighbour, but a name for it (podman's host.containers.internal) is no error.
  for (const g of hood.gateways) {
    if (owners[g.address] !== undefined) continue;
    owners[g.address] = g.netns;
    ports[g.address] = [];
  }
  for (const h of resolver.hosts) {
    if (
      h.address.startsWith('127.') ||
      h.address === '::1' ||
      h.address.startsWith('fe00') ||
      h.address.startsWith('ff0')
    )
      continue;
    for (const name of h.names) {
      if (BOILERPLATE_HOSTS.test(name)) continue;
      // A container's own hostname line names itself, not a neighbour.
      if (ns.interfaces.some((i) => i.addresses.some((a) => a.address === h.address))) continue;
      add(name, 'hosts', owners[h.address]);
    }
  }
  if (dropped > 0)
    hood.notes.push(
      `${dropped} more name(s) or address(es) not checked: at most ${MAX_CHECKS_PER_PLAN} per check`,
    );
  return {
    target: { netns: hood.target.netns, path, label: hood.target.label },
    resolver,
    names,
    addresses,
    owners,
    ports,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
  };
}
