/**
 * Source 3: open file descriptors that refer to a namespace. readlink on
 * /proc/PID/fd/N of an nsfs file gives "type:[inode]" just like the ns links;
 * such an fd keeps the namespace alive with no process attached to it.
 *
 * The same readlink pass also records socket fds ("socket:[inode]") and
 * fds open on /dev/net/tun (see FdOwners): the network stage needs exactly
 * these to find socket owners and tap holders, and reading every fd link of
 * every process is the expensive part, so it is done once, here.
 */

import type { NamespaceType } from '../model/types.js';
import { parseStat } from '../procfs/parse.js';
import { fdLinks, readProcFile } from '../procfs/read.js';
import { addPath, addSocket, nsEntry, type ScanState } from './state.js';

/** Throws (vanished) when the process exited; the caller drops it. */
export function scanFds(state: ScanState, pid: number, starttime: number): void {
  const base = `${state.procRoot}/${pid}/fd`;
  const links = fdLinks(base);
  const found = links.ns.filter((f) => state.types.has(f.type as NamespaceType));
  if (found.length === 0 && links.sockets.length === 0 && links.tuns.length === 0) return;
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
    const e = nsEntry(state, f.type as NamespaceType, f.ino);
    e.fds.push({ pid, starttime, fd: f.fd });
    addPath(e, { path: `${base}/${f.fd}`, rank: 4, pid });
  }
  const s = links.sockets;
  for (let i = 0; i < s.length; i += 2) addSocket(state, s[i + 1] as number, pid, s[i] as number);
  for (const fd of links.tuns) state.owners.tuns.push({ pid, fd });
}
