/**
 * The neighbourhood check's types: who the neighbours of a start network
 * namespace are, which names to try, and the verdict for each (name, address).
 * What the check answers is derived from its TypeBox schemas (schema.ts).
 */
import type { Static } from '@sinclair/typebox';
import type * as S from './schema.js';

/** The target names no network namespace, or several: the caller's input, not a fault. */
export class CheckTargetError extends Error {}

/** Ghostwire's `/mobydig` qualities, plus `unreachable` (resolves to a neighbour that does not answer). */
export type Quality = Static<typeof S.QualitySchema>;

/** How a neighbour shares an L2 segment with the start namespace. */
export type Segment = Static<typeof S.SegmentSchema>;

/** A network namespace on one of the start namespace's segments. */
export type Neighbour = Static<typeof S.NeighbourSchema>;

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
export type Verdict = Static<typeof S.VerdictSchema>;

/** The start namespace and its neighbourhood, before any packet is sent. */
export type Neighbourhood = Static<typeof S.NeighbourhoodSchema>;

export type CheckResult = Static<typeof S.CheckResultSchema>;
