/**
 * Source 3: open file descriptors that refer to a namespace; such an fd keeps
 * the namespace alive with no process attached to it. readlink on
 * /proc/PID/fd/N tells most of them apart from the link bytes alone:
 * "type:[inode]" for an fd opened through /proc/PID/ns/X. But an fd opened
 * through a bind mount (how `ip netns exec`, CNI plugins, runc and many
 * libraries hold namespaces) reads back as the mount point
 * ("/run/netns/x"), and as "/" once the mount is detached (`ip netns del`
 * unmounts with MNT_DETACH; the namespace lives on through the fd). Only
 * links that can be such an fd are stat'ed — "/" and the nsfs mount points
 * of the mount namespaces read so far (see NsfsPaths; each process's own
 * mount namespace is read before its fds) — and taken if the file is on
 * nsfs's device; its type comes from the mount's root or, for a detached
 * one, from the kernel (NS_GET_NSTYPE). Stat-ing every fd of every process
 * would cost as much as the rest of the scan.
 *
 * The same readlink pass also records socket fds ("socket:[inode]") and
 * fds open on /dev/net/tun (see FdOwners): the network stage needs exactly
 * these to find socket owners and tap holders, and reading every fd link of
 * every process is the expensive part, so it is done once, here.
 */

import type { NamespaceType } from '../model/types.js';
import { fdLinksAt, nsTypeAt, type ProcDir } from '../procfs/read.js';
import { addPath, addSocket, type NsEntry, nsEntry, type ScanState } from './state.js';

/**
 * The fds of the process open as `dir` (/proc/PID), whose stat gave
 * `starttime`. Throws (vanished) when the process exited; the caller drops it.
 */
export function scanFds(state: ScanState, pid: number, starttime: number, dir: ProcDir): void {
  // Read through the /proc/PID fd that the stat was read through: if the
  // process has exited since, this fails (ENOENT) instead of reading the fds
  // of a later process with the same PID, so relating them to
  // (pid, starttime) needs no second read of stat.
  const links = fdLinksAt(dir, 'fd', state.nsfs);
  const s = links.sockets;
  const byPath = links.nsfs;
  if (links.ns.length === 0 && s.length === 0 && links.tuns.length === 0 && byPath.length === 0) return;
  const base = `${dir.path}/fd`;
  const hold = (e: NsEntry, fd: number) => {
    e.fds.push({ pid, starttime, fd });
    addPath(e, { path: `${base}/${fd}`, rank: 4, pid });
  };
  for (const f of links.ns) {
    if (state.types.has(f.type as NamespaceType)) hold(nsEntry(state, f.type as NamespaceType, f.ino), f.fd);
  }
  for (let i = 0; i < byPath.length; i += 2) {
    const fd = byPath[i] as number;
    const ino = byPath[i + 1] as number;
    const type =
      state.nsfsTypes.get(ino) ??
      state.namespaces.get(ino)?.type ??
      (nsTypeAt(dir, `fd/${fd}`, ino) as NamespaceType | undefined);
    // undefined: the fd was closed or reused since it was stat'ed.
    if (type !== undefined && state.types.has(type)) hold(nsEntry(state, type, ino), fd);
  }
  for (let i = 0; i < s.length; i += 2) addSocket(state, s[i + 1] as number, pid, s[i] as number);
  for (const fd of links.tuns) state.owners.tuns.push({ pid, fd });
}
