/** The views over a native Discovery: Ghostwire v1, native JSON, text tree, graphs. */
export * as ghostwireV1 from './ghostwire-v1/index.js';
export { type GraphOptions, toDot, toMermaid } from './graph.js';
export { bundleSchema, NATIVE_SCHEMA_ID, nativeJsonSchema, toNativeJson } from './native.js';
export { matchingNetworks, renderTextTree, type TextTreeOptions } from './text-tree.js';
