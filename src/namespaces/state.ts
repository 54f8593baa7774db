/**
 * The mutable working state of one namespace scan, shared by the sources
 * (processes/tasks, fds, bind mounts) and the hierarchy pass, turned into
 * model objects at the end.
 */
import type { Draft, NamespaceType } from '../model/types.js';

/**
 * A path that opens a namespace. rank orders them for `ref`: a bind mount in
 * wirescope's own mount namespace outlives any process (0), then a process's
 * ns link (1), a task's or *_for_children link (2), a bind mount reached
 * through another process's root (3), an fd of another process (4).
 */
export interface NsPath {
  path: string;
  rank: number;
  /** The process this path goes through, if any. */
  pid?: number;
}

/** At most this many paths per namespace are kept: enough to survive a few exits. */
export const MAX_PATHS = 6;

export function addPath(e: NsEntry, p: NsPath): void {
  if (e.paths.length < MAX_PATHS) e.paths.push(p);
}

export interface NsEntry {
  type: NamespaceType;
  ino: number;
  /** PIDs with at least one task attached. */
  processes: Set<number>;
  /** PIDs whose *_for_children link names this namespace (and whose own link does not). */
  forChildren: Set<number>;
  bindMounts: Draft.Namespace['bindMounts'];
  fds: Draft.Namespace['fds'];
  /**
   * Paths that open this namespace, best first; each tagged with the process
   * (pid@starttime) it depends on, if any, so a failure can be traced to an
   * exited process.
   */
  paths: NsPath[];
  owner?: number;
  parent?: number;
  ownerUid?: number;
  ref?: string;
  /** Found only through NS_GET_USERNS / NS_GET_PARENT of another namespace. */
  hidden?: boolean;
}

export interface ScanState {
  procRoot: string;
  types: ReadonlySet<NamespaceType>;
  namespaces: Map<number, NsEntry>;
  processes: Map<number, Draft.Process>;
  /** Mount namespace of every process, needed for bind mounts even when mnt is not a wanted type. */
  mntOf: Map<number, number>;
  warnings: Draft.Warning[];
  /** Processes that exited during the scan (by pid). */
  vanished: Set<number>;
}

export function newState(procRoot: string, types: ReadonlySet<NamespaceType>): ScanState {
  return {
    procRoot,
    types,
    namespaces: new Map(),
    processes: new Map(),
    mntOf: new Map(),
    warnings: [],
    vanished: new Set(),
  };
}

export function nsEntry(state: ScanState, type: NamespaceType, ino: number): NsEntry {
  let e = state.namespaces.get(ino);
  if (e === undefined) {
    e = { type, ino, processes: new Set(), forChildren: new Set(), bindMounts: [], fds: [], paths: [] };
    state.namespaces.set(ino, e);
  }
  return e;
}

/** What a helper thread found in its share of the processes (structured-clone friendly). */
export interface PartialScan {
  processes: Draft.Process[];
  namespaces: {
    type: NamespaceType;
    ino: number;
    processes: number[];
    forChildren: number[];
    fds: Draft.Namespace['fds'];
    paths: NsPath[];
  }[];
  mntOf: [number, number][];
  warnings: Draft.Warning[];
  vanished: number[];
}

export function toPartial(state: ScanState): PartialScan {
  return {
    processes: [...state.processes.values()],
    namespaces: [...state.namespaces.values()].map((e) => ({
      type: e.type,
      ino: e.ino,
      processes: [...e.processes],
      forChildren: [...e.forChildren],
      fds: e.fds,
      paths: e.paths,
    })),
    mntOf: [...state.mntOf],
    warnings: state.warnings,
    vanished: [...state.vanished],
  };
}

export function mergePartial(state: ScanState, part: PartialScan): void {
  for (const p of part.processes) state.processes.set(p.pid, p);
  for (const n of part.namespaces) {
    const e = nsEntry(state, n.type, n.ino);
    for (const pid of n.processes) e.processes.add(pid);
    for (const pid of n.forChildren) e.forChildren.add(pid);
    e.fds.push(...n.fds);
    for (const p of n.paths) addPath(e, p);
  }
  for (const [pid, mnt] of part.mntOf) state.mntOf.set(pid, mnt);
  state.warnings.push(...part.warnings);
  for (const pid of part.vanished) state.vanished.add(pid);
}
