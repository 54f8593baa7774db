/** Messages between the network stage and its namespace workers, and what a worker returns per namespace. */
import type { Draft } from '../model/types.js';

export interface DumpOptions {
  sockets: boolean;
  neighbours: boolean;
  rules: boolean;
  /**
   * Open each cached namespace's change monitor, for warm runs
   * (default true). A one-shot discovery runs once: a monitor is a multicast bind, and
   * each such bind and close walks every bound listener of the protocol in every
   * namespace under the global netlink table lock (netlink_update_listeners), so 1000
   * monitors cost O(n²) — a third of a cold pass's worker time at 1000 namespaces.
   */
  track?: boolean;
  /**
   * Also look, while inside each namespace anyway, whether it holds any nf_tables table or
   * legacy ip(6)_tables "nat" table (NsDump.natFree): the forwarded-ports decorator then reads
   * only namespaces that do, instead of entering every namespace again on its own thread.
   */
  netfilter?: boolean;
}

export interface NsJob {
  ino: number;
  /** Path that opens the namespace (/proc/PID/ns/net, a bind mount, /proc/PID/fd/N). */
  ref: string;
  /** Fallback refs, tried in order when `ref` fails (the holder process may have exited). */
  altRefs: string[];
  /** The host namespace (sysfs shows it): kind-less devices are classified via /sys/class/net too. */
  host: boolean;
  /**
   * Incremental discovery: the main thread holds this namespace's previous result, so the worker
   * may answer `unchanged` when its monitor saw no change since (no dump at all).
   */
  reuse?: boolean;
}

/**
 * A relation of interface `i` (position in `interfaces`) that names an ifindex
 * in a namespace known only by its nsid (IFLA_LINK_NETNSID, relative to this
 * namespace); resolved on the main thread once nsids are mapped to inodes.
 */
export interface CrossRef {
  i: number;
  field: 'link' | 'lower';
  nsid: number;
  index: number;
}

export interface NsDump {
  ino: number;
  interfaces: Draft.Interface[];
  routes: Draft.Route[];
  rules: Draft.Rule[];
  neighbours: Draft.Neighbour[];
  /** Sockets without owners (filled on the main thread from the /proc fd scan). */
  sockets: Draft.Socket[];
  cross: CrossRef[];
  /** The namespace-wide "all" forwarding switches (RTM_GETNETCONF). */
  forwarding?: { ipv4?: boolean; ipv6?: boolean };
  warnings: Draft.Warning[];
  /** The namespace could not be read at all (vanished or denied). */
  failed?: boolean;
  /** Whether the sockets for this namespace stay cached (they keep it alive) after this run. */
  cached: boolean;
  /**
   * Worker to pool only: the interfaces' addresses are left out, unchanged since this worker last
   * sent them (the pool puts them back by ifindex and removes the flag).
   */
  addrsUnchanged?: boolean;
  /**
   * Worker to pool only: nothing was dumped, the monitor saw no change since the previous run
   * (NsJob.reuse); the pool puts back the result it kept (every other field is empty).
   */
  unchanged?: boolean;
  /**
   * DumpOptions.netfilter: at dump time the namespace held no nf_tables table at all and no
   * legacy "nat" table, so it forwards no port through DNAT. Absent when it holds some or could
   * not be asked (the decorator then reads it and reports why).
   */
  natFree?: boolean;
}

export interface NsidQuery {
  /** The namespace whose view of nsids is asked. */
  ino: number;
  /** Namespaces to ask about, with refs to open them. */
  targets: { ino: number; ref: string }[];
}

export interface NsidAnswer {
  ino: number;
  /** nsid (as assigned in `ino`) → target inode, for every target that has one. */
  found: [number, number][];
}

export type WorkerRequest =
  | { op: 'dump'; id: number; jobs: NsJob[]; options: DumpOptions; keep: number[]; cacheLimit: number }
  | { op: 'nsid'; id: number; queries: NsidQuery[] }
  | { op: 'release'; id: number; keep: number[] };

export type WorkerResponse =
  | {
      op: 'dump';
      id: number;
      /** JSON of NsDump[] (the rest after any parts). */
      dumps: string;
      fds: number[];
      /** Set on the main thread: all parts and the rest, parsed. */
      parsed?: NsDump[];
    }
  /** Part of a dump answer sent ahead (JSON of NsDump[]). */
  | { op: 'part'; id: number; dumps: string }
  | { op: 'nsid'; id: number; answers: NsidAnswer[]; warnings: Draft.Warning[] }
  | { op: 'release'; id: number }
  | { op: 'error'; id: number; message: string };
