/**
 * Where a hub learns which agents (per-node `wirescope serve` instances) to
 * follow. A source is a fixed list of URLs (`--agent`) or something that
 * changes over time (the endpoints of the agents' headless Service in
 * Kubernetes); the hub only sees the current set through `onChange`.
 */

/** One agent to follow. */
export interface AgentTarget {
  /**
   * The node's name when the source knows it (a `NAME=URL` argument, the
   * endpoint's `nodeName`); otherwise the hub takes the name the agent reports.
   */
  readonly name?: string;
  /** Base URL of the agent's service, e.g. `http://10.0.0.5:5000`. */
  readonly url: string;
}

export interface AgentSource {
  /** A short human description for logs and `/api/nodes` (e.g. "kubernetes endpoints wirescope/wirescope-agents"). */
  readonly description: string;
  /**
   * Starts following; calls `onChange` with the whole current set each time it
   * changes (at least once, as soon as it is known) and `onError` with a
   * one-line message when the source cannot be read (it keeps trying).
   */
  start(onChange: (targets: readonly AgentTarget[]) => void, onError: (message: string) => void): void;
  /** Stops following and releases sockets and timers. */
  stop(): void;
}
