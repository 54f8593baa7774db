/**
 * Engine network names on bridges and parents: Docker and podman networks
 * from the engines' caches first, then nerdctl/CNI conflists of containerd and
 * CRI-O engines for interfaces no engine named (podman's CNI backend writes
 * conflists too; podman's own name wins).
 */
import type { ContainerSource } from '../../engines/source.js';
import type { Draft } from '../../model/types.js';
import { readCniNetworks } from './cni.js';
import { engineNetns, nameInterfaces } from './engine.js';

export interface NetworkNamesOptions {
  procRoot?: string;
}

export function decorateNetworkNames(
  draft: Draft.Discovery,
  containers: ContainerSource | undefined,
  options: NetworkNamesOptions = {},
): void {
  const procRoot = options.procRoot ?? '/proc';
  for (const e of containers?.networks?.() ?? []) {
    const ns = engineNetns(draft, e.pid);
    if (ns) nameInterfaces(ns.interfaces, e.networks, true);
  }
  for (const e of Object.values(draft.engines)) {
    if (e.type !== 'containerd' && e.type !== 'crio') continue;
    const ns = engineNetns(draft, e.pid);
    if (!ns) continue;
    const { networks, warnings } = readCniNetworks(procRoot, e.pid, e.id);
    draft.warnings.push(...warnings);
    nameInterfaces(ns.interfaces, networks, false);
  }
}
