/**
 * Source 1 (and 2): every process and task in procfs, with the namespaces its
 * /proc/PID/ns/* and /proc/PID/task/TID/ns/* links name. Only readlink(2) is
 * used on the links: it is the cheapest way to learn a namespace's type and
 * inode (no fd, no stat).
 */
import type { NamespaceType } from '../model/types.js';
import { parseCgroup, parseNsfsMounts, parseStat, parseStatus } from '../procfs/parse.js';
import {
  classify,
  closeDir,
  errorText,
  listDir,
  openProcDir,
  type ProcDir,
  readCmdlineAt,
  readNsInoAt,
  readProcFileAt,
} from '../procfs/read.js';
import { scanFds } from './fds.js';
import { NAMESPACE_TYPES } from './ns-types.js';
import { addNsfsMounts, addPath, MAX_PATHS, nsEntry, type ScanState } from './state.js';

export interface ProcessSourceOptions {
  /** Attach namespaces from /proc/PID/ns (default true). */
  links: boolean;
  tasks: boolean;
  fds: boolean;
  /**
   * Read each process's mount namespace link even if mnt is not a wanted
   * type, and the nsfs mounts of each mount namespace (through its first
   * process, before that process's fds): for bind mounts and for fds opened
   * through them.
   */
  needMnt: boolean;
}

/**
 * Namespace types in which one thread can differ from its process. Not user:
 * a multi-threaded process cannot setns/unshare into another user namespace
 * (userns_install: "Threaded processes may not enter a different user
 * namespace"). Not pid or time: setns/unshare change only pid_for_children
 * and time_for_children, never the calling task's own. Skipping them saves
 * three readlinks per thread.
 */
const TASK_TYPES: ReadonlySet<NamespaceType> = new Set(['net', 'uts', 'ipc', 'mnt', 'cgroup']);

/**
 * "ns/TYPE" and "ns/TYPE_for_children", made once instead of for each of the
 * ten links of every process.
 */
const LINK = Object.fromEntries(NAMESPACE_TYPES.map((t) => [t, `ns/${t}`])) as Record<NamespaceType, string>;
const CHILD_LINK = Object.fromEntries(NAMESPACE_TYPES.map((t) => [t, `ns/${t}_for_children`])) as Record<
  NamespaceType,
  string
>;

const isPid = (name: string): boolean => {
  const c = name.charCodeAt(0);
  return c >= 48 && c <= 57;
};

/** PIDs in procfs, in directory order. */
export function listPids(procRoot: string): number[] {
  let names: string[];
  try {
    names = listDir(procRoot);
  } catch (err) {
    throw new Error(`cannot list ${procRoot}: ${errorText(err)}`);
  }
  const pids: number[] = [];
  for (const name of names) if (isPid(name)) pids.push(Number(name));
  return pids;
}

/** Scans the processes pids[from..to). */
export function scanProcessRange(
  state: ScanState,
  pids: ArrayLike<number>,
  from: number,
  to: number,
  opts: ProcessSourceOptions,
): void {
  const linkTypes = opts.links ? [...state.types] : [];
  const perTask = linkTypes.filter((t) => TASK_TYPES.has(t));
  const readMnt = opts.needMnt && !state.types.has('mnt');
  for (let i = from; i < to; i++) scanProcess(state, pids[i] as number, linkTypes, perTask, readMnt, opts);
}

function vanished(state: ScanState, pid: number, what: string): void {
  state.vanished.add(pid);
  state.warnings.push({
    code: 'process-vanished',
    message: `process ${pid} exited during the scan (${what}); skipped`,
    pid,
  });
}

function scanProcess(
  state: ScanState,
  pid: number,
  linkTypes: readonly NamespaceType[],
  perTask: readonly NamespaceType[],
  readMnt: boolean,
  opts: ProcessSourceOptions,
): void {
  const base = `${state.procRoot}/${pid}`;
  let step = 'stat';
  // Everything of this process is read through one open /proc/PID: no path
  // walk per file or link, and no read can reach a later process that got
  // the same PID (see ProcDir).
  let dir: ProcDir | undefined;
  try {
    dir = openProcDir(base);
    const stat = parseStat(readProcFileAt(dir, 'stat', true));
    if (stat === undefined) return;
    // A zombie has released its namespaces (exit_task_namespaces) and its
    // ns links no longer resolve: nothing to relate.
    if (stat.state === 'Z' || stat.state === 'X') return;
    // stat and status are the kernel's formatting of bounded fields (the
    // only text a process chooses there is its comm, at most TASK_COMM_LEN
    // = 16 bytes); cgroup has one path per hierarchy, each at most PATH_MAX.
    // The command line is the process's own and can be megabytes: capped.
    step = 'status';
    const status = parseStatus(readProcFileAt(dir, 'status', true));
    step = 'cmdline';
    const cmdline = readCmdlineAt(dir);
    step = 'cgroup';
    const cgroups = parseCgroup(readProcFileAt(dir, 'cgroup', true));

    // Namespace links: collected first and committed only when the whole
    // process was read, so an exit half-way leaves no partial relations.
    const nsOf: Partial<Record<NamespaceType, number>> = {};
    const extra: { type: NamespaceType; ino: number; path: string }[] = [];
    let denied: string | undefined;
    step = 'ns';
    for (const type of linkTypes) {
      try {
        const ino = readNsInoAt(dir, LINK[type]);
        if (ino !== undefined) nsOf[type] = ino;
      } catch (err) {
        const f = classify(err);
        if (f === 'denied') {
          denied = errorText(err);
          continue;
        }
        throw err;
      }
      // pid_for_children / time_for_children can name a namespace no process
      // is in yet: after unshare(CLONE_NEWPID) until the first fork, after
      // unshare(CLONE_NEWTIME) until the next fork or exec.
      if ((type === 'pid' || type === 'time') && nsOf[type] !== undefined) {
        const child = CHILD_LINK[type];
        try {
          const ino = readNsInoAt(dir, child);
          if (ino !== undefined && ino !== nsOf[type]) extra.push({ type, ino, path: `${base}/${child}` });
        } catch {
          // Not an exit: a new PID namespace cannot be named until its first
          // process exists (pidns_for_children_get returns NULL while it has
          // no child_reaper), so readlink fails with ENOENT until then.
        }
      }
    }
    let mnt = nsOf.mnt;
    if (readMnt) {
      try {
        mnt = readNsInoAt(dir, LINK.mnt);
      } catch (err) {
        if (classify(err) !== 'denied') throw err;
      }
    }

    if (opts.needMnt && mnt !== undefined && denied === undefined) {
      step = 'mountinfo';
      readMounts(state, dir, pid, mnt);
    }

    // Tasks: only multi-threaded processes have tasks other than the main
    // one, whose links equal /proc/PID/ns. A thread that called setns()
    // is attached to a different namespace than its process.
    const taskNs: { type: NamespaceType; ino: number; path: string }[] = [];
    if (opts.tasks && status.threads > 1 && perTask.length > 0 && denied === undefined) {
      step = 'tasks';
      for (const tid of listDir(`${base}/task`)) {
        if (tid === String(pid)) continue;
        for (const type of perTask) {
          const name = `task/${tid}/ns/${type}`;
          try {
            const ino = readNsInoAt(dir, name);
            if (ino !== undefined && ino !== nsOf[type]) taskNs.push({ type, ino, path: `${base}/${name}` });
          } catch {
            // A thread that exits is not a process exit: its process and
            // other tasks remain valid.
            break;
          }
        }
      }
    }

    state.processes.set(pid, {
      pid,
      ppid: stat.ppid,
      starttime: stat.starttime,
      comm: stat.comm,
      cmdline: cmdline.args,
      ...(cmdline.truncated ? { cmdlineTruncated: true } : {}),
      uid: status.uid,
      cgroups,
      capBnd: status.capBnd,
      namespaces: nsOf,
      nspid: status.nspid,
    });
    if (mnt !== undefined) state.mntOf.set(pid, mnt);
    if (denied !== undefined) {
      state.warnings.push({
        code: 'proc-denied',
        message: `cannot read the namespaces of process ${pid} (${stat.comm}): ${denied}; skipped`,
        pid,
      });
    }
    for (const type of linkTypes) {
      const ino = nsOf[type];
      if (ino === undefined) continue;
      const e = nsEntry(state, type, ino);
      e.processes.add(pid);
      // Shared namespaces (the host's) meet every process: build the path only if kept.
      if (e.paths.length < MAX_PATHS) addPath(e, { path: `${base}/${LINK[type]}`, rank: 1, pid });
    }
    for (const t of taskNs) {
      const e = nsEntry(state, t.type, t.ino);
      e.processes.add(pid);
      addPath(e, { path: t.path, rank: 2, pid });
    }
    for (const t of extra) {
      const e = nsEntry(state, t.type, t.ino);
      e.forChildren.add(pid);
      addPath(e, { path: t.path, rank: 2, pid });
    }
    if (opts.fds && denied === undefined) {
      step = 'fd';
      scanFds(state, pid, stat.starttime, dir);
    }
  } catch (err) {
    const f = classify(err);
    if (f === 'vanished') {
      state.processes.delete(pid);
      vanished(state, pid, step);
      return;
    }
    state.warnings.push({
      code: f === 'denied' ? 'proc-denied' : 'proc-unreadable',
      message: `cannot read ${step} of process ${pid}: ${errorText(err)}; skipped`,
      pid,
    });
  } finally {
    if (dir !== undefined) closeDir(dir);
  }
}

/** Reads of one mount namespace's mountinfo tried in the process scan before leaving it to the bind mount pass. */
const MOUNT_TRIES = 2;

/**
 * The nsfs mounts of mount namespace `mnt`, read through process `pid` (open
 * as `dir`) if no process of that namespace was read yet; mount points are
 * relative to that process's root. Accepted only if the process is still in
 * `mnt` after the read (it may have called setns/unshare). Throws only when
 * the process exited; a process that cannot show it leaves it to the next
 * one (and finally to the bind mount pass, which warns).
 */
function readMounts(state: ScanState, dir: ProcDir, pid: number, mnt: number): void {
  if (mnt === state.ownMnt || state.mounts.has(mnt)) return;
  const tries = state.mountTries.get(mnt) ?? 0;
  if (tries >= MOUNT_TRIES) return;
  state.mountTries.set(mnt, tries + 1);
  let text: string;
  try {
    text = readProcFileAt(dir, 'mountinfo');
    if (readNsInoAt(dir, LINK.mnt) !== mnt) return;
  } catch (err) {
    if (classify(err) === 'vanished') throw err;
    return;
  }
  const list = parseNsfsMounts(text);
  state.mounts.set(mnt, { pid, list });
  addNsfsMounts(state, list);
}
