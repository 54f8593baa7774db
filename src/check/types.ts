/**
 * The neighbourhood check's types: who the neighbours of a start network
 * namespace are, which names to try, and the verdict for each (name, address).
 */

/** Ghostwire's `/mobydig` qualities, plus `unreachable` (resolves to a neighbour that does not answer). */
export type Quality = 'unverified' | 'verifying' | 'verified' | 'invalid' | 'unreachable';

/** How a neighbour shares an L2 segment with the start namespace. */
export interface Segment {
  /** Stable key: `bridge:<netns>:<ifindex>`, `veth:<netns>:<ifindex>`, `macvlan:<netns>:<ifindex>`. */
  key: string;
  /** Engine network name when a decorator named the segment (Docker/podman network). */
  network?: string;
  /** The device that makes the segment: the bridge, the parent of macvlans, the start's veth. */
  device: string;
  /** True when names on this segment are served by no resolver we know of (Docker's default bridge). */
  noDns: boolean;
  /** Why no resolver: the engine's default network, DNS disabled on it, or no engine network at all. */
  noDnsWhy?: 'default' | 'disabled' | 'unnamed';
  /** The engine's default network. */
  isDefault?: boolean;
}

/** A network namespace on one of the start namespace's segments. */
export interface Neighbour {
  netns: number;
  /** Container key, when a container or lab node lives there. */
  container?: string;
  /** What to call it in output: container name, or `netns <ino>`. */
  label: string;
  segments: Segment[];
  /** Global-scope addresses of the neighbour's interfaces on the shared segments. */
  addresses: string[];
  /** TCP ports the neighbour listens on, per address family. */
  tcpPorts: { inet: number[]; inet6: number[] };
}

/** One name to resolve from inside the start namespace. */
export interface NameToCheck {
  fqdn: string;
  /** Why this name: `container`, `service`, `node`, `hosts`, each maybe `@network`. */
  source: string;
  /** The neighbour the name is meant for (absent for /etc/hosts names of unknown owner). */
  neighbour?: number;
}

/** An address to verify without a name (neighbours on segments without DNS, plain namespaces). */
export interface AddressToCheck {
  label: string;
  /** `address` (no name known), `node` (a lab node: labs run no DNS). */
  source: string;
  address: string;
  neighbour: number;
}

/** The start namespace's resolver, as its resolv.conf says (read through its root by discovery). */
export interface ResolverConfig {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** /etc/hosts entries of the start container: the resolver consults them first. */
  hosts: { address: string; names: string[] }[];
}

/** The plan a worker carries out: everything it needs, nothing it must look up. */
export interface CheckPlan {
  target: { netns: number; path: string; label: string };
  resolver: ResolverConfig;
  names: NameToCheck[];
  addresses: AddressToCheck[];
  /** address → neighbour netns, for "invalid" (resolves to an address no neighbour has). */
  owners: Record<string, number>;
  /** address → TCP ports listening on it there (none: ICMP echo instead). */
  ports: Record<string, number[]>;
  limits: CheckLimits;
}

export interface CheckLimits {
  /** Concurrent DNS lookups (Ghostwire runs 8). */
  resolvers: number;
  /** Concurrent reachability probes (Ghostwire runs 8). */
  verifiers: number;
  /** Budget per name for resolution, ms. */
  resolveTimeoutMs: number;
  /** Budget per address for a probe, ms. */
  probeTimeoutMs: number;
}

export const DEFAULT_LIMITS: CheckLimits = {
  resolvers: 8,
  verifiers: 8,
  resolveTimeoutMs: 2000,
  probeTimeoutMs: 1500,
};

/** One update: the same (fqdn, address) pair is sent again as its quality changes. */
export interface Verdict {
  /** The name tried; for address-only checks, the neighbour's label. */
  fqdn: string;
  /** Empty while the name is being resolved or when it did not resolve. */
  address: string;
  quality: Quality;
  error?: string;
  /** Neighbour netns the address belongs to; for a name that did not resolve, the neighbour it names. */
  neighbour?: number;
  /** How it was verified: `tcp/PORT` or `icmp`. */
  via?: string;
  source?: string;
}

/** The start namespace and its neighbourhood, before any packet is sent. */
export interface Neighbourhood {
  target: { netns: number; label: string; container?: string };
  neighbours: Neighbour[];
  /**
   * Addresses of the bridges the start namespace hangs off (the gateway, e.g.
   * podman's host.containers.internal): no neighbour, but a name may point there.
   */
  gateways: { address: string; netns: number }[];
  /** Facts the user should know, e.g. a segment without DNS. */
  notes: string[];
}

export interface CheckResult extends Neighbourhood {
  verdicts: Verdict[];
  /** True when every verdict is `verified`. */
  ok: boolean;
}
