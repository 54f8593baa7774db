/**
 * The value lists of the Ghostwire v1 schema that the transform needs at run
 * time. They live apart from schema.ts so that rendering a document loads no
 * TypeBox (only publishing or validating the schema does); schema.ts builds
 * its unions from them and re-exports them.
 */

export const RouteTypes = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
] as const;

export const ContainerStatuses = [
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
] as const;
