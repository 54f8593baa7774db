/**
 * The vocabulary of differences, shared by the change lines of `watch` and the
 * web UI (views/changes.ts), lab drift (lab/check/verify.ts) and the service's API
 * contract (service/contract.ts). Pure types: the web UI imports this file
 * type-only and is type-checked without node types.
 */

/**
 * `+` added (present, undeclared), `-` removed (declared, missing),
 * `~` changed (declared X, found Y).
 */
export type ChangeOp = '+' | '-' | '~';

/** One difference between a lab file and the kernel (`wirescope verify`, src/lab/check/verify.ts). */
export interface Drift {
  /** The object the difference belongs to, e.g. "node guest1", "link a:eth1 <-> b:eth1". */
  object: string;
  op: ChangeOp;
  /** For "~": what differs, e.g. "guest1:eth0.mtu". */
  path?: string;
  declared?: string;
  found?: string;
  /** One line: "declared, missing", "present, undeclared", or "declared X, found Y". */
  message: string;
  /** The kernel object concerned, when it exists (for the service's wiring view). */
  netns?: number;
  index?: number;
  node?: string;
}
