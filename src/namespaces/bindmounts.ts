/**
 * Source 4: nsfs bind mounts (`ip netns add` → /run/netns/X, docker's
 * /run/docker/netns/…, anything `mount --bind /proc/PID/ns/X path` made), in
 * every mount namespace that has a process: each mount namespace's mountinfo
 * is read once, through one process attached to it. Mount namespaces cannot
 * be entered by a multi-threaded process (setns(2): CLONE_NEWNS needs a
 * single-threaded caller), so /proc/PID/mountinfo and /proc/PID/root are the
 * way in. A mount namespace held only by a bind mount or fd has no process to
 * read it through and is not searched.
 *
 * Our own mount namespace is read before the process scan, the others during
 * it (procs.ts, through the first process of each): the fd source needs the
 * mount points to recognise fds opened through them (fds.ts). This pass
 * records what was read, and reads what the process scan could not.
 */

import type { NsfsMount } from '../procfs/parse.js';
import { parseNsfsMounts, parseNsLink, parseStat } from '../procfs/parse.js';
import { classify, errorText, readLink, readProcFile } from '../procfs/read.js';
import { addNsfsMounts, addPath, nsEntry, type ScanState } from './state.js';

/** Our own mount namespace's nsfs mounts, or why they could not be read. */
export type OwnMounts = { mnt: number; list: NsfsMount[] } | { mnt?: number; error: unknown };

/**
 * Reads our own mount namespace and its nsfs mounts (through /proc/self:
 * their paths work as they are) into `state`, before the process scan.
 */
export function readOwnMounts(state: ScanState): OwnMounts {
  const root = state.procRoot;
  let mnt: number | undefined;
  try {
    mnt = parseNsLink(readLink(`${root}/self/ns/mnt`))?.ino;
  } catch {
    mnt = undefined;
  }
  if (mnt === undefined) return { error: new Error('own mount namespace unknown') };
  state.ownMnt = mnt;
  try {
    const list = parseNsfsMounts(readProcFile(`${root}/self/mountinfo`));
    addNsfsMounts(state, list);
    return { mnt, list };
  } catch (err) {
    return { mnt, error: err };
  }
}

export function scanBindMounts(state: ScanState, own: OwnMounts): void {
  const root = state.procRoot;
  if ('list' in own) record(state, own.mnt, own.list, undefined);
  else if (own.mnt !== undefined) {
    state.warnings.push({
      code: 'mountinfo-unreadable',
      message: `cannot read ${root}/self/mountinfo: ${errorText(own.error)}; bind mounts there are not listed`,
      ns: own.mnt,
    });
  }
  // Distinct mount namespaces → the processes that can show them.
  const readers = new Map<number, number[]>();
  for (const [pid, mnt] of state.mntOf) {
    if (state.vanished.has(pid) || mnt === own.mnt) continue;
    let list = readers.get(mnt);
    if (list === undefined) {
      list = [];
      readers.set(mnt, list);
    }
    list.push(pid);
  }
  for (const [mnt, pids] of readers) {
    const read = state.mounts.get(mnt);
    if (read !== undefined && !state.vanished.has(read.pid)) {
      record(state, mnt, read.list, read.pid);
      continue;
    }
    // Not read in the process scan, or read through a process that has
    // exited since (its /proc/PID/root no longer leads there).
    let done = false;
    let lastErr: unknown;
    // A few attempts: the chosen reader may exit under us.
    for (const pid of pids.slice(0, 3)) {
      const text = readVerified(state, pid, mnt);
      if (typeof text === 'string') {
        const list = parseNsfsMounts(text);
        state.mounts.set(mnt, { pid, list });
        record(state, mnt, list, pid);
        done = true;
        break;
      }
      lastErr = text.error;
    }
    if (!done && lastErr !== undefined && classify(lastErr) !== 'vanished') {
      state.warnings.push({
        code: 'mountinfo-unreadable',
        message: `cannot read the mountinfo of mount namespace ${mnt}: ${errorText(lastErr)}; bind mounts there are not listed`,
        ns: mnt,
      });
    }
  }
}

/**
 * mountinfo of pid, accepted only if pid is still the same process (same
 * starttime) in the same mount namespace after the read: mount points are
 * relative to that process's root, so a reused PID would give wrong paths.
 */
function readVerified(state: ScanState, pid: number, mnt: number): string | { error: unknown } {
  const base = `${state.procRoot}/${pid}`;
  const proc = state.processes.get(pid);
  try {
    const text = readProcFile(`${base}/mountinfo`);
    const still = parseNsLink(readLink(`${base}/ns/mnt`))?.ino;
    const stat = parseStat(readProcFile(`${base}/stat`));
    if (still !== mnt || stat === undefined || stat.starttime !== proc?.starttime) {
      const e = new Error('process replaced') as NodeJS.ErrnoException;
      e.code = 'ESRCH';
      return { error: e };
    }
    return text;
  } catch (err) {
    return { error: err };
  }
}

function record(state: ScanState, mnt: number, list: readonly NsfsMount[], viaPid: number | undefined): void {
  for (const m of list) {
    if (!state.types.has(m.type)) continue;
    const e = nsEntry(state, m.type, m.ino);
    const reachablePath =
      viaPid === undefined ? m.mountPoint : `${state.procRoot}/${viaPid}/root${m.mountPoint}`;
    if (e.bindMounts.some((b) => b.mntns === mnt && b.path === m.mountPoint)) continue;
    e.bindMounts.push({ path: m.mountPoint, mntns: mnt, reachablePath });
    addPath(e, {
      path: reachablePath,
      rank: viaPid === undefined ? 0 : 3,
      ...(viaPid ? { pid: viaPid } : {}),
    });
  }
}
