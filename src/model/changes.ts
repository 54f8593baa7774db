/**
 * The vocabulary of differences, shared by the change lines of `watch` and the
 * web UI (views/changes.ts), lab drift (lab/check/verify.ts) and the service's API
 * contract (service/contract.ts). Pure types: the web UI imports this file
 * type-only and is type-checked without node types; `Drift` is derived from its
 * TypeBox schema (schema.ts), imported type-only, like the model's types.
 */

import type { Static } from '@sinclair/typebox';
import type { DriftSchema } from './schema.js';

/**
 * `+` added (present, undeclared), `-` removed (declared, missing),
 * `~` changed (declared X, found Y).
 */
export type ChangeOp = '+' | '-' | '~';

/** One difference between a lab file and the kernel (`wirescope verify`, src/lab/check/verify.ts). */
export type Drift = Static<typeof DriftSchema>;
