/**
 * The desired topology of a lab: every interface with the namespace (node)
 * that holds it, its kind, parameters and addresses; routes, rules, sysctls,
 * NAT and the blocked pairs of the partitions. buildTopology()
 * (topology-build.ts) makes it from a declaration. Pure.
 */
import { type Cidr, cidrString } from './ip.js';
import type { DesiredRule } from './rules.js';
import type { NetemDecl, NodeDecl } from './schema.js';

export type Path = (string | number)[];
export interface DeclError {
  path: Path;
  message: string;
}

/** Key of the host's namespace when no `kind: host` node is declared but the host is used. */
export const HOST = '@host';

export type NodeKind = NodeDecl['kind'];

/** Node kinds that hold a network namespace of their own (a process keeps it alive). */
export const HOLDER_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(['netns', 'container', 'docker']);

export interface LabNode {
  name: string;
  kind: NodeKind;
  decl: NodeDecl;
  /** Node whose network namespace this node lives in (itself, or the bridge's `in`, or HOST). */
  ns: string;
}

export type IfKind = 'veth' | 'bridge' | 'macvlan' | 'vxlan';

export interface DesiredIf {
  /** Namespace-holding node (or HOST). */
  ns: string;
  name: string;
  kind: IfKind;
  /** Declared node the interface belongs to (a bridge node for its ports and itself). */
  node: string;
  /** Index into Topology.links; -1 for a bridge's own device. */
  link: number;
  /** Bridge device (name in the same namespace) this interface is a port of. */
  master?: string;
  peer?: { ns: string; name: string };
  macvlan?: { parentNs: string; parent: string; mode: string };
  vxlan?: {
    vni: number;
    remote?: string;
    local?: string;
    port: number;
    underlayNs?: string;
    underlay?: string;
  };
  addrs: Cidr[];
  mac?: string;
  mtu?: number;
  netem?: NetemDecl;
}

export interface DesiredLink {
  index: number;
  type: 'veth' | 'macvlan' | 'vxlan';
  /** Keys "ns/name" of its interfaces (veth: two). */
  ifs: string[];
  label: string;
}

export interface DesiredRoute {
  ns: string;
  node: string;
  dst: Cidr;
  via?: string;
  dev?: string;
  metric?: number;
  /** Routing table id (254 = main). */
  table: number;
}

export type { DesiredRule } from './rules.js';

export interface Forward {
  proto: 'tcp' | 'udp';
  port: number;
  toAddr: string;
  toPort: number;
  label: string;
}

export interface Topology {
  name: string;
  nodes: LabNode[];
  /** Every namespace-holding node name, HOST included when used. */
  namespaces: string[];
  /** The host's namespace key: the `kind: host` node's name, or HOST (the one place it is decided). */
  hostKey: string;
  ifs: DesiredIf[];
  links: DesiredLink[];
  routes: DesiredRoute[];
  rules: DesiredRule[];
  sysctls: { ns: string; key: string; value: string }[];
  masquerade: { source: Cidr; out?: string }[];
  forwards: Forward[];
  /** Per node: peers whose traffic it drops (from the partitions). */
  blocked: Map<string, Set<string>>;
}

export const ifKey = (ns: string, name: string): string => `${ns}/${name}`;

export const nsLabel = (ns: string): string => (ns === HOST ? 'host' : ns);

/** IPv4/IPv6 addresses of a node's interfaces (for partitions and /etc/hosts). */
export function nodeAddrs(t: Topology, node: string): Cidr[] {
  return t.ifs.filter((d) => d.node === node).flatMap((d) => d.addrs);
}

export const addrString = cidrString;
