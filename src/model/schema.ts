/**
 * The native information model: the contract between the pipeline stages.
 *
 * Every type is defined once, as a TypeBox schema, and the TypeScript type is
 * derived from it, so the JSON schema published for `--format native` and
 * `/api/` is generated from exactly the types the code uses.
 *
 * Relations between objects are stable references (ids), never object
 * pointers, so the model serialises as-is and can be diffed between
 * discoveries: a network namespace is referenced by its nsfs inode, an
 * interface by (netns inode, ifindex), a process by (pid, starttime), a
 * container by engine-scoped id.
 */
import { type TSchema, Type } from '@sinclair/typebox';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);

export const NamespaceTypes = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
// Spelled out as a tuple: a union built with .map() loses its literal members
// in TypeBox's static types, and Record/Partial over it then collapse to {}.
export const NamespaceTypeSchema = Type.Union([
  Type.Literal('cgroup'),
  Type.Literal('ipc'),
  Type.Literal('mnt'),
  Type.Literal('net'),
  Type.Literal('pid'),
  Type.Literal('time'),
  Type.Literal('user'),
  Type.Literal('uts'),
]);

/** A process is identified by pid *and* starttime: PIDs get reused. */
export const ProcessRefSchema = Type.Object(
  {
    pid: Type.Integer({ description: 'PID in the initial PID namespace' }),
    starttime: Type.Integer({ description: 'clock ticks since boot (field 22 of /proc/PID/stat)' }),
  },
  { $id: 'ProcessRef' },
);

/** An interface is identified by its network namespace and ifindex. */
export const InterfaceRefSchema = Type.Object(
  {
    netns: Type.Integer({ description: 'inode of the network namespace' }),
    index: Type.Integer({ description: 'ifindex inside that namespace' }),
  },
  { $id: 'InterfaceRef' },
);

export const BindMountSchema = Type.Object({
  path: Type.String({ description: 'mount point as seen in mntns' }),
  mntns: Type.Integer({ description: 'inode of the mount namespace in which the path is visible' }),
  /** A path usable from wirescope's own mount namespace (via /proc/PID/root when needed). */
  reachablePath: Opt(Type.String()),
});

export const FdHolderSchema = Type.Object({
  pid: Type.Integer(),
  starttime: Type.Integer(),
  fd: Type.Integer(),
});

export const NamespaceSchema = Type.Object(
  {
    type: NamespaceTypeSchema,
    ino: Type.Integer(),
    dev: Type.Integer({ description: 'device number of nsfs (st_dev)' }),
    /** Owning user namespace (NS_GET_USERNS); absent when the kernel denied the query. */
    owner: Opt(Type.Integer()),
    /** Parent namespace (NS_GET_PARENT), pid and user namespaces only. */
    parent: Opt(Type.Integer()),
    /** Owner UID (NS_GET_OWNER_UID), user namespaces only. */
    ownerUid: Opt(Type.Integer()),
    /** PIDs of all processes attached (any of their tasks). */
    processes: Type.Array(Type.Integer()),
    /** Topmost processes within this namespace (parent outside it, or no parent). */
    leaders: Type.Array(Type.Integer()),
    bindMounts: Type.Array(BindMountSchema),
    fds: Type.Array(FdHolderSchema),
    /** A path that opens this namespace later, even if no process is attached. */
    ref: Opt(Type.String()),
    /**
     * PIDs whose pid_for_children / time_for_children link names this
     * namespace while their own does not: their next child will be in it
     * (after unshare(CLONE_NEWPID|CLONE_NEWTIME), before the first fork).
     */
    forChildrenOf: Opt(Type.Array(Type.Integer())),
  },
  { $id: 'Namespace' },
);

export const CgroupSchema = Type.Object({
  hierarchy: Type.Integer(),
  controllers: Type.Array(Type.String()),
  path: Type.String(),
});

export const ProcessSchema = Type.Object(
  {
    pid: Type.Integer(),
    ppid: Type.Integer(),
    starttime: Type.Integer(),
    comm: Type.String(),
    cmdline: Type.Array(Type.String()),
    /**
     * The command line was longer than the 64 KiB read of it (a process
     * chooses its argv, up to ARG_MAX): `cmdline` holds its start and the
     * last argument in it may be cut.
     */
    cmdlineTruncated: Opt(Type.Boolean()),
    uid: Type.Integer({ description: 'real UID' }),
    cgroups: Type.Array(CgroupSchema),
    /** Bounding capability set as 0x-prefixed hex (CapBnd of /proc/PID/status). */
    capBnd: Type.String(),
    /** Namespace inode per type; a type that could not be read is absent. */
    namespaces: Type.Partial(Type.Record(NamespaceTypeSchema, Type.Integer())),
    /** PIDs from the initial PID namespace down to the process's own (NSpid). */
    nspid: Type.Array(Type.Integer()),
    /** Id of the container whose process tree this process belongs to, if any. */
    container: Opt(Type.String()),
  },
  { $id: 'Process' },
);

export const HostEntrySchema = Type.Object({ address: Type.String(), names: Type.Array(Type.String()) });

export const ResolvConfSchema = Type.Object({
  nameservers: Type.Array(Type.String()),
  search: Type.Array(Type.String()),
  domain: Opt(Type.String()),
  options: Type.Array(Type.String()),
});

export const DnsSchema = Type.Object({
  /** Hostname of the tenant's UTS namespace (what gethostname() returns there). */
  utsHostname: Opt(Type.String()),
  utsDomainname: Opt(Type.String()),
  etcHostname: Opt(Type.String()),
  etcDomainname: Opt(Type.String()),
  resolvConf: Opt(ResolvConfSchema),
  hosts: Type.Array(HostEntrySchema),
  /** Files larger than the 64 KiB read of each: only their lines within it are reported. */
  truncated: Opt(Type.Array(Type.String())),
});

export const TenantSchema = Type.Object(
  {
    pid: Type.Integer(),
    starttime: Type.Integer(),
    comm: Type.String(),
    container: Opt(Type.String()),
    dns: DnsSchema,
  },
  { $id: 'Tenant' },
);

export const InterfaceStatsSchema = Type.Object({
  rxBytes: Type.Number(),
  txBytes: Type.Number(),
  rxPackets: Type.Number(),
  txPackets: Type.Number(),
  rxErrors: Type.Number(),
  txErrors: Type.Number(),
  rxDropped: Type.Number(),
  txDropped: Type.Number(),
});

export const AddressSchema = Type.Object({
  family: Type.Union([Type.Literal('inet'), Type.Literal('inet6')]),
  address: Type.String(),
  prefixlen: Type.Integer(),
  scope: Type.String(),
  flags: Type.Array(Type.String()),
  label: Opt(Type.String()),
  local: Opt(Type.String()),
  broadcast: Opt(Type.String()),
  /** Seconds; absent for "forever". */
  validLifetime: Opt(Type.Integer()),
  preferredLifetime: Opt(Type.Integer()),
});

const Ref = InterfaceRefSchema;

export const TapHolderSchema = Type.Object({
  pid: Type.Integer(),
  starttime: Type.Integer(),
  comm: Type.String(),
  fd: Type.Integer(),
});

export const InterfaceSchema = Type.Object(
  {
    netns: Type.Integer(),
    index: Type.Integer(),
    name: Type.String(),
    alias: Opt(Type.String()),
    altnames: Type.Array(Type.String()),
    /** IFLA_INFO_KIND, or a derived kind for kind-less devices: "loopback", "physical", "unknown". */
    kind: Type.String(),
    operstate: Type.String(),
    flags: Type.Array(Type.String()),
    mtu: Type.Integer(),
    mac: Opt(Type.String()),
    broadcast: Opt(Type.String()),
    txqlen: Opt(Type.Integer()),
    stats: Opt(InterfaceStatsSchema),
    addresses: Type.Array(AddressSchema),
    /** Bridge, bond, VRF or team this interface is a port of (IFLA_MASTER). */
    master: Opt(Ref),
    /** Raw IFLA_LINK_NETNSID, relative to this interface's namespace. */
    linkNetnsId: Opt(Type.Integer()),
    /** IFLA_LINK resolved: veth peer, or the lower device of macvlan/ipvlan/vlan/... */
    link: Opt(Ref),
    /** IFLA_LINK that could not be resolved (namespace not found). */
    linkUnresolved: Opt(Type.Object({ netnsId: Opt(Type.Integer()), index: Type.Integer() })),
    /** Interfaces whose master is this one (bridge ports, bond slaves, VRF members). */
    ports: Type.Array(Ref),
    veth: Opt(Type.Object({ peer: Opt(Ref) })),
    bridge: Opt(
      Type.Object({
        stp: Type.Boolean(),
        vlanFiltering: Type.Boolean(),
        forwardDelay: Opt(Type.Integer()),
        ageingTime: Opt(Type.Integer()),
        vlanProtocol: Opt(Type.String()),
        defaultPvid: Opt(Type.Integer()),
      }),
    ),
    bridgePort: Opt(
      Type.Object({ state: Opt(Type.String()), cost: Opt(Type.Integer()), priority: Opt(Type.Integer()) }),
    ),
    macvlan: Opt(Type.Object({ mode: Type.String(), parent: Opt(Ref), macvtap: Type.Boolean() })),
    ipvlan: Opt(Type.Object({ mode: Type.String(), flags: Type.Array(Type.String()), parent: Opt(Ref) })),
    vlan: Opt(Type.Object({ id: Type.Integer(), protocol: Type.String(), parent: Opt(Ref) })),
    vxlan: Opt(
      Type.Object({
        vni: Type.Integer(),
        remote: Opt(Type.String()),
        group: Opt(Type.String()),
        local: Opt(Type.String()),
        port: Opt(Type.Integer()),
        ttl: Opt(Type.Integer()),
        learning: Opt(Type.Boolean()),
        /** Underlay device (IFLA_VXLAN_LINK); may live in another namespace. */
        underlay: Opt(Ref),
      }),
    ),
    geneve: Opt(
      Type.Object({
        vni: Type.Integer(),
        remote: Opt(Type.String()),
        port: Opt(Type.Integer()),
        ttl: Opt(Type.Integer()),
      }),
    ),
    tunnel: Opt(
      Type.Object({
        /** gre, gretap, ip6gre, ip6gretap, ipip, sit, ip6tnl, ... */
        type: Type.String(),
        local: Opt(Type.String()),
        remote: Opt(Type.String()),
        ttl: Opt(Type.Integer()),
        ikey: Opt(Type.Integer()),
        okey: Opt(Type.Integer()),
        underlay: Opt(Ref),
      }),
    ),
    wireguard: Opt(Type.Object({})),
    bond: Opt(Type.Object({ mode: Type.String(), miimon: Opt(Type.Integer()), activeSlave: Opt(Ref) })),
    team: Opt(Type.Object({})),
    vrf: Opt(Type.Object({ table: Type.Integer() })),
    tuntap: Opt(
      Type.Object({
        mode: Type.Union([Type.Literal('tun'), Type.Literal('tap')]),
        flags: Type.Array(Type.String()),
        owner: Opt(Type.Integer()),
        group: Opt(Type.Integer()),
        holders: Type.Array(TapHolderSchema),
      }),
    ),
    physical: Opt(
      Type.Object({ driver: Opt(Type.String()), bus: Opt(Type.String()), busAddress: Opt(Type.String()) }),
    ),
    /** Name of the engine-managed network this interface implements (decorator). */
    network: Opt(
      Type.Object({
        engine: Type.String(),
        name: Type.String(),
        id: Opt(Type.String()),
        internal: Opt(Type.Boolean()),
        default: Opt(Type.Boolean()),
        /** False when the engine runs no DNS for the network (podman's dns_enabled). */
        dns: Opt(Type.Boolean()),
        driver: Opt(Type.String()),
      }),
    ),
  },
  { $id: 'Interface' },
);

export const NextHopSchema = Type.Object({
  gateway: Opt(Type.String()),
  dev: Opt(Type.Integer({ description: 'ifindex' })),
  weight: Opt(Type.Integer()),
  flags: Type.Array(Type.String()),
});

export const RouteSchema = Type.Object(
  {
    family: Type.Union([Type.Literal('inet'), Type.Literal('inet6')]),
    type: Type.String(),
    protocol: Type.String(),
    scope: Type.String(),
    table: Type.Integer(),
    /** Destination as CIDR ("0.0.0.0/0" for default). */
    dst: Type.String(),
    src: Opt(Type.String()),
    prefsrc: Opt(Type.String()),
    gateway: Opt(Type.String()),
    dev: Opt(Type.Integer({ description: 'output ifindex' })),
    metric: Opt(Type.Integer()),
    pref: Opt(Type.String({ description: 'IPv6 router preference' })),
    mtu: Opt(Type.Integer()),
    tos: Opt(Type.Integer()),
    flags: Type.Array(Type.String()),
    nexthops: Type.Array(NextHopSchema),
  },
  { $id: 'Route' },
);

export const RuleSchema = Type.Object(
  {
    family: Type.Union([Type.Literal('inet'), Type.Literal('inet6')]),
    priority: Type.Integer(),
    action: Type.String(),
    table: Type.Integer(),
    src: Opt(Type.String()),
    dst: Opt(Type.String()),
    iif: Opt(Type.String()),
    oif: Opt(Type.String()),
    fwmark: Opt(Type.Integer()),
    fwmask: Opt(Type.Integer()),
    tos: Opt(Type.Integer()),
    invert: Type.Boolean(),
    protocol: Opt(Type.String()),
    goto: Opt(Type.Integer()),
    suppressPrefixlen: Opt(Type.Integer()),
  },
  { $id: 'Rule' },
);

export const NeighbourSchema = Type.Object(
  {
    family: Type.Union([Type.Literal('inet'), Type.Literal('inet6'), Type.Literal('bridge')]),
    address: Opt(Type.String()),
    mac: Opt(Type.String()),
    dev: Type.Integer(),
    state: Type.Array(Type.String()),
    flags: Type.Array(Type.String()),
  },
  { $id: 'Neighbour' },
);

export const SocketOwnerSchema = Type.Object({
  pid: Type.Integer(),
  starttime: Type.Integer(),
  comm: Type.String(),
  cmdline: Type.Array(Type.String()),
  /** As Process.cmdlineTruncated. */
  cmdlineTruncated: Opt(Type.Boolean()),
  container: Opt(Type.String()),
});

export const SocketSchema = Type.Object(
  {
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
    family: Type.Union([Type.Literal('inet'), Type.Literal('inet6')]),
    state: Type.String(),
    macrostate: Type.Union([
      Type.Literal('listening'),
      Type.Literal('connected'),
      Type.Literal('unconnected'),
    ]),
    localAddress: Type.String(),
    localPort: Type.Integer(),
    remoteAddress: Type.String(),
    remotePort: Type.Integer(),
    inode: Type.Integer(),
    /** Interface the socket is bound to (SO_BINDTODEVICE), if any. */
    boundDev: Opt(Type.Integer()),
    /** IPv6 socket that also accepts IPv4 (not IPV6_V6ONLY, bound to ::). */
    dualStack: Opt(Type.Boolean()),
    /** Entry synthesised from a dual-stack IPv6 socket. */
    synthetic: Opt(Type.Boolean()),
    service: Opt(Type.String()),
    owners: Type.Array(SocketOwnerSchema),
  },
  { $id: 'Socket' },
);

export const ForwardedPortSchema = Type.Object(
  {
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('sctp')]),
    family: Type.Union([Type.Literal('inet'), Type.Literal('inet6')]),
    /** Address matched on the host side; "0.0.0.0" / "::" when any. */
    hostAddress: Type.String(),
    hostPort: Type.Integer(),
    hostPortEnd: Opt(Type.Integer()),
    destAddress: Type.String(),
    destPort: Type.Integer(),
    /** Where the forward was found. */
    source: Type.Union([Type.Literal('nftables'), Type.Literal('iptables'), Type.Literal('docker-proxy')]),
    /** Chain/table where the rule lives, for nft/iptables. */
    chain: Opt(Type.String()),
    /**
     * A REDIRECT (nft `redirect`, iptables `-j REDIRECT`): the port is forwarded
     * to the forwarding namespace itself (the receiving interface's address, or
     * loopback for local traffic), so destAddress is the matched host address.
     */
    redirect: Opt(Type.Boolean()),
    /** Network namespace whose rule forwards the port. */
    netns: Type.Integer(),
    /** Network namespace that serves the destination, when resolved. */
    destNetns: Opt(Type.Integer()),
    container: Opt(Type.String()),
    owners: Type.Array(SocketOwnerSchema),
  },
  { $id: 'ForwardedPort' },
);

export const NetworkNamespaceSchema = Type.Object(
  {
    ino: Type.Integer(),
    /** True for the network namespace of wirescope's own initial process (the host). */
    isInitial: Type.Boolean(),
    interfaces: Type.Array(InterfaceSchema),
    routes: Type.Array(RouteSchema),
    rules: Type.Array(RuleSchema),
    neighbours: Type.Array(NeighbourSchema),
    sockets: Type.Array(SocketSchema),
    forwardedPorts: Type.Array(ForwardedPortSchema),
    tenants: Type.Array(TenantSchema),
    /** nsid (as assigned in this namespace) → peer namespace inode, for the nsids links report. */
    nsids: Type.Record(Type.String(), Type.Integer()),
    /** Net sysctls of interest (forwarding). */
    forwarding: Opt(Type.Object({ ipv4: Opt(Type.Boolean()), ipv6: Opt(Type.Boolean()) })),
  },
  { $id: 'NetworkNamespace' },
);

export const ContainerSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String({ description: 'docker, containerd, podman, cri; lab for a wirescope lab node' }),
    /** Engine's id (see Engine.id); `wirescope-lab` for lab nodes, which no engine process runs. */
    engine: Type.String(),
    state: Type.String(),
    labels: Type.Record(Type.String(), Type.String()),
    pid: Opt(Type.Integer()),
    starttime: Opt(Type.Integer()),
    netns: Opt(Type.Integer()),
    privileged: Type.Boolean(),
    /** Enclosing containers of the engine, outermost first ("outer/inner"). */
    prefix: Opt(Type.String()),
    image: Opt(Type.String()),
    groups: Type.Array(Type.String()),
    /** containerd namespace or similar engine-side scoping. */
    namespace: Opt(Type.String()),
    /** Network name → the container's DNS aliases on it (Docker --network-alias; compose sets its service). */
    networkAliases: Opt(Type.Record(Type.String(), Type.Array(Type.String()))),
  },
  { $id: 'Container' },
);

export const EngineSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String({ description: 'docker, containerd, podman, crio' }),
    version: Opt(Type.String()),
    api: Type.String({
      description: 'API endpoint, usually /proc/PID/root/… so it works from any mount namespace',
    }),
    pid: Type.Integer(),
    starttime: Type.Integer(),
    /** Container this engine runs in, if any. */
    container: Opt(Type.String()),
  },
  { $id: 'Engine' },
);

export const GroupSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String({
      description: 'com.docker.compose.project, io.kubernetes.pod, io.podman.pod, wirescope.lab',
    }),
    containers: Type.Array(Type.String()),
    labels: Type.Record(Type.String(), Type.String()),
  },
  { $id: 'Group' },
);

export const WarningSchema = Type.Object(
  {
    /** Stable machine-readable code, e.g. "process-vanished", "netns-enter-failed". */
    code: Type.String(),
    message: Type.String(),
    pid: Opt(Type.Integer()),
    ns: Opt(Type.Integer()),
    engine: Opt(Type.String()),
  },
  { $id: 'Warning' },
);

export const HostSchema = Type.Object(
  {
    hostname: Opt(
      Type.String({ description: 'host name of the initial UTS namespace (the host, not wirescope’s own)' }),
    ),
    os: Opt(
      Type.Object(
        {
          prettyName: Opt(Type.String({ description: 'os-release PRETTY_NAME' })),
          name: Opt(Type.String({ description: 'os-release NAME' })),
          version: Opt(Type.String({ description: 'os-release VERSION' })),
          id: Opt(Type.String({ description: 'os-release ID' })),
          versionId: Opt(Type.String({ description: 'os-release VERSION_ID' })),
          source: Type.String({
            description: 'the file read, as wirescope reached it (e.g. /proc/1/root/etc/os-release)',
          }),
        },
        { description: 'the host’s operating system, from the os-release(5) of its root' },
      ),
    ),
    kernelRelease: Opt(Type.String({ description: 'the running kernel’s release (uname -r)' })),
    cpus: Opt(
      Type.Object({
        online: Type.Array(Type.Tuple([Type.Integer(), Type.Integer()]), {
          description: 'online CPUs as [from, to] ranges (the kernel lists 0-3,8 as [[0,3],[8,8]])',
        }),
        count: Type.Integer({ description: 'how many CPUs are online' }),
      }),
    ),
  },
  { $id: 'Host' },
);

export const DiscoverySchema = Type.Object(
  {
    schema: Type.Literal('wirescope/native/v1'),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Type.Number(),
    /** Inodes of the initial namespaces as seen by wirescope itself (PID 1 or self). */
    initial: Type.Partial(Type.Record(NamespaceTypeSchema, Type.Integer())),
    namespaces: Type.Record(Type.String(), NamespaceSchema),
    processes: Type.Record(Type.String(), ProcessSchema),
    networks: Type.Record(Type.String(), NetworkNamespaceSchema),
    containers: Type.Record(Type.String(), ContainerSchema),
    engines: Type.Record(Type.String(), EngineSchema),
    groups: Type.Record(Type.String(), GroupSchema),
    warnings: Type.Array(WarningSchema),
    /** Capabilities wirescope lacked, with what the result misses because of it. */
    missingPrivileges: Type.Array(Type.Object({ capability: Type.String(), effect: Type.String() })),
    /** Facts about the host (absent only from discoveries that did not read them, e.g. test drafts). */
    host: Opt(HostSchema),
  },
  { $id: 'Discovery' },
);

/**
 * One difference between a lab file and the kernel (`wirescope verify`,
 * src/lab/check/verify.ts); model/changes.ts derives `Drift` from it and the
 * service's API contract (service/schema.ts) serves it.
 */
export const DriftSchema = Type.Object(
  {
    object: Type.String({
      description: 'the object the difference belongs to, e.g. "node guest1", "link a:eth1 <-> b:eth1"',
    }),
    op: Type.Union([Type.Literal('+'), Type.Literal('-'), Type.Literal('~')], {
      description: '`-` declared, missing; `+` present, undeclared; `~` declared X, found Y',
    }),
    path: Opt(Type.String({ description: 'for "~": what differs, e.g. "guest1:eth0.mtu"' })),
    declared: Opt(Type.String()),
    found: Opt(Type.String()),
    message: Type.String({
      description: 'one line: "declared, missing", "present, undeclared", or "declared X, found Y"',
    }),
    netns: Opt(Type.Integer({ description: 'the kernel object concerned, when it exists: its namespace' })),
    index: Opt(Type.Integer({ description: '… and its ifindex' })),
    node: Opt(Type.String()),
  },
  { $id: 'Drift' },
);
