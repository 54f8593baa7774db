/** The Ghostwire v1 view: `GET /json`, `GET /mobyshark`, `discover --json`. */
export { mobyshark, mobyshark as toMobyshark } from './mobyshark.js';
export * from './schema.js';
export { CREATOR_ID, toGhostwireV1, type V1Options, v1Metadata } from './transform.js';
export { v1Errors, validateTargets, validateV1 } from './validate.js';
