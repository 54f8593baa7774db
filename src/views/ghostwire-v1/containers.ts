/**
 * The tenants of a network namespace → v1 "containers": engine containers,
 * stand-alone processes (type "proc"), or — for a namespace no process is
 * attached to — one "bindmount" pseudo container named after the path that
 * keeps the namespace alive. Pods sharing the namespace become
 * `container-groups`.
 */
import { SocketAddress } from 'node:net';
import { inNamingOrder } from '../../model/tenants.js';
import type { Container, Dns, NetworkNamespace } from '../../model/types.js';
import { isKthreadd, type V1Context } from './context.js';
import { bindmountId, contId, groupId, pidnsId } from './ids.js';
import { cmdlineOf } from './interfaces.js';
import type {
  ContainerGroup,
  ContainerStatus,
  DnsConfiguration,
  Container as V1Container,
} from './schema.js';
import { ContainerStatuses } from './values.js';

/** Label by which Ghostwire's server marks privileged containers (read by its web UI). */
export const PRIVILEGED_LABEL = 'gostwire/container/privileged';

/** Native container types → v1 types (Ghostwire's `containerTypesToV1`). */
const V1_TYPES: Record<string, string> = { cri: 'CRI' };
export const v1ContainerType = (type: string): string => V1_TYPES[type.toLowerCase()] ?? type.toLowerCase();
const typeText = (type: string): string =>
  type === 'CRI' ? 'CRI' : type.charAt(0).toUpperCase() + type.slice(1);

const STATUSES = new Set<string>(ContainerStatuses);

/** Engine states → the v1 enum (docker spells them as v1 does; containerd says STOPPED, PAUSING, ...). */
export function v1Status(state: string): ContainerStatus {
  const s = state.toLowerCase();
  if (STATUSES.has(s)) return s as ContainerStatus;
  if (s === 'stopped') return 'exited';
  if (s === 'pausing') return 'paused';
  if (s === 'creating') return 'created';
  // A tenant is a live process, whatever the engine last said.
  return 'running';
}

/**
 * Whether `text` is an IPv4 or IPv6 address (a zone allowed), as net.isIP says,
 * but through inet_pton (SocketAddress): net.isIP's first IPv6 test compiles a
 * large regular expression, 15-30 ms of a one-shot discover.
 */
function isAddressText(text: string): boolean {
  try {
    new SocketAddress({ address: text, family: text.includes(':') ? 'ipv6' : 'ipv4' });
    return true;
  } catch {
    return false;
  }
}

export function v1Dns(dns: Dns): DnsConfiguration {
  const hosts: DnsConfiguration['etc-hosts'] = [];
  for (const h of dns.hosts) {
    if (!isAddressText(h.address)) continue; // the schema demands an address; a malformed line names none
    for (const name of h.names) hosts.push({ name, address: h.address });
  }
  const rc = dns.resolvConf;
  // resolv.conf(5): "search" and "domain" are mutually exclusive, the last one wins;
  // the native model keeps both, v1 has one list.
  const searchlist =
    rc === undefined ? [] : rc.search.length > 0 ? [...rc.search] : rc.domain ? [rc.domain] : [];
  return {
    'uts-hostname': dns.utsHostname ?? '',
    'etc-hostname': dns.etcHostname ?? '',
    domainname: dns.etcDomainname ?? '',
    nameservers: rc ? [...rc.nameservers] : [],
    searchlist,
    'etc-hosts': hosts,
  };
}

/** CapBnd as 0x-hex without leading zeros; undefined (not "no capabilities") when unreadable. */
export function normaliseCaps(caps: string): string | undefined {
  const hex = caps
    .toLowerCase()
    .replace(/^0x/, '')
    .replace(/^0+(?=.)/, '');
  return /^[0-9a-f]+$/.test(hex) ? `0x${hex}` : undefined;
}

const isPodGroup = (type: string): boolean => /(^|\.)pod$/.test(type);

/**
 * Whether a pod member is its pod's sandbox (the "pause" container holding
 * the pod's namespaces), from the labels CRI runtimes set; undefined for
 * containers outside CRI. Ghostwire's web UI reads `sandbox` when present.
 */
export function isSandbox(c: Container): boolean | undefined {
  const cri = c.labels['io.cri-containerd.kind'];
  if (cri !== undefined) return cri === 'sandbox';
  const dockershim = c.labels['io.kubernetes.docker.type'];
  if (dockershim !== undefined) return dockershim === 'podsandbox';
  return undefined;
}

export interface NetnsContainers {
  containers: V1Container[];
  groups: ContainerGroup[];
}

export function v1Containers(ctx: V1Context, ns: NetworkNamespace): NetnsContainers {
  const d = ctx.discovery;
  const containers: V1Container[] = [];
  const groups = new Map<string, ContainerGroup>();
  const tenantPids = ctx.tenantPids.get(ns.ino);
  // A process listed twice (leader and a container's initial process) is one v1 container: ids are unique.
  const done = new Set<number>();

  // A chrooted workload before its launcher (see model/tenants.ts): clients
  // that name a namespace after its first container name it after the workload.
  for (const t of inNamingOrder(ns.tenants, d.processes)) {
    if (!tenantPids?.has(t.pid) || done.has(t.pid)) continue;
    done.add(t.pid);
    const proc = d.processes[t.pid];
    if (isKthreadd(t, proc)) continue;
    const pidns = proc?.namespaces.pid ?? 0;
    const common = {
      id: contId(t.pid),
      pid: t.pid,
      pidns,
      'pidns-idref': pidns === 0 ? '' : pidnsId(pidns),
      cmdline: cmdlineOf(proc, t.comm),
      dns: v1Dns(t.dns),
    };
    const nativeId = t.container ?? proc?.container;
    const c: Container | undefined = nativeId === undefined ? undefined : ctx.containers.get(nativeId);
    let v1: V1Container;
    if (c === undefined) {
      v1 = {
        ...common,
        name: `${t.comm}(${t.pid})`,
        type: 'proc',
        'type-text': 'Process',
        status: 'running',
      };
    } else {
      const type = v1ContainerType(c.type);
      const labels: Record<string, string> = { ...c.labels };
      if (c.privileged) labels[PRIVILEGED_LABEL] = '';
      const sandbox = isSandbox(c);
      v1 = {
        ...common,
        name: c.name || c.id,
        type,
        'type-text': typeText(type),
        status: v1Status(c.state),
        prefix: c.prefix ?? '',
        labels,
        'container-id': c.id,
      };
      if (sandbox !== undefined) v1.sandbox = sandbox;
      const engine = d.engines[c.engine];
      if (engine) v1['api-path'] = engine.api;
      for (const gid of c.groups) {
        const g = d.groups[gid] ?? Object.values(d.groups).find((x) => x.id === gid);
        if (g === undefined || !isPodGroup(g.type)) continue;
        const id = groupId(ns.ino, g.id);
        let group = groups.get(id);
        if (group === undefined) {
          group = { id, name: g.name, type: 'pod', 'type-text': 'Pod', 'container-idrefs': [] };
          groups.set(id, group);
        }
        group['container-idrefs'].push(v1.id);
        v1.group = id;
        break; // v1 knows one group per container
      }
    }
    const caps = proc ? normaliseCaps(proc.capBnd) : undefined;
    if (caps) v1.capbnd = caps;
    containers.push(v1);
  }

  if (containers.length === 0) containers.push(bindmountContainer(ctx, ns.ino));
  return { containers, groups: [...groups.values()] };
}

/** What keeps a process-less namespace alive, as a path: a bind mount, else an fd. */
export function holderName(ctx: V1Context, ino: number): string {
  const d = ctx.discovery;
  const nsRec = ctx.netnsRecords.get(ino);
  if (nsRec === undefined) return `net:[${ino}]`;
  const mounts = [...nsRec.bindMounts].sort(
    (a, b) =>
      Number(b.mntns === d.initial.mnt) - Number(a.mntns === d.initial.mnt) || a.path.localeCompare(b.path),
  );
  const first = mounts[0];
  if (first) return first.path;
  const fd = nsRec.fds[0];
  if (fd) return `/proc/${fd.pid}/fd/${fd.fd}`;
  return nsRec.ref ?? `net:[${ino}]`;
}

function bindmountContainer(ctx: V1Context, ino: number): V1Container {
  return {
    id: bindmountId(ino),
    name: holderName(ctx, ino),
    type: 'bindmount',
    'type-text': 'Bind-mounted',
    pid: 0,
    pidns: 0,
    'pidns-idref': '',
    // A bind mount has no process state; the namespace it holds is alive.
    status: 'running',
    // No process, hence no command line and no DNS client configuration;
    // empty values rather than missing ones keep naive v1 clients safe.
    cmdline: '',
    dns: { 'etc-hosts': [], nameservers: [], searchlist: [] },
  };
}
