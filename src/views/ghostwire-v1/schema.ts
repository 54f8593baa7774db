/**
 * The Ghostwire v1 REST API document (`GET /json`, `GET /mobyshark`), encoded
 * as our own TypeBox schema.
 *
 * Source of truth is the OpenAPI description of siemens/ghostwire
 * (`api/openapi-spec/ghostwire-v1.yaml`, MIT) — plus what Ghostwire's own
 * server (`api/v1/*.go`) actually emits and what v1 clients (Ghostwire's web
 * UI among them, `webui/src/models/gw/model.ts`) read without checking:
 *
 * - every network namespace has `forwarded-ports: {ipv4: [], ipv6: []}`;
 * - network interfaces carry `driverinfo`, `labels`, and `vxlan`, `vlan`,
 *   `tuntap` objects; a vxlan always has `source-portrange` (the UI reads
 *   `portrange.low` unguarded);
 * - routes carry the next hop as `next-hop` (what the server emits and the UI
 *   reads) and as `nexthop` (what the spec names);
 * - containers that are not bind mounts have a string `cmdline` (the UI
 *   splits it) and `dns` with an `etc-hosts` array; `capbnd` is 0x-hex;
 * - every transport port and forwarded port has an `owners` array whose
 *   entries have a string `cmdline`.
 *
 * Where the server legitimately emits more than the spec allows, the schema
 * follows the server and says so: operstates TESTING and DORMANT exist in
 * Linux; route preference "11" is ICMPV6_ROUTER_PREF_LOW (RFC 4191) printed
 * with the server's `%02b`; hardware addresses of non-Ethernet links (ipip,
 * sit, gre: 4 or 16 bytes) do not fit the six-octet MAC pattern.
 *
 * Objects allow additional properties, as the OpenAPI description does.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { registerFormats } from '../formats.js';
import { ContainerStatuses, RouteTypes } from './values.js';

registerFormats();

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);

export { isHostname } from '../hostname.js';
export { ContainerStatuses, RouteTypes } from './values.js';

/** Either an IPv4 or an IPv6 address, without prefix length. */
export const IPvXAddressSchema = Type.Union(
  [Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })],
  {
    $id: 'IPvX-Address',
  },
);

export const MetadataSchema = Type.Object(
  {
    'creation-timestamp': Opt(Type.String({ format: 'date-time' })),
    creator: Opt(Type.String()),
    'creator-id': Opt(Type.String()),
    'creator-version': Opt(Type.String()),
    hostname: Opt(Type.String({ format: 'hostname' })),
    kubernetes_node: Opt(Type.String()),
    // Not in the OpenAPI description, but what Ghostwire's server adds (its meta/host, meta/cpus and
    // meta/engines plugins) and its UI shows: "Host OS" is osrel-name and osrel-version joined.
    'osrel-name': Opt(Type.String()),
    'osrel-version': Opt(Type.String()),
    /** os-release PRETTY_NAME (wirescope's addition: the one line a distribution chose for itself). */
    'osrel-pretty-name': Opt(Type.String()),
    /** The running kernel's release, as uname -r (Ghostwire puts the /proc/version banner here). */
    'kernel-version': Opt(Type.String()),
    /** Online CPUs as [from, to] ranges (Ghostwire's shape). */
    cpus: Opt(Type.Array(Type.Tuple([Type.Integer(), Type.Integer()]))),
    /** How many CPUs are online (wirescope's addition). */
    'cpu-count': Opt(Type.Integer()),
    'container-engines': Opt(
      Type.Array(
        Type.Object({
          id: Type.String(),
          type: Type.String(),
          /** Absent when the engine did not tell (Ghostwire always has one). */
          version: Opt(Type.String()),
          pid: Type.Integer(),
          /** The engine's API endpoint (wirescope's addition). */
          api: Opt(Type.String()),
        }),
      ),
    ),
  },
  { $id: 'Metadata' },
);

/** A reference to another network interface, possibly in another network namespace. */
export const NifRefSchema = Type.Object({
  idref: Type.String(),
  index: Type.Integer(),
  name: Type.String(),
});

export const PeerRefSchema = Type.Object({
  'peer-idref': Type.String(),
  'peer-index': Type.Integer(),
  'peer-name': Type.String(),
});

export const IPAddressSchema = Type.Object(
  {
    address: IPvXAddressSchema,
    /** AF_INET (2) or AF_INET6 (10). */
    family: Type.Integer(),
    /** ifindex of the interface the address is assigned to. */
    index: Type.Integer(),
    /** Seconds; 4294967295 (INFINITY_LIFE_TIME) for forever. */
    'preferred-lifetime': Type.Integer(),
    prefixlen: Type.Integer(),
    /** rtnetlink RT_SCOPE_* number: 0 universe, 200 site, 253 link, 254 host, 255 nowhere. */
    scope: Type.Integer(),
    'valid-lifetime': Type.Integer(),
  },
  { $id: 'IP-Address' },
);

/** A process using a port or a TUN/TAP device. */
export const OwnerSchema = Type.Object(
  {
    pid: Type.Integer(),
    cmdline: Type.String(),
    'container-idref': Opt(Type.String()),
  },
  { $id: 'Owner' },
);

export const VxlanConfigSchema = Type.Object({
  /** Underlay interface, "" when the vxlan has none. */
  idref: Type.String(),
  vid: Type.Integer(),
  'arp-proxy': Type.Boolean(),
  source: Opt(Type.Object({ source_ipv4: Opt(Type.String()), source_ipv6: Opt(Type.String()) })),
  'source-portrange': Type.Object({ low: Type.Integer(), high: Type.Integer() }),
  remote: Opt(Type.Object({ remote_ipv4: Opt(Type.String()), remote_ipv6: Opt(Type.String()) })),
  'remote-port': Type.Integer(),
});

export const VlanConfigSchema = Type.Object({
  vid: Type.Integer(),
  /** EtherType of the VLAN tag: 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  'vlan-protocol': Type.Integer(),
});

export const TunTapConfigSchema = Type.Object({
  mode: Type.Union([Type.Literal('tun'), Type.Literal('tap')]),
  processors: Type.Array(OwnerSchema),
});

export const DriverInfoSchema = Type.Object({
  driver: Type.String(),
  version: Opt(Type.String()),
  fwversion: Opt(Type.String()),
  businfo: Opt(Type.String()),
  eromversion: Opt(Type.String()),
});

export const OperstateSchema = Type.Union(
  ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'UP', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT'].map((s) => Type.Literal(s)),
);

export const NetworkInterfaceSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    index: Type.Integer(),
    /** "" for devices without IFLA_INFO_KIND (physical, loopback). */
    kind: Type.String(),
    operstate: OperstateSchema,
    physical: Type.Boolean(),
    addresses: Type.Object({
      mac: Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2})*$' }),
      ipv4: Type.Array(IPAddressSchema),
      ipv6: Type.Array(IPAddressSchema),
    }),
    alias: Opt(Type.String()),
    driverinfo: Opt(DriverInfoSchema),
    promisc: Opt(Type.Boolean()),
    labels: Opt(Type.Record(Type.String(), Type.String())),
    master: Opt(NifRefSchema),
    /** The parent ("master" in Ghostwire's words) of a macvlan. */
    macvlan: Opt(NifRefSchema),
    macvlans: Opt(Type.Array(NifRefSchema)),
    slaves: Opt(Type.Array(NifRefSchema)),
    peer: Opt(PeerRefSchema),
    tuntap: Opt(TunTapConfigSchema),
    vxlan: Opt(VxlanConfigSchema),
    vlan: Opt(VlanConfigSchema),
    'sr-iov-role': Opt(Type.Integer()),
    pf: Opt(NifRefSchema),
  },
  { $id: 'Network-Interface' },
);

export const IPRouteSchema = Type.Object(
  {
    family: Type.Integer(),
    type: Type.Union(RouteTypes.map((t) => Type.Literal(t))),
    destination: IPvXAddressSchema,
    'destination-prefixlen': Type.Integer(),
    /** Output ifindex; absent for routes without a device (blackhole, ...). */
    index: Type.Integer(),
    'network-interface-idref': Type.String(),
    /** What Ghostwire's server emits and its web UI reads. */
    'next-hop': Opt(IPvXAddressSchema),
    /** What the OpenAPI description names. */
    nexthop: Opt(IPvXAddressSchema),
    preference: Type.Union(['00', '01', '10', '11'].map((p) => Type.Literal(p))),
    priority: Type.Integer(),
    table: Type.Integer(),
  },
  { $id: 'IP-Route' },
);

export const PortStates = [
  'connected',
  'SYN sent',
  'syn sent',
  'SYN received',
  'syn received',
  'FIN WAIT1',
  'fin wait1',
  'FIN WAIT2',
  'fin wait2',
  'time wait',
  'closed',
  'close wait',
  'last ACK',
  'last ack',
  'listening',
  'closing',
  'new SYN received',
  'new syn received',
] as const;

export const MacrostateSchema = Type.Union([
  Type.Literal('listening'),
  Type.Literal('connected'),
  Type.Literal('unconnected'),
]);

export const IPPortSchema = Type.Object(
  {
    family: Type.Integer(),
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
    'local-address': IPvXAddressSchema,
    'local-port': Type.Integer({ minimum: 1, maximum: 65535 }),
    'local-servicename': Type.String(),
    'remote-address': IPvXAddressSchema,
    'remote-port': Type.Integer({ minimum: 0, maximum: 65535 }),
    'remote-servicename': Type.String(),
    state: Type.Union(PortStates.map((s) => Type.Literal(s))),
    macrostate: MacrostateSchema,
    owners: Type.Array(OwnerSchema),
    'network-interface-idrefs': Type.Array(Type.String()),
    /** Synthetic IPv4 entry standing for a dual-stack IPv6 socket (read by the web UI). */
    v4mapped: Opt(Type.Boolean()),
  },
  { $id: 'IP-Port' },
);

/** Not in the OpenAPI description; emitted by Ghostwire's server (`api/v1/forwarded_ports.go`). */
export const ForwardedPortSchema = Type.Object(
  {
    family: Type.Integer(),
    protocol: Type.String(),
    ip: IPvXAddressSchema,
    /** The rule matches a whole prefix `ip`/`ip-prefixlen`, not one address (wirescope extension). */
    'ip-prefixlen': Opt(Type.Integer({ minimum: 0, maximum: 128 })),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Last port of a forwarded range (wirescope extension). */
    'port-end': Opt(Type.Integer({ minimum: 0, maximum: 65535 })),
    servicename: Type.String(),
    'forward-ip': IPvXAddressSchema,
    'forward-port': Type.Integer({ minimum: 0, maximum: 65535 }),
    'forward-servicename': Type.String(),
    /** Inode of the network namespace serving the destination, 0 if unknown. */
    netnsid: Type.Integer(),
    owners: Type.Array(OwnerSchema),
    'network-interface-refs': Type.Array(Type.String()),
  },
  { $id: 'Forwarded-Port' },
);

export const NameIPSchema = Type.Object(
  { name: Type.String(), address: IPvXAddressSchema },
  { $id: 'Name-IP' },
);

export const DnsConfigurationSchema = Type.Object(
  {
    'uts-hostname': Opt(Type.String()),
    'etc-hostname': Opt(Type.String()),
    domainname: Opt(Type.String()),
    nameservers: Opt(Type.Array(Type.String())),
    searchlist: Opt(Type.Array(Type.String())),
    'etc-hosts': Type.Array(NameIPSchema),
  },
  { $id: 'DNS-Configuration' },
);

export const ContainerSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    /** Engine type ("docker", "containerd", "podman", "CRI"), "proc" or "bindmount". */
    type: Type.String(),
    'type-text': Type.String(),
    /** Initial process; 0 for bind mounts. */
    pid: Type.Integer(),
    pidns: Type.Integer(),
    'pidns-idref': Type.String(),
    status: Type.Union(ContainerStatuses.map((s) => Type.Literal(s))),
    cmdline: Type.String(),
    dns: DnsConfigurationSchema,
    group: Opt(Type.String()),
    prefix: Opt(Type.String()),
    labels: Opt(Type.Record(Type.String(), Type.String())),
    'api-path': Opt(Type.String()),
    capbnd: Opt(Type.String({ pattern: '^0x[0-9a-f]+$' })),
    /** The engine's container id (read by Ghostwire's web UI; wirescope extension to the spec). */
    'container-id': Opt(Type.String()),
    /** A CRI pod's sandbox container (read by Ghostwire's web UI; wirescope extension). */
    sandbox: Opt(Type.Boolean()),
  },
  { $id: 'Container' },
);

export const ContainerGroupSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    'type-text': Opt(Type.String()),
    'container-idrefs': Type.Array(Type.String()),
  },
  { $id: 'Container-Group' },
);

const IPvX = <T extends TSchema>(t: T) => Type.Object({ ipv4: Type.Array(t), ipv6: Type.Array(t) });

export const NetnsSchema = Type.Object(
  {
    id: Type.String(),
    netnsid: Type.Integer(),
    'network-interfaces': Type.Array(NetworkInterfaceSchema),
    routes: IPvX(IPRouteSchema),
    'transport-ports': IPvX(IPPortSchema),
    'forwarded-ports': IPvX(ForwardedPortSchema),
    containers: Type.Array(ContainerSchema),
    'container-groups': Type.Array(ContainerGroupSchema),
  },
  { $id: 'Netns' },
);

export interface Pidns {
  id: string;
  pidnsid: number;
  children: Pidns[];
  'container-idrefs': string[];
  'netns-idref'?: string;
}

export const PidnsSchema = Type.Recursive(
  (Self) =>
    Type.Object({
      id: Type.String(),
      pidnsid: Type.Integer(),
      children: Type.Array(Self),
      'container-idrefs': Type.Array(Type.String()),
      'netns-idref': Opt(Type.String()),
    }),
  { $id: 'Pidns' },
);

export const DiscoveryResultSchema = Type.Object(
  {
    metadata: Opt(MetadataSchema),
    'network-namespaces': Type.Array(NetnsSchema),
    'pid-namespaces': Type.Array(PidnsSchema),
  },
  { $id: 'DiscoveryResult' },
);

export const CaptureTargetSchema = Type.Object(
  {
    name: Type.String(),
    /** "docker", "containerd", "podman", "CRI", "pod", "proc" or "bindmount". */
    type: Type.String(),
    netns: Type.Integer(),
    'network-interfaces': Type.Array(Type.String()),
    /** 0 for bind mounts. */
    pid: Type.Integer(),
    starttime: Type.Integer(),
    prefix: Type.String(),
  },
  { $id: 'Capture-Target' },
);

export const TargetDiscoveryResultSchema = Type.Object(
  {
    metadata: Opt(MetadataSchema),
    containers: Type.Array(CaptureTargetSchema),
  },
  { $id: 'TargetDiscoveryResult' },
);

export type Metadata = Static<typeof MetadataSchema>;
export type NifRef = Static<typeof NifRefSchema>;
export type IPAddress = Static<typeof IPAddressSchema>;
export type Owner = Static<typeof OwnerSchema>;
export type NetworkInterface = Static<typeof NetworkInterfaceSchema>;
export type IPRoute = Static<typeof IPRouteSchema>;
export type IPPort = Static<typeof IPPortSchema>;
export type ForwardedPort = Static<typeof ForwardedPortSchema>;
export type DnsConfiguration = Static<typeof DnsConfigurationSchema>;
export type Container = Static<typeof ContainerSchema>;
export type ContainerGroup = Static<typeof ContainerGroupSchema>;
export type Netns = Static<typeof NetnsSchema>;
export type DiscoveryResult = {
  metadata?: Metadata;
  'network-namespaces': Netns[];
  'pid-namespaces': Pidns[];
};
export type CaptureTarget = Static<typeof CaptureTargetSchema>;
export type TargetDiscoveryResult = Static<typeof TargetDiscoveryResultSchema>;
export type RouteType = (typeof RouteTypes)[number];
export type PortState = (typeof PortStates)[number];
export type ContainerStatus = (typeof ContainerStatuses)[number];
