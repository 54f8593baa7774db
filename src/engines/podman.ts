/**
 * Podman's API service: containers through its Docker-compatible API (the
 * same client as Docker), pods and networks through the libpod API, which
 * the compatible API does not expose.
 */
import { DockerClient, type DockerClientOptions, type EngineEvent, sanitizeLabels } from './docker.js';
import type { CachedNetwork, CachedPod } from './types.js';

/** libpod API version prefix: podman 4.x serves /v4.0.0/libpod/... */
const LIBPOD = '/v4.0.0/libpod';

export function podmanPods(json: unknown): CachedPod[] {
  if (!Array.isArray(json)) return [];
  const pods: CachedPod[] = [];
  for (const p of json as Record<string, unknown>[]) {
    if (typeof p?.Id !== 'string') continue;
    const containers = Array.isArray(p.Containers)
      ? (p.Containers as Record<string, unknown>[])
          .map((c) => c?.Id)
          .filter((x): x is string => typeof x === 'string')
      : [];
    pods.push({
      id: p.Id,
      name: typeof p.Name === 'string' ? p.Name : p.Id,
      labels: sanitizeLabels(p.Labels),
      containers,
    });
  }
  return pods;
}

export function podmanNetworks(json: unknown): CachedNetwork[] {
  if (!Array.isArray(json)) return [];
  const out: CachedNetwork[] = [];
  for (const n of json as Record<string, unknown>[]) {
    if (typeof n?.name !== 'string') continue;
    const net: CachedNetwork = { engine: 'podman', name: n.name, default: n.name === 'podman' };
    if (typeof n.id === 'string') net.id = n.id;
    if (typeof n.driver === 'string') net.driver = n.driver;
    if (typeof n.internal === 'boolean') net.internal = n.internal;
    if (typeof n.network_interface === 'string') {
      if (n.driver === 'bridge') net.bridge = n.network_interface;
      else net.parent = n.network_interface;
    }
    out.push(net);
  }
  return out;
}

export class PodmanClient extends DockerClient {
  constructor(opts: DockerClientOptions) {
    super(opts, 'podman');
  }

  /** Unfiltered: podman's "pod" event type is not one Docker's filter accepts. */
  protected override eventOptions(): undefined {
    return undefined;
  }

  protected override apply(ev: EngineEvent): void {
    super.apply(ev);
    // Pod membership changes with container create/remove, which raise no pod event.
    const action = ev.Action ?? ev.status ?? '';
    if (ev.Type === 'container' && (action === 'create' || action === 'remove'))
      this.syncPods().catch(() => {});
  }

  override async syncNetworks(): Promise<void> {
    this.networks = podmanNetworks(await this.get(`${LIBPOD}/networks/json`));
  }

  override async syncPods(): Promise<void> {
    this.pods = podmanPods(await this.get(`${LIBPOD}/pods/json`));
  }
}
