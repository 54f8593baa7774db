/** Compiled validators for v1 documents (tests, and the service's self-check). */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DiscoveryResultSchema, TargetDiscoveryResultSchema } from './schema.js';

let discoveryCheck: ReturnType<typeof TypeCompiler.Compile<typeof DiscoveryResultSchema>> | undefined;
let targetsCheck: ReturnType<typeof TypeCompiler.Compile<typeof TargetDiscoveryResultSchema>> | undefined;

const compiledDiscovery = () => {
  discoveryCheck ??= TypeCompiler.Compile(DiscoveryResultSchema);
  return discoveryCheck;
};
const compiledTargets = () => {
  targetsCheck ??= TypeCompiler.Compile(TargetDiscoveryResultSchema);
  return targetsCheck;
};

/** Errors of a v1 `DiscoveryResult` as "path: message" lines; empty when valid. */
export function v1Errors(doc: unknown, limit = 20): string[] {
  const c = compiledDiscovery();
  if (c.Check(doc)) return [];
  const out: string[] = [];
  for (const e of c.Errors(doc)) {
    out.push(`${e.path || '/'}: ${e.message} (${JSON.stringify(e.value)?.slice(0, 80)})`);
    if (out.length >= limit) break;
  }
  return out;
}

export const validateV1 = (doc: unknown): boolean => compiledDiscovery().Check(doc);

export function validateTargets(doc: unknown): string[] {
  const c = compiledTargets();
  if (c.Check(doc)) return [];
  return [...c.Errors(doc)].slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`);
}
