/**
 * Source 3: open file descriptors that refer to a namespace. readlink on
 * /proc/PID/fd/N of an nsfs file gives "type:[inode]" just like the ns links;
 * such an fd keeps the namespace alive with no process attached to it.
 */

import type { NamespaceType } from '../model/types.js';
import { parseStat } from '../procfs/parse.js';
import { classify, listDir, readFdNs, readProcFile } from '../procfs/read.js';
import { addPath, nsEntry, type ScanState } from './state.js';

/** Throws (vanished) when the process exited; the caller drops it. */
export function scanFds(state: ScanState, pid: number, starttime: number): void {
  const base = `${state.procRoot}/${pid}/fd`;
  let found: { type: NamespaceType; ino: number; fd: number }[] | undefined;
  for (const name of listDir(base)) {
    let link: { type: string; ino: number } | undefined;
    try {
      link = readFdNs(`${base}/${name}`);
    } catch (err) {
      // The fd was closed between getdents and readlink: not a holder.
      if (classify(err) === 'vanished') continue;
      throw err;
    }
    if (link === undefined || !state.types.has(link.type as NamespaceType)) continue;
    if (found === undefined) found = [];
    found.push({ type: link.type as NamespaceType, ino: link.ino, fd: Number(name) });
  }
  if (found === undefined) return;
  // Relate fds to (pid, starttime) only after confirming that the PID still
  // names the process whose stat we read: a PID reused in between would
  // otherwise attribute another process's fds.
  const again = parseStat(readProcFile(`${state.procRoot}/${pid}/stat`, true));
  if (again === undefined || again.starttime !== starttime) {
    const err = new Error('process replaced') as NodeJS.ErrnoException;
    err.code = 'ESRCH';
    throw err;
  }
  for (const f of found) {
    const e = nsEntry(state, f.type, f.ino);
    e.fds.push({ pid, starttime, fd: f.fd });
    addPath(e, { path: `${base}/${f.fd}`, rank: 4, pid });
  }
}
