/**
 * Namespace details only the kernel knows, asked once per distinct namespace
 * through an nsfs fd (ioctl_ns(2)): owning user namespace (NS_GET_USERNS),
 * parent of pid and user namespaces (NS_GET_PARENT), owner UID of user
 * namespaces (NS_GET_OWNER_UID). Namespaces reached only this way (a user
 * namespace that owns others but has no process, an intermediate PID
 * namespace) are added as "hidden" ones.
 */
import {
  close,
  EINVAL,
  ioctl,
  NS_GET_PARENT,
  NS_GET_USERNS,
  nsGetOwnerUid,
  SyscallError,
} from '../kernel/libc.js';
import { NsMismatchError, openNs } from '../kernel/nsfs.js';
import type { NamespaceType } from '../model/types.js';
import { parseStat } from '../procfs/parse.js';
import { classify, errorText, fdIno, readProcFile } from '../procfs/read.js';
import { type NsEntry, type NsPath, nsEntry, type ScanState } from './state.js';

/**
 * Inode behind an nsfs fd of ours. fstat, not readlink: an fd opened through
 * a bind mount reads back as the mount path, not as "net:[…]".
 */
function inoOfFd(fd: number): number {
  return fdIno(fd);
}

export function resolveHierarchy(state: ScanState): void {
  for (const e of [...state.namespaces.values()]) {
    const fd = openEntry(state, e);
    if (fd === undefined) continue;
    try {
      describe(state, e, fd);
    } finally {
      close(fd);
    }
  }
}

/**
 * Opens the namespace through its best path whose fd really is this
 * namespace (a path can now lead elsewhere: PID reused, bind mount replaced);
 * sets `ref` to that path. On failure decides between "vanished" and
 * "denied" and records the consequences.
 */
function openEntry(state: ScanState, e: NsEntry): number | undefined {
  const paths = [...e.paths].sort((a, b) => a.rank - b.rank);
  let denied: unknown;
  let lastErr: unknown;
  for (const p of paths) {
    if (p.pid !== undefined && state.vanished.has(p.pid)) continue;
    try {
      // Without blocking (the path could now be a FIFO) and only if it is
      // still this namespace (see nsfs.ts).
      const fd = openNs(p.path, e.ino);
      e.ref = p.path;
      return fd;
    } catch (err) {
      if (err instanceof NsMismatchError) {
        // Another namespace now: not "vanished" for the message below.
        dropStaleHolder(state, e, p);
        continue;
      }
      if (err instanceof SyscallError && err.denied) denied = err;
      else if (err instanceof SyscallError && (err.vanished || err.errno === EINVAL))
        dropStaleHolder(state, e, p);
      lastErr = err;
    }
  }
  if (paths.length === 0) return undefined;
  if (denied !== undefined) {
    state.warnings.push({
      code: 'namespace-denied',
      message: `cannot open ${e.type} namespace ${e.ino}: ${errorText(denied)}; owner and parent unknown`,
      ns: e.ino,
    });
    return undefined;
  }
  // Every path failed because its holder went away (or now leads to another
  // namespace). Find out which processes exited so no relation to them stays.
  for (const pid of e.processes) {
    const proc = state.processes.get(pid);
    if (proc === undefined || state.vanished.has(pid)) continue;
    if (!stillRunning(state, pid, proc.starttime)) {
      state.vanished.add(pid);
      state.warnings.push({
        code: 'process-vanished',
        message: `process ${pid} (${proc.comm}) exited during the scan; skipped`,
        pid,
      });
    } else if (proc.namespaces[e.type] === e.ino) {
      // Alive but no longer in this namespace (setns/unshare after we read the link).
      delete proc.namespaces[e.type];
    }
  }
  e.processes.clear();
  e.fds = e.fds.filter((f) => !state.vanished.has(f.pid));
  state.warnings.push({
    code: 'namespace-vanished',
    message: `${e.type} namespace ${e.ino} went away during the scan (${lastErr === undefined ? 'path reused' : errorText(lastErr)}); skipped`,
    ns: e.ino,
  });
  state.namespaces.delete(e.ino);
  return undefined;
}

/**
 * A bind mount that was unmounted, or an fd that was closed, after it was
 * found no longer holds the namespace: drop that holder (the namespace may
 * still be held otherwise). Process links are settled by the caller.
 */
function dropStaleHolder(state: ScanState, e: NsEntry, p: NsPath): void {
  let what: string | undefined;
  if (p.rank === 0 || p.rank === 3) {
    const before = e.bindMounts.length;
    e.bindMounts = e.bindMounts.filter((b) => b.reachablePath !== p.path);
    if (e.bindMounts.length < before) what = `bind mount ${p.path}`;
  } else if (p.rank === 4 && p.pid !== undefined) {
    const fd = Number(p.path.slice(p.path.lastIndexOf('/') + 1));
    const before = e.fds.length;
    e.fds = e.fds.filter((f) => !(f.pid === p.pid && f.fd === fd));
    if (e.fds.length < before) what = `fd ${fd} of process ${p.pid}`;
  }
  if (what === undefined) return;
  state.warnings.push({
    code: 'holder-vanished',
    message: `${what} no longer holds ${e.type} namespace ${e.ino}; not listed`,
    ns: e.ino,
  });
}

function stillRunning(state: ScanState, pid: number, starttime: number): boolean {
  try {
    const stat = parseStat(readProcFile(`${state.procRoot}/${pid}/stat`));
    // A zombie has exited; only its PID is still reserved.
    return stat !== undefined && stat.starttime === starttime && stat.state !== 'Z';
  } catch (err) {
    return classify(err) !== 'vanished';
  }
}

/** ioctl returning a new nsfs fd; undefined when the kernel refuses (EPERM: outside our user namespace, or initial). */
function related(fd: number, request: number): number | undefined {
  try {
    return ioctl(fd, request);
  } catch {
    return undefined;
  }
}

function describe(state: ScanState, e: NsEntry, fd: number): void {
  const userFd = related(fd, NS_GET_USERNS);
  if (userFd !== undefined) {
    try {
      e.owner = linkRelated(state, userFd, 'user');
    } finally {
      close(userFd);
    }
  }
  if (e.type === 'pid' || e.type === 'user') {
    const parentFd = related(fd, NS_GET_PARENT);
    if (parentFd !== undefined) {
      try {
        e.parent = linkRelated(state, parentFd, e.type);
      } finally {
        close(parentFd);
      }
    }
  }
  if (e.type === 'user') {
    try {
      e.ownerUid = nsGetOwnerUid(fd);
    } catch {
      // ENOTTY on kernels before 4.11; the field stays absent.
    }
  }
}

/** Inode of a related namespace; adds and describes it if it was not found by any source. */
function linkRelated(state: ScanState, fd: number, type: NamespaceType): number | undefined {
  const ino = inoOfFd(fd);
  if (!state.namespaces.has(ino) && state.types.has(type)) {
    const hidden = nsEntry(state, type, ino);
    hidden.hidden = true;
    describe(state, hidden, fd);
  }
  return ino;
}
