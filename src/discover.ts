/**
 * The discovery pipeline (ARCHITECTURE.md "The pipeline"): procfs scan → namespaces + processes →
 * engines & containers → network per netns → decorators → immutable model.
 * Each stage has a typed input and output and never reaches back; a stage that
 * fails for one namespace or engine records a warning and the rest goes on.
 */

import { closeDecorators, decorate } from './decorators/index.js';
import { addLabNodes } from './engines/lab-nodes.js';
import type { ContainerSource, Workloads } from './engines/source.js';
import { deepFreeze } from './model/freeze.js';
import type { Discovery, Draft } from './model/types.js';
import { ownMountNamespace, prepareEtcReader } from './namespaces/etc-reader.js';
import { readHost } from './namespaces/host.js';
import { type NamespaceScanOptions, scanNamespaces } from './namespaces/scan.js';
import { collectTenants } from './namespaces/tenants.js';
import {
  closeNetworkDiscovery,
  discoverNetworks,
  type NetworkOptions,
  prepareNetworkDiscovery,
} from './network/discover.js';
import { SECOND_WORKER_MIN } from './network/pool.js';

export interface DiscoverOptions extends NamespaceScanOptions {
  /** Discover each network namespace's interfaces, routes, sockets (default true). */
  network?: boolean | NetworkOptions;
  /** Where containers come from (the engine tracker); none when absent. */
  containers?: ContainerSource;
  /** Read tenants' DNS configuration (default true). */
  dns?: boolean;
  /**
   * Incremental discovery (ARCHITECTURE.md "Incremental discovery"), for a long-lived caller
   * (the service): 'record' is a full discovery that keeps per-namespace results (network
   * dumps, forwarded-port reads) keyed by namespace inode; 'reuse' re-reads only the namespaces
   * whose rtnetlink monitors saw a change (and new ones) and reuses the kept results of the
   * rest. Everything else runs in full: the namespace scan, engines, tenants, wires between
   * namespaces, socket owners, the remaining decorators.
   */
  incremental?: 'record' | 'reuse';
  /**
   * A one-shot discovery (a CLI command), not the first of many: on a host with few network
   * namespaces they are dumped on this thread instead of on a worker thread that would have
   * to start first (NetworkOptions.inlineBelow). The result is the same.
   */
  oneShot?: boolean;
}

/**
 * Whether a tenant's /etc files will likely need the reader child (etc-reader.ts): a network
 * namespace led by a process in another mount namespace than wirescope's (a container). Only
 * decides whether the child starts early, alongside the engines and the network dump; it
 * starts anyway when a view needs it.
 */
function needsEtcReader(scan: ReturnType<typeof scanNamespaces>): boolean {
  const mine = ownMountNamespace();
  for (const ns of Object.values(scan.namespaces)) {
    if (ns.type !== 'net') continue;
    for (const pid of ns.leaders) if (scan.processes[pid]?.namespaces.mnt !== mine) return true;
  }
  return false;
}

/**
 * Releases what discoveries keep for warm runs on this thread: the network
 * stage's per-namespace sockets and workers, and what decorators keep (the
 * forwarded-port decorator's netfilter sockets). They are plain fds of the process, so a
 * thread that is about to end must call this (its fds outlive it).
 */
export async function closeDiscovery(): Promise<void> {
  closeDecorators();
  await closeNetworkDiscovery();
}

export async function discover(options: DiscoverOptions = {}): Promise<Discovery> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const network: NetworkOptions | undefined =
    options.network === false
      ? undefined
      : {
          // The forwarded-ports decorator reads only namespaces with netfilter NAT state, which the
          // network workers tell while they are inside each namespace anyway.
          netfilter: true,
          ...(options.oneShot ? { inlineBelow: SECOND_WORKER_MIN, track: false } : {}),
          ...(typeof options.network === 'object' ? options.network : {}),
          ...(options.incremental ? { incremental: options.incremental } : {}),
        };
  // The namespace workers start (load their modules) while the scan runs; a one-shot
  // discovery decides after the scan whether it needs any.
  if (network) prepareNetworkDiscovery(network);
  const scan = scanNamespaces(options);
  const warnings: Draft.Warning[] = [...scan.warnings];
  // The child that reads tenants' /etc files starts while the engines answer and the dump runs.
  if (options.dns !== false && needsEtcReader(scan)) prepareEtcReader();

  // The stages after the scan overlap (ARCHITECTURE.md "Start-up cost"): the network dump runs on
  // its worker threads while the engines answer and tenants' /etc files are read. Only the
  // network stage's socket owners wait for the engine stage, which names their containers
  // (Process.container).
  const engineStage = (async (): Promise<Workloads> => {
    const w = options.containers
      ? await options.containers.snapshot(scan)
      : { containers: {}, engines: {}, groups: {}, warnings: [] };
    addLabNodes(scan.processes, w);
    return w;
  })();
  const networking = network ? discoverNetworks(scan, network, engineStage) : undefined;
  // Awaited below; a failure must not surface as an unhandled rejection meanwhile.
  networking?.catch(() => undefined);
  engineStage.catch(() => undefined);

  const host = readHost(scan);
  warnings.push(...host.warnings);

  const workloads = await engineStage;
  warnings.push(...workloads.warnings);

  const [tenants, net] = await Promise.all([
    collectTenants(scan, workloads.containers, { dns: options.dns !== false }),
    networking,
  ]);
  warnings.push(...tenants.warnings);

  const networks: Record<string, Draft.NetworkNamespace> = {};
  if (net !== undefined) {
    warnings.push(...net.warnings);
    for (const [ino, ns] of Object.entries(net.networks)) {
      ns.tenants = tenants.byNetns.get(Number(ino)) ?? [];
      networks[ino] = ns;
    }
  }

  const draft: Draft.Discovery = {
    schema: 'wirescope/native/v1',
    startedAt,
    durationMs: 0,
    initial: scan.initial,
    namespaces: scan.namespaces,
    processes: scan.processes,
    networks,
    containers: workloads.containers,
    engines: workloads.engines,
    groups: workloads.groups,
    warnings,
    missingPrivileges: scan.missingPrivileges,
    host: host.host,
  };
  await decorate(draft, {
    containers: options.containers,
    ...(net ? { natFree: net.natFree } : {}),
    ...(options.incremental ? { incremental: { record: true, reused: net?.reused } } : {}),
  });
  draft.durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
  // A one-shot discovery goes straight to its rendering and is dropped: freezing its every
  // object (200 ms at 1000 namespaces) protects nothing there.
  return (options.oneShot ? draft : deepFreeze(draft)) as Discovery;
}
