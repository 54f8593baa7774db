/**
 * The native Discovery → a Ghostwire v1 `DiscoveryResult` (`GET /json`,
 * `wirescope discover --json`). A pure function over the immutable model;
 * it shares no objects with it.
 */
import type { Discovery } from '../../model/types.js';
import { isHostname } from '../hostname.js';
import { v1Containers } from './containers.js';
import { buildContext } from './context.js';
import { netnsId } from './ids.js';
import { v1Interface } from './interfaces.js';
import { v1PidNamespaces } from './pidns.js';
import { makePortViews } from './ports.js';
import { v1Routes } from './routes.js';
import type { Container, DiscoveryResult, IPRoute, Metadata, Netns } from './schema.js';

export interface V1Options {
  /** Host name for the metadata (the view itself does no I/O). */
  hostname?: string;
  /** wirescope's version for the metadata. */
  version?: string;
}

export const CREATOR_ID = 'wirescope';

export function v1Metadata(discovery: Discovery, options: V1Options = {}): Metadata {
  const md: Metadata = {
    creator: 'wirescope Linux virtual networking discovery',
    'creator-id': CREATOR_ID,
    'creator-version': options.version ?? '0.1.0',
    'creation-timestamp': discovery.startedAt,
  };
  // The host's own name (its initial UTS namespace), unless the caller says otherwise;
  // for discoveries without host facts, the UTS name of a tenant of the initial network namespace.
  const host = discovery.host;
  const hostname =
    options.hostname ??
    host?.hostname ??
    Object.values(discovery.networks)
      .find((n) => n.isInitial)
      ?.tenants.find((t) => t.dns.utsHostname)?.dns.utsHostname;
  if (hostname && isHostname(hostname)) md.hostname = hostname;
  if (host?.os?.name !== undefined) md['osrel-name'] = host.os.name;
  if (host?.os?.version !== undefined) md['osrel-version'] = host.os.version;
  if (host?.os?.prettyName !== undefined) md['osrel-pretty-name'] = host.os.prettyName;
  if (host?.kernelRelease !== undefined) md['kernel-version'] = host.kernelRelease;
  if (host?.cpus) {
    md.cpus = host.cpus.online.flatMap(([from, to]): [number, number][] =>
      from !== undefined && to !== undefined ? [[from, to]] : [],
    );
    md['cpu-count'] = host.cpus.count;
  }
  // Every engine found, with or without containers (as Ghostwire lists them).
  md['container-engines'] = Object.values(discovery.engines)
    .map((e) => ({
      id: e.id,
      type: e.type,
      ...(e.version !== undefined ? { version: e.version } : {}),
      pid: e.pid,
      api: e.api,
    }))
    .sort((a, b) => a.type.localeCompare(b.type) || a.pid - b.pid);
  return md;
}

export function toGhostwireV1(discovery: Discovery, options: V1Options = {}): DiscoveryResult {
  const ctx = buildContext(discovery);
  const portViews = makePortViews(ctx);
  const allContainers: Container[] = [];
  // The initial namespace first (Ghostwire's UI puts it first too), then by inode: stable across discoveries.
  const networks = Object.values(discovery.networks).sort(
    (a, b) => Number(b.isInitial) - Number(a.isInitial) || a.ino - b.ino,
  );
  const netnses: Netns[] = networks.map((ns) => {
    const { containers, groups } = v1Containers(ctx, ns);
    for (const c of containers) allContainers.push(c);
    const ipv4: IPRoute[] = [];
    const ipv6: IPRoute[] = [];
    for (const r of ns.routes) {
      const list = r.family === 'inet' ? ipv4 : ipv6;
      v1Routes(ctx, ns.ino, r, list);
    }
    const ports = portViews(ns);
    return {
      id: netnsId(ns.ino),
      netnsid: ns.ino,
      'network-interfaces': [...ns.interfaces]
        .sort((a, b) => a.index - b.index)
        .map((n) => v1Interface(ctx, n)),
      routes: { ipv4, ipv6 },
      'transport-ports': ports.transport,
      'forwarded-ports': ports.forwarded,
      containers,
      'container-groups': groups,
    };
  });
  return {
    metadata: v1Metadata(discovery, options),
    'network-namespaces': netnses,
    'pid-namespaces': v1PidNamespaces(ctx, allContainers),
  };
}
