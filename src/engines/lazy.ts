/**
 * An engine client whose module loads when its sync starts. The tracker
 * creates one per engine it finds, so a command loads the Docker/podman HTTP
 * client, or gRPC with its protobuf runtime (containerd, CRI: the heaviest
 * modules of a discovery), only when such an engine runs.
 */
import type { CachedContainer, CachedNetwork, CachedPod, EngineClient } from './types.js';

const NO_CONTAINERS: ReadonlyMap<string, CachedContainer> = new Map();

export class LazyClient implements EngineClient {
  onChange: (() => void) | undefined;
  private inner: EngineClient | undefined;
  private closed = false;

  private readonly client: Promise<EngineClient>;

  /** Starts loading at once: the module's load overlaps what the caller does meanwhile. */
  constructor(load: () => Promise<EngineClient>) {
    this.client = load();
    // Its failure is start()'s to report.
    this.client.catch(() => undefined);
  }

  get version(): string | undefined {
    return this.inner?.version;
  }
  get containers(): ReadonlyMap<string, CachedContainer> {
    return this.inner?.containers ?? NO_CONTAINERS;
  }
  get networks(): readonly CachedNetwork[] {
    return this.inner?.networks ?? [];
  }
  get pods(): readonly CachedPod[] {
    return this.inner?.pods ?? [];
  }
  get broken(): Error | undefined {
    return this.inner?.broken;
  }

  async start(): Promise<void> {
    const client = await this.client;
    if (this.closed) {
      client.close();
      throw new Error('closed');
    }
    this.inner = client;
    client.onChange = () => this.onChange?.();
    await client.start();
  }

  close(): void {
    this.closed = true;
    this.inner?.close();
  }
}
