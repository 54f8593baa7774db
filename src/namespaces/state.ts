/**
 * The mutable working state of one namespace scan, shared by the sources
 * (processes/tasks, fds, bind mounts) and the hierarchy pass, turned into
 * model objects at the end.
 */
import type { Draft, NamespaceType } from '../model/types.js';
import type { NsfsMount } from '../procfs/parse.js';
import type { NsfsPaths } from '../procfs/read.js';

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

/**
 * Socket and TUN/TAP fds of the scanned processes, found in the same readlink
 * pass over /proc/PID/fd that finds namespace fds (fds.ts), so later stages
 * need no scan of their own. Every pid is a process of the scan, and its fds
 * were read between two reads of its stat with the same starttime: the pair
 * (pid, starttime) in `NamespaceScan.processes` identifies the holder.
 */
export interface FdOwners {
  /**
   * Socket inode ("socket:[N]") → its holders as flat (pid, fd) pairs:
   * pid0, fd0, pid1, fd1, … (a socket can be shared by several processes).
   */
  sockets: Map<number, number[]>;
  /**
   * fds open on /dev/net/tun. Which interface each is attached to is only in
   * /proc/PID/fdinfo/FD ("iff:"), which the network stage reads for these few.
   */
  tuns: { pid: number; fd: number }[];
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
  /** Socket and tun fds found by the fd source (empty when it is off). */
  owners: FdOwners;
  /** wirescope's own mount namespace, whose nsfs mounts were read before the process scan. */
  ownMnt?: number;
  /**
   * nsfs mounts of the other mount namespaces, each read during the process
   * scan through the first process found in it (`pid`), before that
   * process's fds: an fd opened through a bind mount reads back as its
   * mount point, so the fd pass must know the mount points first.
   */
  mounts: Map<number, { pid: number; list: NsfsMount[] }>;
  /** Attempts to read a mount namespace's mountinfo in the process scan (bounded: a denied one is not retried for each of its processes). */
  mountTries: Map<number, number>;
  /** Link texts an nsfs fd may have: "/" and every nsfs mount point known (see NsfsPaths). */
  nsfs: NsfsPaths;
  /** Namespace type by inode, from the nsfs mounts' roots: spares asking the kernel for an fd's type. */
  nsfsTypes: Map<number, NamespaceType>;
}

/** Adds nsfs mount points to those the fd pass recognises (see NsfsPaths). */
export function addNsfsPaths(state: ScanState, mountPoints: Iterable<string>): void {
  for (const mp of mountPoints) {
    // Link texts are the raw bytes of the path: compare bytes, not UTF-16.
    const raw = Buffer.from(mp, 'utf8').toString('latin1');
    state.nsfs.paths.add(raw);
    state.nsfs.lengths.add(raw.length);
  }
}

/** Records nsfs mounts for the fd pass: their mount points and their namespaces' types. */
export function addNsfsMounts(state: ScanState, list: readonly NsfsMount[]): void {
  addNsfsPaths(
    state,
    list.map((m) => m.mountPoint),
  );
  for (const m of list) state.nsfsTypes.set(m.ino, m.type);
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
    owners: { sockets: new Map(), tuns: [] },
    mounts: new Map(),
    mountTries: new Map(),
    nsfs: { paths: new Set(), lengths: new Set() },
    nsfsTypes: new Map(),
  };
}

/** Records that `pid` holds socket `ino` as `fd`. */
export function addSocket(state: ScanState, ino: number, pid: number, fd: number): void {
  const l = state.owners.sockets.get(ino);
  if (l === undefined) state.owners.sockets.set(ino, [pid, fd]);
  else l.push(pid, fd);
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
  /** Socket holders as flat (inode, pid, fd) triples. */
  sockets: number[];
  tuns: FdOwners['tuns'];
  mounts: [number, number, NsfsMount[]][];
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
    sockets: flatSockets(state.owners.sockets),
    tuns: state.owners.tuns,
    mounts: [...state.mounts].map(([mnt, m]) => [mnt, m.pid, m.list]),
  };
}

function flatSockets(m: Map<number, number[]>): number[] {
  const out: number[] = [];
  for (const [ino, holders] of m) {
    for (let i = 0; i < holders.length; i += 2) out.push(ino, holders[i] as number, holders[i + 1] as number);
  }
  return out;
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
  const s = part.sockets;
  for (let i = 0; i < s.length; i += 3)
    addSocket(state, s[i] as number, s[i + 1] as number, s[i + 2] as number);
  state.owners.tuns.push(...part.tuns);
  for (const [mnt, pid, list] of part.mounts)
    if (!state.mounts.has(mnt)) state.mounts.set(mnt, { pid, list });
}
