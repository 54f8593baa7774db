/**
 * Native interfaces → v1 `network-interfaces` entries, with every wire as a
 * document-internal reference (`nif-<netns>-<ifindex>`), which may point
 * into another network namespace.
 */
import type { Address, Interface, InterfaceRef, Process } from '../../model/types.js';
import { lookupInterface, ownerContainerRef, type V1Context } from './context.js';
import { nifId } from './ids.js';
import type { IPAddress, NetworkInterface, NifRef, Owner } from './schema.js';

const AF_INET = 2;
const AF_INET6 = 10;
/** Interface labels of Ghostwire's network decorators (decorator/dockernet, network/bridge.go). */
export const NETWORK_NAME_LABEL = 'gostwire/network/name';
export const INTERNAL_BRIDGE_LABEL = 'gostwire/bridge/internal';
export const DEFAULT_BRIDGE_LABEL = 'gostwire/network/default-bridge';
/** INFINITY_LIFE_TIME (include/net/addrconf.h): what the kernel reports for "forever". */
const FOREVER = 0xffffffff;

/** rtnetlink scopes (include/uapi/linux/rtnetlink.h, enum rt_scope_t). */
const SCOPES: Record<string, number> = {
  universe: 0,
  global: 0,
  site: 200,
  link: 253,
  host: 254,
  nowhere: 255,
};

export function scopeNumber(scope: string): number {
  const s = SCOPES[scope.toLowerCase()];
  if (s !== undefined) return s;
  const n = Number.parseInt(scope, 10);
  return Number.isInteger(n) ? n : 0;
}

export const familyNumber = (family: 'inet' | 'inet6'): number => (family === 'inet' ? AF_INET : AF_INET6);

const OPERSTATES = new Set(['UNKNOWN', 'NOTPRESENT', 'DOWN', 'UP', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT']);

export function v1Operstate(operstate: string): NetworkInterface['operstate'] {
  const s = operstate.toUpperCase().replace(/[^A-Z]/g, '');
  return (OPERSTATES.has(s) ? s : 'UNKNOWN') as NetworkInterface['operstate'];
}

/**
 * v1 kinds follow vishvananda/netlink's `Link.Type()`, which Ghostwire's
 * server passes on: "" for devices without IFLA_INFO_KIND (physical NICs and
 * loopback), "tuntap" for the kernel's "tun" kind (TUN and TAP alike; the web
 * UI tests `kind === 'tuntap'`).
 */
export function v1Kind(nif: Interface): string {
  if (nif.kind === 'loopback' || nif.kind === 'physical' || nif.kind === 'unknown') return '';
  if (nif.kind === 'tun' || nif.tuntap !== undefined) return 'tuntap';
  return nif.kind;
}

export function v1Address(a: Address, index: number): IPAddress {
  return {
    address: a.address,
    family: familyNumber(a.family),
    index,
    'preferred-lifetime': a.preferredLifetime ?? FOREVER,
    prefixlen: a.prefixlen,
    scope: scopeNumber(a.scope),
    'valid-lifetime': a.validLifetime ?? FOREVER,
  };
}

export function nifRef(nif: Interface): NifRef {
  return { idref: nifId(nif.netns, nif.index), index: nif.index, name: nif.name };
}

function refTo(ctx: V1Context, ref: InterfaceRef | undefined): NifRef | undefined {
  const nif = lookupInterface(ctx, ref);
  return nif === undefined ? undefined : nifRef(nif);
}

/** EtherTypes of VLAN tags (include/uapi/linux/if_ether.h). */
export function vlanProtocolNumber(protocol: string): number {
  const p = protocol.toLowerCase().replace(/[^0-9a-z]/g, '');
  if (p === '8021ad' || p === '88a8' || p === '0x88a8') return 0x88a8;
  if (p === '8021q' || p === '8100' || p === '0x8100') return 0x8100;
  const n = Number(protocol);
  return Number.isInteger(n) ? n : 0x8100;
}

export const cmdlineOf = (
  proc: { cmdline: readonly string[]; comm: string } | undefined,
  comm = '',
): string => (proc === undefined ? comm : proc.cmdline.length > 0 ? proc.cmdline.join(' ') : proc.comm);

export function owner(
  ctx: V1Context,
  pid: number,
  fallback: { cmdline?: readonly string[]; comm: string },
): Owner {
  const proc: Process | undefined = ctx.discovery.processes[pid];
  const o: Owner = {
    pid,
    cmdline: cmdlineOf(proc ?? { cmdline: fallback.cmdline ?? [], comm: fallback.comm }),
  };
  const ref = ownerContainerRef(ctx, pid);
  if (ref !== undefined) o['container-idref'] = ref;
  return o;
}

export function v1Interface(ctx: V1Context, nif: Interface): NetworkInterface {
  const ipv4: IPAddress[] = [];
  const ipv6: IPAddress[] = [];
  for (const a of nif.addresses) (a.family === 'inet' ? ipv4 : ipv6).push(v1Address(a, nif.index));

  const out: NetworkInterface = {
    id: nifId(nif.netns, nif.index),
    name: nif.name,
    index: nif.index,
    kind: v1Kind(nif),
    operstate: v1Operstate(nif.operstate),
    // Ghostwire: "physical" = a kind-less device that is not the loopback.
    physical: nif.kind === 'physical',
    addresses: {
      // Ghostwire reports an all-zero MAC for links without a hardware address (tun, ...).
      mac: nif.mac ? nif.mac.toLowerCase() : '00:00:00:00:00:00',
      ipv4,
      ipv6,
    },
    driverinfo: driverInfo(nif),
    promisc: nif.flags.some((f) => f.toLowerCase() === 'promisc'),
  };
  if (nif.alias) out.alias = nif.alias;
  if (nif.network) {
    // Engine network names as Ghostwire's network decorators put them
    // (decorator/dockernet): the name as alias and in labels that its web UI
    // reads to group bridges into networks and mark internal/default ones.
    // An alias the interface has of its own is kept, not overwritten.
    if (!nif.alias) out.alias = nif.network.name;
    const labels: Record<string, string> = { [NETWORK_NAME_LABEL]: nif.network.name };
    if (nif.network.internal) labels[INTERNAL_BRIDGE_LABEL] = 'true';
    if (nif.network.default) labels[DEFAULT_BRIDGE_LABEL] = 'true';
    out.labels = labels;
  }

  // Ghostwire's server puts a vlan's parent into "master" (api/v1/nif.go);
  // a real master (bridge, bond, VRF) takes precedence here.
  const master = refTo(ctx, nif.master) ?? refTo(ctx, nif.vlan?.parent);
  if (master) out.master = master;
  const macvlanParent = refTo(ctx, nif.macvlan?.parent ?? nif.ipvlan?.parent);
  if (macvlanParent) out.macvlan = macvlanParent;
  const children = ctx.children.get(nif);
  if (children && children.slaves.length > 0) out.slaves = children.slaves.map(nifRef);
  if (children && children.macvlans.length > 0) out.macvlans = children.macvlans.map(nifRef);

  const peer = lookupInterface(ctx, nif.veth?.peer ?? (nif.kind === 'veth' ? nif.link : undefined));
  if (peer)
    out.peer = {
      'peer-idref': nifId(peer.netns, peer.index),
      'peer-index': peer.index,
      'peer-name': peer.name,
    };

  if (nif.vxlan) {
    const vx = nif.vxlan;
    const underlay = lookupInterface(ctx, vx.underlay);
    const remote = vx.remote ?? vx.group;
    out.vxlan = {
      idref: underlay ? nifId(underlay.netns, underlay.index) : '',
      vid: vx.vni,
      'arp-proxy': false,
      'source-portrange': { low: 0, high: 0 },
      'remote-port': vx.port ?? 0,
    };
    if (vx.local)
      out.vxlan.source = vx.local.includes(':') ? { source_ipv6: vx.local } : { source_ipv4: vx.local };
    if (remote) out.vxlan.remote = remote.includes(':') ? { remote_ipv6: remote } : { remote_ipv4: remote };
  }
  if (nif.vlan) out.vlan = { vid: nif.vlan.id, 'vlan-protocol': vlanProtocolNumber(nif.vlan.protocol) };
  if (nif.tuntap) {
    out.tuntap = {
      mode: nif.tuntap.mode,
      // One entry per process, however many fds it holds the device with.
      processors: [...new Map(nif.tuntap.holders.map((h) => [h.pid, h])).values()].map((h) =>
        owner(ctx, h.pid, { comm: h.comm }),
      ),
    };
  }
  return out;
}

function driverInfo(nif: Interface): NonNullable<NetworkInterface['driverinfo']> {
  const info: NonNullable<NetworkInterface['driverinfo']> = { driver: nif.physical?.driver ?? '' };
  if (nif.physical?.busAddress) info.businfo = nif.physical.busAddress;
  return info;
}
