/** The Ghostwire-v1 views the service serves at /json and /mobyshark (src/views/ghostwire-v1). */
import type { Discovery } from '../model/types.js';
import { mobyshark, toGhostwireV1 } from '../views/ghostwire-v1/index.js';

export interface V1View {
  toGhostwireV1(d: Discovery): unknown;
  toMobyshark(d: Discovery): unknown;
}

const view: V1View = { toGhostwireV1: (d) => toGhostwireV1(d), toMobyshark: (d) => mobyshark(d) };

export function loadV1View(): Promise<V1View | string> {
  return Promise.resolve(view);
}
