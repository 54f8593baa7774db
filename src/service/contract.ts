/**
 * The service's HTTP API contract beyond the native model, as TypeScript
 * types: the drift report of `/api/verify`, the events of `/api/events` and the
 * summary they carry, problem documents, the small answers. Each is derived
 * from its TypeBox schema in schema.ts (which openapi.ts publishes), so the
 * types, the document and the answers cannot drift apart. One definition for
 * the service and the web UI (web/src), which imports this file type-only:
 * pure types, with type-only imports, because the web is type-checked without
 * node types and its bundle takes nothing from here.
 */

import type { Static } from '@sinclair/typebox';
import type { Drift } from '../model/changes.js';
import type * as S from './schema.js';

// The drift of lab/check/verify.ts (defined in the model's vocabulary), served as it is.
export type { Drift };

/** A declared interface absent from a live namespace. */
export type Ghost = Static<typeof S.GhostSchema>;

/** A difference as /api/verify serves it: with the ghosts the wiring view draws for it. */
export type ServiceDrift = Static<typeof S.ServiceDriftSchema>;

export type LabReport = Static<typeof S.LabReportSchema>;

/** GET /api/verify. */
export type VerifyReport = Static<typeof S.VerifyReportSchema>;

/** What a change event carries: counts only, the UI fetches /api/verify for the details. */
export type DriftSummary = Static<typeof S.DriftSummarySchema>;

/** An interface by stable identity (netns inode, ifindex) and its name. */
export type InterfaceChange = Static<typeof S.InterfaceChangeSchema>;

/** What changed between two discoveries (src/service/diff.ts). */
export type ChangeSet = Static<typeof S.ChangeSetSchema>;

/** /api/events, event `hello`: sent on every (re)connect, so a client can tell it missed a generation. */
export type HelloEvent = Static<typeof S.HelloEventSchema>;

/** /api/events, event `change`: after each discovery that changed the model or the drift. */
export type ChangeEvent = Static<typeof S.ChangeEventSchema>;

/** One operation of a change event's JSON Patch (RFC 6902): add, remove or replace. */
export type PatchOp = Static<typeof S.PatchOpSchema>;

/** Event `error` of /api/events and of a check's stream. */
export type StreamError = Static<typeof S.StreamErrorSchema>;

/** /api/check/:target as server-sent events, event `neighbourhood`: before any packet is sent. */
export type CheckNeighbourhoodEvent = Static<typeof S.CheckNeighbourhoodEventSchema>;

/** GET /version (Packetflix). */
export type Version = Static<typeof S.VersionSchema>;

/** GET /healthz, before the facts `serve` adds. */
export type Health = Static<typeof S.HealthSchema>;

/** The neighbourhood check's shapes (`/api/check/:target`), for the web UI. */
export type { CheckResult, Neighbourhood, Quality, Verdict } from '../check/types.js';
