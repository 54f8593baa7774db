/**
 * Stage 1 of the pipeline: every namespace of the host and every process
 * attached to one, read from procfs in-process (ARCHITECTURE.md "The pipeline"). Namespaces are
 * found from all places that can hold them, like lxkns does — process and
 * task ns links, fds, nsfs bind mounts in every mount namespace — then
 * described once each through the kernel (owner, parent, owner UID), and
 * leaders are derived from the process tree.
 *
 * Faults never abort the scan; each becomes a warning and the scan goes on:
 *  - "process-vanished": a process exited (or its PID changed hands) while it
 *    was read; it and every relation through it are dropped;
 *  - "namespace-vanished": no path opens the namespace any more (its last
 *    holder went away during the scan); it is dropped;
 *  - "proc-denied" / "proc-unreadable": a process's /proc entries could not
 *    be read (EACCES on /proc/1/ns/* even for root in some sandboxes); the
 *    process is kept with the namespaces that were readable;
 *  - "holder-vanished": a bind mount or fd went away; the namespace stays
 *    through its other holders;
 *  - "namespace-denied": found, but not openable; owner and parent unknown;
 *  - "mountinfo-unreadable": bind mounts of one mount namespace not listed;
 *  - "scan-helper-failed": the helper thread failed; scanned on one thread.
 */
import { nsfsDev } from '../kernel/nsfs.js';
import type { Draft, NamespaceType } from '../model/types.js';
import { parseStatus } from '../procfs/parse.js';
import { readNsIno, readProcFile } from '../procfs/read.js';
import { type OwnMounts, readOwnMounts, scanBindMounts } from './bindmounts.js';
import { resolveHierarchy } from './hierarchy.js';
import { leadersOf } from './leaders.js';
import { NAMESPACE_TYPES } from './ns-types.js';
import { type HelperMode, scanShared } from './parallel.js';
import { missingPrivileges } from './privileges.js';
import { listPids } from './procs.js';
import { addNsfsPaths, type FdOwners, newState, type ScanState } from './state.js';

export type { FdOwners };

/** Points between the scan's phases, for tests that change the host mid-scan. */
export type ScanPhase = 'processes' | 'bindmounts' | 'hierarchy';

/** Below this many processes a helper thread costs more than it saves. */
export const PARALLEL_MIN = 256;

export interface NamespaceScanOptions {
  /** Namespace types to discover (default: all eight). */
  namespaceTypes?: readonly NamespaceType[];
  /** Sources to scan (default: all). */
  sources?: { processes?: boolean; tasks?: boolean; fds?: boolean; bindMounts?: boolean };
  /** procfs root, for tests (default /proc). */
  procRoot?: string;
  /**
   * Share the process scan with a helper thread: true always (starting it if
   * needed), false never. Default: from the second scan of a process on, when
   * there are at least PARALLEL_MIN processes and WIRESCOPE_SCAN_THREADS is
   * not "0" — a one-shot command does not pay for starting the thread.
   */
  threads?: boolean;
  /** Tests: with threads, let the helper claim work first (wait up to this many ms). */
  helperFirstMs?: number;
  /** Test hook: called after each phase has finished. */
  onPhase?: (phase: ScanPhase) => void;
}

export interface NamespaceScan {
  /** By namespace inode (decimal string). */
  namespaces: Record<string, Draft.Namespace>;
  /** By PID (decimal string); identity is (pid, starttime). */
  processes: Record<string, Draft.Process>;
  initial: Draft.Discovery['initial'];
  warnings: Draft.Warning[];
  missingPrivileges: Draft.Discovery['missingPrivileges'];
  /** wirescope's own mount namespace: bind mounts in it are reachable by their path as is. */
  ownMntns?: number;
  /**
   * Socket inodes → holding (pid, fd) and fds open on /dev/net/tun, collected
   * in the readlink pass over /proc/PID/fd that finds namespace fds; the
   * network stage takes socket owners and tap holders from here. Absent when
   * the fd source was off (`sources.fds: false`): nothing was scanned then.
   */
  fdOwners?: FdOwners;
}

export function scanNamespaces(options: NamespaceScanOptions = {}): NamespaceScan {
  const procRoot = options.procRoot ?? '/proc';
  const types = new Set<NamespaceType>(options.namespaceTypes ?? NAMESPACE_TYPES);
  const src = options.sources ?? {};
  const state = newState(procRoot, types);

  const withMounts = src.bindMounts !== false || src.fds !== false;
  // nsfs mount points are what fds opened through bind mounts read back as
  // (fds.ts): ours are read first, those of other mount namespaces during
  // the process scan; the ones the last scan saw are looked for as well, so
  // an fd of one mount namespace opened through a mount of another read
  // later in the scan is found from the next scan on.
  const own = withMounts ? readOwnMounts(state) : undefined;
  if (withMounts) addNsfsPaths(state, lastNsfsPaths);
  const pids = listPids(procRoot);
  scanShared(
    state,
    pids,
    {
      links: src.processes !== false,
      tasks: src.tasks !== false,
      fds: src.fds !== false,
      needMnt: withMounts,
    },
    helperMode(options.threads, pids.length),
    options.helperFirstMs,
  );
  options.onPhase?.('processes');
  if (src.bindMounts !== false && own !== undefined) scanBindMounts(state, own);
  if (withMounts) lastNsfsPaths = nsfsMountPoints(own, state);
  options.onPhase?.('bindmounts');
  resolveHierarchy(state);
  options.onPhase?.('hierarchy');

  return {
    ...toModel(state),
    initial: initialNamespaces(state),
    warnings: state.warnings,
    missingPrivileges: ownMissingPrivileges(procRoot),
    ...ownMnt(procRoot),
    ...(src.fds !== false ? { fdOwners: liveOwners(state) } : {}),
  };
}

/** nsfs mount points seen by the last scan, in any mount namespace. */
let lastNsfsPaths: string[] = [];

function nsfsMountPoints(own: OwnMounts | undefined, state: ScanState): string[] {
  const out = new Set<string>();
  if (own !== undefined && 'list' in own) for (const m of own.list) out.add(m.mountPoint);
  for (const { list } of state.mounts.values()) for (const m of list) out.add(m.mountPoint);
  return [...out];
}

/** The fd owners without processes that turned out to have exited (see toModel). */
function liveOwners(state: ScanState): FdOwners {
  const { sockets, tuns } = state.owners;
  if (state.vanished.size === 0) return state.owners;
  const live = new Map<number, number[]>();
  for (const [ino, holders] of sockets) {
    const keep: number[] = [];
    for (let i = 0; i < holders.length; i += 2) {
      if (!state.vanished.has(holders[i] as number))
        keep.push(holders[i] as number, holders[i + 1] as number);
    }
    if (keep.length > 0) live.set(ino, keep);
  }
  return { sockets: live, tuns: tuns.filter((t) => !state.vanished.has(t.pid)) };
}

let scans = 0;

function helperMode(threads: boolean | undefined, processes: number): HelperMode {
  scans++;
  if (threads !== undefined) return threads ? 'always' : 'never';
  if (process.env.WIRESCOPE_SCAN_THREADS === '0' || processes < PARALLEL_MIN || scans === 1) return 'never';
  return 'warm';
}

function toModel(state: ScanState): Pick<NamespaceScan, 'namespaces' | 'processes'> {
  const processes: Record<string, Draft.Process> = {};
  for (const [pid, p] of [...state.processes].sort((a, b) => a[0] - b[0])) {
    if (!state.vanished.has(pid)) processes[pid] = p;
  }
  const ppidOf = (pid: number): number | undefined => processes[pid]?.ppid;
  const namespaces: Record<string, Draft.Namespace> = {};
  for (const e of [...state.namespaces.values()].sort((a, b) => a.ino - b.ino)) {
    const members = new Set([...e.processes].filter((pid) => !state.vanished.has(pid)));
    const fds = e.fds.filter((f) => !state.vanished.has(f.pid));
    const forChildren = [...e.forChildren].filter((pid) => !state.vanished.has(pid)).sort((a, b) => a - b);
    // Held by nothing that still exists: it went away with its last holder.
    if (
      members.size === 0 &&
      e.bindMounts.length === 0 &&
      fds.length === 0 &&
      !e.hidden &&
      forChildren.length === 0
    ) {
      continue;
    }
    const ns: Draft.Namespace = {
      type: e.type,
      ino: e.ino,
      dev: nsfsDevOr0(),
      processes: [...members].sort((a, b) => a - b),
      leaders: leadersOf(members, ppidOf),
      bindMounts: e.bindMounts,
      fds,
    };
    if (e.owner !== undefined) ns.owner = e.owner;
    if (e.parent !== undefined) ns.parent = e.parent;
    if (e.ownerUid !== undefined) ns.ownerUid = e.ownerUid;
    if (e.ref !== undefined) ns.ref = e.ref;
    if (forChildren.length > 0) ns.forChildrenOf = forChildren;
    namespaces[e.ino] = ns;
  }
  return { namespaces, processes };
}

/** nsfs's device (see kernel/nsfs.ts); 0 if unknown. */
function nsfsDevOr0(): number {
  return Math.max(0, nsfsDev());
}

/**
 * The host's initial namespaces: PID 1's, unless its links are unreadable
 * (in some sandboxes even root gets EACCES); then kthreadd's (PID 2
 * with no parent, a kernel thread, always in the initial namespaces); then
 * our own.
 */
function initialNamespaces(state: ScanState): Draft.Discovery['initial'] {
  const out: Draft.Discovery['initial'] = {};
  const candidates = [state.processes.get(1)];
  const kthreadd = state.processes.get(2);
  if (kthreadd && kthreadd.ppid === 0 && kthreadd.comm === 'kthreadd') candidates.push(kthreadd);
  candidates.push(state.processes.get(process.pid));
  for (const type of state.types) {
    for (const p of candidates) {
      const ino = p?.namespaces[type];
      if (ino !== undefined) {
        out[type] = ino;
        break;
      }
    }
  }
  return out;
}

function ownMnt(procRoot: string): { ownMntns?: number } {
  try {
    const ino = readNsIno(`${procRoot}/self/ns/mnt`);
    return ino === undefined ? {} : { ownMntns: ino };
  } catch {
    return {};
  }
}

function ownMissingPrivileges(procRoot: string): Draft.Discovery['missingPrivileges'] {
  try {
    return missingPrivileges(parseStatus(readProcFile(`${procRoot}/self/status`)).capEff);
  } catch {
    return [];
  }
}
