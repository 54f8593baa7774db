/**
 * The Ghostwire-v1 views the service serves at /json and /mobyshark (src/views/ghostwire-v1),
 * loaded with the first request that needs them: the discovery worker renders them as a rule,
 * the serving thread only for a snapshot the worker no longer holds.
 */
import type { Discovery } from '../model/types.js';

export interface V1View {
  toGhostwireV1(d: Discovery): unknown;
  toMobyshark(d: Discovery): unknown;
}

let loading: Promise<V1View> | undefined;

export function loadV1View(): Promise<V1View | string> {
  loading ??= import('../views/ghostwire-v1/index.js').then(({ mobyshark, toGhostwireV1 }) => ({
    toGhostwireV1: (d) => toGhostwireV1(d),
    toMobyshark: (d) => mobyshark(d),
  }));
  return loading;
}
