/**
 * The hub's HTTP contract as TypeScript types: the merged document
 * (`/api/discovery`), the node list (`/api/nodes`), the hub's change events
 * and health. Pure types with type-only imports, shared with the web UI
 * (web/src imports this file type-only, like service/contract.ts).
 *
 * Identity across nodes: an object's id on its node (namespace inode,
 * (netns, ifindex), container id) is unique only on that node (inode numbers
 * are per kernel: every host's initial network namespace has the same one).
 * In the merged document every object lives under its node's entry, so the
 * pair (node name, id) is unique; written as one string it is
 * `NODE/INO`, `NODE/INO/IFINDEX`, `NODE/CONTAINER-ID` (hubId in merge.ts).
 */
import type { Discovery } from '../model/types.js';

export type AgentState = 'connecting' | 'fresh' | 'stale';

/** An interface anywhere in the cluster: its node's name, then its identity on that node. */
export interface NodeInterfaceRef {
  readonly node: string;
  readonly netns: number;
  readonly index: number;
  readonly name: string;
}

export type OverlayKind = 'vxlan' | 'geneve';

/** A wire between nodes (overlay.ts says how they are found). */
export interface OverlayWire {
  readonly kind: OverlayKind;
  readonly vni: number;
  /** UDP destination port, as the kernel reports it (absent when the model does not say). */
  readonly port?: number;
  readonly from: NodeInterfaceRef;
  /** The underlay address `from` sends to. */
  readonly remote: string;
  /**
   * linked: `to` is the counterpart; unmatched: `remoteNodes` own the address but none has a
   * device of this kind, VNI and port; leaves-cluster: no node owns the address.
   */
  readonly status: 'linked' | 'unmatched' | 'leaves-cluster';
  readonly to?: NodeInterfaceRef;
  /** The nodes that own `remote` (linked, unmatched). */
  readonly remoteNodes?: readonly string[];
}

/** What the hub knows of one node without its model (`/api/nodes`, and each node of the document). */
export interface NodeSummary {
  readonly name: string;
  /** The agent's base URL. */
  readonly url: string;
  /** fresh: following its changes; stale: unreachable, its last model kept; connecting: not yet reached. */
  readonly state: AgentState;
  /** When the agent last answered (RFC 3339), null if never. */
  readonly lastSeen: string | null;
  /** Why it is stale or not yet reached (one line), else null. */
  readonly error: string | null;
  /** The agent's own generation of the model held. */
  readonly generation: number;
  readonly counts: {
    readonly namespaces: number;
    readonly networks: number;
    readonly interfaces: number;
    readonly containers: number;
  };
}

/** An agent the hub follows that is not (yet) a node of the document: its name unknown, or taken. */
export interface AgentProblem {
  readonly url: string;
  readonly name: string | null;
  readonly state: AgentState;
  readonly error: string;
}

/** One node of the merged document: its summary and its own model, as its agent serves it. */
export interface HubNode extends NodeSummary {
  readonly discovery: Discovery | null;
}

/** GET /api/discovery of a hub. */
export interface HubDocument {
  readonly schema: 'wirescope/hub/v1';
  /** The hub's generation: grows with every change of any node. */
  readonly generation: number;
  /** Where the agents come from (the agent source's description). */
  readonly source: string;
  /** By node name, sorted. */
  readonly nodes: Readonly<Record<string, HubNode>>;
  readonly overlay: readonly OverlayWire[];
  /** Agents without a node entry (not yet named, or naming a node another agent already is). */
  readonly agents: readonly AgentProblem[];
}

/** GET /api/nodes. */
export interface NodesAnswer {
  readonly generation: number;
  readonly source: string;
  readonly nodes: readonly NodeSummary[];
  readonly agents: readonly AgentProblem[];
}

/** /api/events of a hub, event `change`: which nodes changed (fetch /api/discovery again). */
export interface HubChangeEvent {
  readonly generation: number;
  readonly nodes: readonly string[];
}

/** GET /healthz of a hub. */
export interface HubHealth {
  readonly status: 'ok';
  readonly hub: true;
  readonly version: string;
  readonly generation: number;
  readonly source: string;
  readonly nodes: { readonly fresh: number; readonly stale: number; readonly connecting: number };
  readonly sourceError: string | null;
}
