/**
 * Docker and podman network names: each engine-managed network is implemented
 * by a bridge in the engine's network namespace (`com.docker.network.bridge.name`
 * or `br-<id[:12]>` for Docker, `network_interface` for podman), or rides on a
 * parent interface (macvlan/ipvlan). The decorator names those interfaces.
 */
import type { CachedNetwork } from '../../engines/types.js';
import type { Draft } from '../../model/types.js';

export type InterfaceNetwork = NonNullable<Draft.Interface['network']>;

export function toInterfaceNetwork(n: CachedNetwork): InterfaceNetwork {
  const out: InterfaceNetwork = { engine: n.engine, name: n.name };
  if (n.id !== undefined) out.id = n.id;
  if (n.internal !== undefined) out.internal = n.internal;
  if (n.default !== undefined) out.default = n.default;
  if (n.dns !== undefined) out.dns = n.dns;
  if (n.driver !== undefined) out.driver = n.driver;
  return out;
}

/**
 * Names the interfaces of one network namespace after the given networks.
 * A bridge is named by the network it implements; a macvlan/ipvlan parent only
 * when nothing named it already (several networks may share one parent).
 * Returns how many interfaces were named.
 */
export function nameInterfaces(
  interfaces: Draft.Interface[],
  networks: readonly CachedNetwork[],
  overwrite: boolean,
): number {
  const byName = new Map(interfaces.map((i) => [i.name, i]));
  let named = 0;
  for (const n of networks) {
    if (n.bridge) {
      const i = byName.get(n.bridge);
      if (i && i.kind === 'bridge' && (overwrite || !i.network)) {
        i.network = toInterfaceNetwork(n);
        named++;
      }
    }
    if (n.parent) {
      const i = byName.get(n.parent);
      if (i && !i.network) {
        i.network = toInterfaceNetwork(n);
        named++;
      }
    }
  }
  return named;
}

/** The network namespace an engine process lives in, as found in the draft. */
export function engineNetns(draft: Draft.Discovery, pid: number): Draft.NetworkNamespace | undefined {
  const ino = draft.processes[String(pid)]?.namespaces.net;
  return ino === undefined ? undefined : draft.networks[String(ino)];
}
