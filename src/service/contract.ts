/**
 * The service's HTTP API contract beyond the native model: the drift report
 * of `/api/verify`, the change events of `/api/events` and the summary they
 * carry. One definition for the service and the web UI (web/src), which
 * imports it type-only. Pure types: no values and no imports (at most types
 * from src/model/), because the web is type-checked without node
 * types and its bundle takes nothing from here.
 */

import type { Drift } from '../model/changes.js';

// The drift of lab/check/verify.ts (defined in the model's vocabulary), served as it is.
export type { Drift };

/** A declared interface absent from a live namespace. */
export interface Ghost {
  netns: number;
  name: string;
  kind: string;
  node: string;
}

/** A difference as /api/verify serves it: with the ghosts the wiring view draws for it. */
export type ServiceDrift = Drift & { ghosts?: Ghost[] };

export interface LabReport {
  lab: string;
  file: string;
  clean: boolean;
  drift: ServiceDrift[];
  /** Network namespace inode per node (absent: not running). */
  nodes: Record<string, number | undefined>;
  /** Why the lab could not be verified this time (the drift is then empty and `clean` false). */
  error?: string;
}

/** GET /api/verify. */
export interface VerifyReport {
  /** Discovery this report belongs to (its startedAt). */
  startedAt: string;
  clean: boolean;
  labs: LabReport[];
  /** The lab files could not be loaded (the drift is then unknown). */
  error?: string;
}

/** What a change event carries: counts only, the UI fetches /api/verify for the details. */
export interface DriftSummary {
  clean: boolean;
  error?: string;
  labs: { lab: string; clean: boolean; missing: number; extra: number; changed: number; error?: string }[];
}

/** An interface by stable identity (netns inode, ifindex) and its name. */
export interface InterfaceChange {
  netns: number;
  index: number;
  name: string;
}

/** What changed between two discoveries (src/service/diff.ts). */
export interface ChangeSet {
  namespaces: { added: number[]; removed: number[]; changed: number[] };
  interfaces: { added: InterfaceChange[]; removed: InterfaceChange[]; changed: InterfaceChange[] };
  containers: { added: string[]; removed: string[]; changed: string[] };
}

/** /api/events, event `hello`: sent on every (re)connect, so a client can tell it missed a generation. */
export interface HelloEvent {
  generation: number;
}

/** /api/events, event `change`: after each discovery that changed the model or the drift. */
export interface ChangeEvent {
  generation: number;
  /** The discovery's startedAt. */
  startedAt: string;
  changes: ChangeSet;
  /** With `serve --verify`: the lab drift after this discovery (details at /api/verify). */
  drift?: DriftSummary;
}

/** The neighbourhood check's shapes (`/api/check/:target`), for the web UI. */
export type { CheckResult, Neighbourhood, Quality, Verdict } from '../check/types.js';
