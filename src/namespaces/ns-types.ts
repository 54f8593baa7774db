/**
 * The eight namespace types, as a plain constant: the scan and the
 * `namespaces` command need only this list from model/schema.ts, and
 * importing that module builds the TypeBox schemas of the whole model
 * (about 50 ms of module loading, a fifth of a one-shot command). A test
 * keeps it equal to schema's NamespaceTypes.
 */
import type { NamespaceType } from '../model/types.js';

export const NAMESPACE_TYPES = [
  'cgroup',
  'ipc',
  'mnt',
  'net',
  'pid',
  'time',
  'user',
  'uts',
] as const satisfies readonly NamespaceType[];
