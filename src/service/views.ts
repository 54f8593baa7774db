/**
 * The Ghostwire-v1 view (src/views/ghostwire-v1), loaded on first use. It is
 * built by another stage; loading it lazily keeps the service usable (native
 * API, UI) even if that view fails to load, and /json then answers 503.
 */
import type { Discovery } from '../model/types.js';

export interface V1View {
  toGhostwireV1(d: Discovery): unknown;
  toMobyshark(d: Discovery): unknown;
}

let loaded: Promise<V1View | string> | undefined;

export function loadV1View(): Promise<V1View | string> {
  loaded ??= (async () => {
    const path = '../views/ghostwire-v1/index.js';
    try {
      const m = (await import(path)) as Record<string, unknown>;
      const toV1 = m.toGhostwireV1;
      const toMoby = m.toMobyshark ?? m.toMobysharkTargets ?? m.toTargetDiscovery;
      if (typeof toV1 !== 'function' || typeof toMoby !== 'function')
        return 'the Ghostwire-v1 view lacks toGhostwireV1/toMobyshark';
      return {
        toGhostwireV1: toV1 as V1View['toGhostwireV1'],
        toMobyshark: toMoby as V1View['toMobyshark'],
      };
    } catch (err) {
      return `the Ghostwire-v1 view is not available: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    }
  })();
  return loaded;
}
