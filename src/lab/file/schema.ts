/**
 * The lab file (YAML): the TypeBox schema of a declared topology.
 *
 * Familiar to containerlab and conlink users: `name`, `nodes` as a map,
 * `links` with `endpoints: ["a:eth1", "b:eth1"]`; plus top-level `nat` and
 * vagga-style `partitions`. The schema only checks shapes; cross-references
 * (unknown nodes, duplicate names, address conflicts) are checked in
 * topology.ts, where every error still carries a line and column.
 *
 * Every name that ends up on the host (paths, cgroups, Docker names, nft
 * tables and rules, interface names and aliases, process marks, a container's
 * /etc files) is held to the patterns of names.ts here. A `rule` option says
 * in words what a pattern allows (load.ts puts it in the error message).
 * Records keyed by names use `additionalProperties: false`: TypeBox 0.34
 * turns a patterned Record key into `patternProperties`, and without it a key
 * that fails the pattern is accepted with its body never checked.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import {
  DOMAIN_PATTERN,
  HOST_NAME_PATTERN,
  IF_NAME_PATTERN,
  IF_NAME_RULE,
  LAB_NAME_PATTERN,
  LAB_NAME_RULE,
  NODE_NAME_PATTERN,
  NODE_NAME_RULE,
} from './names.js';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Strict = { additionalProperties: false } as const;

/** An interface name (see names.ts). */
const IfName = (o: { description?: string } = {}) =>
  Type.String({ pattern: IF_NAME_PATTERN, rule: `an interface name (${IF_NAME_RULE})`, ...o });
const HOST_NAME_RULE = 'a host name (letters, digits, "_", "." and "-", at most 64 characters)';
const HostName = () => Type.String({ pattern: HOST_NAME_PATTERN, rule: HOST_NAME_RULE });
/** A map keyed by names: a key that fails the pattern is an error, not an unchecked extra. */
const NamedRecord = <T extends TSchema>(pattern: string, what: string, rule: string, value: T) =>
  Type.Record(Type.String({ pattern }), value, { additionalProperties: false, what, rule });

/** One CIDR or a list of them ("10.0.0.1/24"). */
const Addrs = Type.Union([Type.String(), Type.Array(Type.String())]);

/** A routing table id or one of the names of rt_class_t (main, local, default). */
const TableRef = Type.Union([Type.Integer(), Type.String()]);

export const RouteDeclSchema = Type.Object(
  {
    /** Destination CIDR or "default". */
    dst: Type.String(),
    via: Opt(Type.String()),
    /** Output interface (name inside the node). */
    dev: Opt(IfName()),
    metric: Opt(Type.Integer({ minimum: 0 })),
    /**
     * Routing table: 1..4294967294 or main, local, default (default: main).
     * Range and names are checked in topology.ts, for a message clearer than a union's.
     */
    table: Opt(TableRef),
  },
  Strict,
);

/**
 * A policy routing rule (`ip rule`): traffic matching every given selector is
 * looked up in `table`. The family follows from/to (IPv4 when neither is given,
 * unless `family` says otherwise).
 */
export const RuleDeclSchema = Type.Object(
  {
    /** Source CIDR ("all" or absent: any). */
    from: Opt(Type.String()),
    /** Destination CIDR ("all" or absent: any). */
    to: Opt(Type.String()),
    /** Incoming interface (name inside the node; "lo" for locally generated traffic). */
    iif: Opt(IfName()),
    /** Outgoing interface (name inside the node). */
    oif: Opt(IfName()),
    /** Firewall mark: a number, or "0x10" / "0x10/0xff" (mark/mask). */
    fwmark: Opt(Type.Union([Type.Integer({ minimum: 0, maximum: 0xffffffff }), Type.String()])),
    family: Opt(Type.Union([Type.Literal('ipv4'), Type.Literal('ipv6')])),
    table: TableRef,
    /** Rule preference: lower is consulted first; 0 is the kernel's own "lookup local" rule. */
    priority: Type.Integer({ minimum: 1, maximum: 0xffffffff }),
  },
  Strict,
);

const SysctlValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const NodeDeclSchema = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('netns'),
      Type.Literal('container'),
      Type.Literal('docker'),
      Type.Literal('bridge'),
      Type.Literal('host'),
    ]),
    routes: Opt(Type.Array(RouteDeclSchema)),
    /** Policy routing rules of the node's namespace (IPv4 and IPv6). */
    rules: Opt(Type.Array(RuleDeclSchema)),
    /** Net sysctls of the node's namespace, e.g. net.ipv4.ip_forward: 1. */
    sysctls: Opt(Type.Record(Type.String(), SysctlValue)),
    // container
    /**
     * A directory or tarball, or `{ busybox: true }`: a rootfs wirescope builds
     * from the host's static busybox for each start (see busybox.ts).
     */
    rootfs: Opt(
      Type.Union([
        Type.String({ description: 'directory or tarball (container)' }),
        Type.Object({ busybox: Type.Literal(true) }, Strict),
      ]),
    ),
    hostname: Opt(HostName()),
    command: Opt(Type.Union([Type.String(), Type.Array(Type.String())])),
    dns: Opt(
      Type.Object(
        {
          /** IP addresses (checked in topology.ts). */
          nameservers: Opt(Type.Array(Type.String())),
          search: Opt(Type.Array(Type.String({ pattern: DOMAIN_PATTERN, rule: 'a DNS domain' }))),
        },
        Strict,
      ),
    ),
    /** Extra /etc/hosts lines (name → address); lab nodes' addresses are added automatically. */
    hosts: Opt(NamedRecord(HOST_NAME_PATTERN, 'host name', HOST_NAME_RULE, Type.String())),
    limits: Opt(
      Type.Object(
        {
          /** Bytes, or with a K/M/G suffix. */
          memory: Opt(Type.Union([Type.String(), Type.Integer({ minimum: 1 })])),
          /** CPUs (0.5 = half a CPU). */
          cpu: Opt(Type.Number({ exclusiveMinimum: 0 })),
          pids: Opt(Type.Integer({ minimum: 1 })),
        },
        Strict,
      ),
    ),
    /** How the rootfs is entered (container). */
    root: Opt(Type.Union([Type.Literal('chroot'), Type.Literal('pivot_root')])),
    // docker
    image: Opt(Type.String()),
    // bridge
    /** Node whose namespace holds the bridge (default: the host). */
    in: Opt(Type.String()),
    /** Interface name of the bridge (default: the node name). */
    name: Opt(IfName()),
    ipv4: Opt(Addrs),
    ipv6: Opt(Addrs),
    mac: Opt(Type.String()),
    mtu: Opt(Type.Integer({ minimum: 68, maximum: 65535 })),
  },
  Strict,
);

export const EndpointObjSchema = Type.Object(
  {
    node: Type.String(),
    name: IfName(),
    ipv4: Opt(Addrs),
    ipv6: Opt(Addrs),
    mac: Opt(Type.String()),
    mtu: Opt(Type.Integer({ minimum: 68, maximum: 65535 })),
  },
  Strict,
);
/** "node:ifname" or the object form with per-endpoint settings. */
export const EndpointDeclSchema = Type.Union([Type.String(), EndpointObjSchema]);

export const NetemDeclSchema = Type.Object(
  {
    delay: Opt(Type.String()),
    jitter: Opt(Type.String()),
    loss: Opt(Type.Union([Type.String(), Type.Number()])),
    rate: Opt(Type.String()),
  },
  Strict,
);

export const LinkDeclSchema = Type.Object(
  {
    type: Opt(Type.Union([Type.Literal('veth'), Type.Literal('macvlan'), Type.Literal('vxlan')])),
    /** veth: two endpoints; macvlan and vxlan: one. */
    endpoints: Opt(Type.Array(EndpointDeclSchema, { minItems: 1, maxItems: 2 })),
    endpoint: Opt(EndpointDeclSchema),
    /** Default MTU of both ends. */
    mtu: Opt(Type.Integer({ minimum: 68, maximum: 65535 })),
    // macvlan
    parent: Opt(Type.String({ description: '"node:ifname" of the lower device' })),
    mode: Opt(
      Type.Union([
        Type.Literal('private'),
        Type.Literal('vepa'),
        Type.Literal('bridge'),
        Type.Literal('passthru'),
        Type.Literal('source'),
      ]),
    ),
    // vxlan
    vni: Opt(Type.Integer({ minimum: 0, maximum: 16777215 })),
    remote: Opt(Type.String()),
    local: Opt(Type.String()),
    port: Opt(Type.Integer({ minimum: 1, maximum: 65535 })),
    underlay: Opt(Type.String({ description: '"node:ifname" of the underlay device' })),
    netem: Opt(NetemDeclSchema),
  },
  Strict,
);

export const NatDeclSchema = Type.Object(
  {
    /** Masquerade traffic from these sources when it leaves the host. */
    masquerade: Opt(
      Type.Array(
        Type.Object({ source: Type.String(), out: Opt(IfName({ description: 'host interface' })) }, Strict),
      ),
    ),
    /** Host port → node port. */
    forwards: Opt(
      Type.Array(
        Type.Object(
          {
            proto: Opt(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
            port: Type.Integer({ minimum: 1, maximum: 65535 }),
            /** "node:port" (the node's first IPv4 address) or "address:port". */
            to: Type.String(),
          },
          Strict,
        ),
      ),
    ),
  },
  Strict,
);

/** vagga's network split: applied atomically per node. */
export const PartitionDeclSchema = Type.Union([
  Type.Object({ disjoint: Type.Array(Type.Array(Type.String())) }, Strict),
  Type.Object({ split: Type.Array(Type.Array(Type.String())) }, Strict),
  Type.Object({ isolate: Type.Array(Type.String()) }, Strict),
  Type.Object({ fullmesh: Type.Boolean() }, Strict),
]);

export const LabDeclSchema = Type.Object(
  {
    name: Type.String({ pattern: LAB_NAME_PATTERN, rule: `a lab name (${LAB_NAME_RULE})` }),
    nodes: NamedRecord(NODE_NAME_PATTERN, 'node name', NODE_NAME_RULE, NodeDeclSchema),
    links: Opt(Type.Array(LinkDeclSchema)),
    nat: Opt(NatDeclSchema),
    partitions: Opt(Type.Array(PartitionDeclSchema)),
  },
  Strict,
);

export type RouteDecl = Static<typeof RouteDeclSchema>;
export type RuleDecl = Static<typeof RuleDeclSchema>;
export type NodeDecl = Static<typeof NodeDeclSchema>;
export type EndpointDecl = Static<typeof EndpointDeclSchema>;
export type LinkDecl = Static<typeof LinkDeclSchema>;
export type NatDecl = Static<typeof NatDeclSchema>;
export type PartitionDecl = Static<typeof PartitionDeclSchema>;
export type NetemDecl = Static<typeof NetemDeclSchema>;
export type LabDecl = Static<typeof LabDeclSchema>;
