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
import { fdLinksAt, type ProcDir } from '../procfs/read.js';
import { addPath, addSocket, nsEntry, type ScanState } from './state.js';

/**
 * The fds of the process open as `dir` (/proc/PID), whose stat gave
 * `starttime`. Throws (vanished) when the process exited; the caller drops it.
 */
export function scanFds(state: ScanState, pid: number, starttime: number, dir: ProcDir): void {
  const base = `${dir.path}/fd`;
  // Read through the /proc/PID fd that the stat was read through: if the
  // process has exited since, this fails (ENOENT) instead of reading the fds
  // of a later process with the same PID, so relating them to
  // (pid, starttime) needs no second read of stat.
  const links = fdLinksAt(dir, 'fd');
  const found = links.ns.filter((f) => state.types.has(f.type as NamespaceType));
  if (found.length === 0 && links.sockets.length === 0 && links.tuns.length === 0) return;
  for (const f of found) {
    const e = nsEntry(state, f.type as NamespaceType, f.ino);
    e.fds.push({ pid, starttime, fd: f.fd });
    addPath(e, { path: `${base}/${f.fd}`, rank: 4, pid });
  }
  const s = links.sockets;
  for (let i = 0; i < s.length; i += 2) addSocket(state, s[i + 1] as number, pid, s[i] as number);
  for (const fd of links.tuns) state.owners.tuns.push({ pid, fd });
}
