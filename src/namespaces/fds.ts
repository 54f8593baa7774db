/**
 * Source 3: open file descriptors that refer to a namespace. readlink on
 * /proc/PID/fd/N of an nsfs file gives "type:[inode]" just like the ns links;
 * such an fd keeps the namespace alive with no process attached to it.
 */

import { parseNsLink, parseStat } from '../procfs/parse.js';
import { classify, listDir, readLink, readProcFile } from '../procfs/read.js';
import { addPath, nsEntry, type ScanState } from './state.js';

/** Throws (vanished) when the process exited; the caller drops it. */
export function scanFds(state: ScanState, pid: number, starttime: number): void {
  const base = `${state.procRoot}/${pid}/fd`;
  let found: { type: ReturnType<typeof parseNsLink>; fd: number }[] | undefined;
  for (const name of listDir(base)) {
    let link: string;
    try {
      link = readLink(`${base}/${name}`);
    } catch (err) {
      // The fd was closed between readdir and readlink: not a holder.
      if (classify(err) === 'vanished') continue;
      throw err;
    }
    // Cheap pre-filter: nsfs links look like "net:[…]"; most fds are paths,
    // "socket:[…]", "pipe:[…]" or "anon_inode:…".
    const c = link.charCodeAt(0);
    if (c === 47 /* / */ || c === 115 /* s */ || c === 97 /* a */) continue;
    const ns = parseNsLink(link);
    if (ns === undefined || !state.types.has(ns.type)) continue;
    if (found === undefined) found = [];
    found.push({ type: ns, fd: Number(name) });
  }
  if (found === undefined) return;
  // Relate fds to (pid, starttime) only after confirming that the PID still
  // names the process whose stat we read: a PID reused in between would
  // otherwise attribute another process's fds.
  const again = parseStat(readProcFile(`${state.procRoot}/${pid}/stat`));
  if (again === undefined || again.starttime !== starttime) {
    const err = new Error('process replaced') as NodeJS.ErrnoException;
    err.code = 'ESRCH';
    throw err;
  }
  for (const f of found) {
    if (f.type === undefined) continue;
    const e = nsEntry(state, f.type.type, f.type.ino);
    e.fds.push({ pid, starttime, fd: f.fd });
    addPath(e, { path: `${base}/${f.fd}`, rank: 4, pid });
  }
}
