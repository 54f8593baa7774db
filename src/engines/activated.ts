/**
 * Socket-activated engines: an activator (systemd as PID 1, `systemd --user`
 * for rootless podman at /run/user/UID/podman/podman.sock, a systemd inside a
 * container, or any LISTEN_FDS activator) listens on an engine's socket while
 * no engine process runs; the first connection starts the service, which
 * inherits the listening socket (sd_listen_fds(3)). Such sockets are found
 * in /proc/PID/net/unix of every network namespace (one reader process per
 * namespace): listening entries whose path ends in `podman.sock`, held by a
 * process (the scan's socket fds) that is not itself a podman service.
 * Parsing is pure; procfs reads are at the edges.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Draft } from '../model/types.js';
import type { NamespaceScan } from '../namespaces/scan.js';
import { parseStat } from '../procfs/parse.js';
import { readCmdline } from '../procfs/read.js';
import { engineTypeOf } from './detect.js';
import { parseNetUnix } from './unix.js';

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const SUN_PATH_MAX = 107;
/** /proc/PID/net/unix is kernel text, but a namespace can hold very many sockets. */
const MAX_NET_UNIX_BYTES = 16 * 1024 * 1024;

export interface ActivatedSocket {
  netns: number;
  inode: number;
  /** Path inside the activator's mount namespace. */
  socket: string;
  /** The same socket reached from wirescope's mount namespace (via /proc/ACTIVATOR/root). */
  api: string;
  /** The lowest-numbered process holding the listening socket. */
  activator: Draft.Process;
  /** A podman service already holding it (activated earlier), if any. */
  service: Draft.Process | undefined;
}

/** Whether a listening socket path names a podman API socket. */
export function isPodmanSocketPath(path: string): boolean {
  return path === 'podman.sock' || path.endsWith('/podman.sock');
}

/**
 * Listening podman sockets of every network namespace in the scan, with the
 * processes that hold them. Needs the scan's socket fds (`fdOwners`); without
 * them it finds nothing.
 */
export function findActivatedSockets(
  scan: NamespaceScan,
  procRoot = '/proc',
  selfMntns?: number,
): { sockets: ActivatedSocket[]; warnings: Draft.Warning[] } {
  const sockets: ActivatedSocket[] = [];
  const warnings: Draft.Warning[] = [];
  const owners = scan.fdOwners?.sockets;
  if (!owners) return { sockets, warnings };
  // One reader per network namespace: /proc/PID/net/unix lists the sockets of PID's netns.
  const reader = new Map<number, Draft.Process>();
  for (const p of Object.values(scan.processes)) {
    const ns = p.namespaces.net;
    if (ns !== undefined && !reader.has(ns)) reader.set(ns, p);
  }
  for (const [netns, p] of reader) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${p.pid}/net/unix`, 'utf8');
    } catch {
      continue; // the reader vanished; the next discovery picks another
    }
    if (text.length > MAX_NET_UNIX_BYTES) text = text.slice(0, MAX_NET_UNIX_BYTES);
    for (const e of parseNetUnix(text)) {
      if (!e.listening || !isPodmanSocketPath(e.path)) continue;
      const pairs = owners.get(e.inode);
      if (!pairs) continue;
      const holders: Draft.Process[] = [];
      for (let i = 0; i < pairs.length; i += 2) {
        const h = scan.processes[String(pairs[i])];
        if (h && !holders.includes(h)) holders.push(h);
      }
      holders.sort((a, b) => a.pid - b.pid);
      const activator = holders.find((h) => engineTypeOf(h) !== 'podman') ?? holders[0];
      if (!activator) continue;
      const service = holders.find((h) => engineTypeOf(h) === 'podman');
      let api = `${procRoot}/${activator.pid}/root${e.path}`;
      if (api.length > SUN_PATH_MAX) {
        if (selfMntns !== undefined && activator.namespaces.mnt === selfMntns) api = e.path;
        else {
          warnings.push({
            code: 'engine-socket-path-too-long',
            message: `podman socket of pid ${activator.pid}: ${api} exceeds the ${SUN_PATH_MAX}-byte unix socket path limit`,
            pid: activator.pid,
          });
          continue;
        }
      }
      sockets.push({ netns, inode: e.inode, socket: e.path, api, activator, service });
    }
  }
  return { sockets, warnings };
}

/**
 * The service an activator started for `inode`: the activator itself once it
 * exec'd the service (systemd-socket-activate does), or one of its children
 * (systemd forks), that is a podman service and holds the listening socket.
 */
export function findActivatedService(
  procRoot: string,
  activatorPid: number,
  inode: number,
): { pid: number; starttime: number } | undefined {
  const candidates = [activatorPid];
  try {
    for (const tid of readdirSync(`${procRoot}/${activatorPid}/task`)) {
      const text = readFileSync(`${procRoot}/${activatorPid}/task/${tid}/children`, 'utf8');
      for (const c of text.split(/\s+/)) if (/^\d+$/.test(c)) candidates.push(Number(c));
    }
  } catch {
    // No children file (CONFIG_PROC_CHILDREN off) or the activator vanished: itself only.
  }
  const link = `socket:[${inode}]`;
  for (const pid of candidates) {
    try {
      const stat = parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
      if (!stat) continue;
      const cmdline = readCmdline(`${procRoot}/${pid}/cmdline`).args;
      if (engineTypeOf({ comm: stat.comm, cmdline }) !== 'podman') continue;
      const fds = readdirSync(`${procRoot}/${pid}/fd`);
      for (const fd of fds.slice(0, 4096)) {
        let target = '';
        try {
          target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (target === link) return { pid, starttime: stat.starttime };
      }
    } catch {
      // vanished meanwhile
    }
  }
  return undefined;
}
