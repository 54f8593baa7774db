/**
 * The turtle finder: container engine daemons found in the process table,
 * whether they run on the host or inside containers, and the API socket each
 * one listens on, reached through /proc/PID/root so an engine in another
 * mount namespace is addressed the same way as one on the host.
 */
import { statSync } from 'node:fs';
import type { Draft } from '../model/types.js';
import { pathInRoot } from './in-root.js';
import { listeningUnixSockets } from './unix.js';

export type EngineType = 'docker' | 'containerd' | 'podman' | 'crio';

export interface EngineCandidate {
  type: EngineType;
  pid: number;
  starttime: number;
  /** API socket path inside the engine's mount namespace. */
  socket: string;
  /** The same socket reached from wirescope's mount namespace. */
  api: string;
}

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const SUN_PATH_MAX = 107;

/** Which engine, if any, a process is; containerd-shim* and podman CLI runs are not engines. */
export function engineTypeOf(p: Pick<Draft.Process, 'comm' | 'cmdline'>): EngineType | undefined {
  switch (p.comm) {
    case 'dockerd':
      return 'docker';
    case 'containerd':
      return 'containerd';
    case 'crio':
      return 'crio';
    case 'podman': {
      // Only the API service is an engine: `podman [global flags] system service [...]`.
      const args = p.cmdline.slice(1).filter((a) => !a.startsWith('-'));
      const i = args.indexOf('system');
      return i >= 0 && args[i + 1] === 'service' ? 'podman' : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Chooses the API socket among an engine's listening sockets: containerd also
 * listens on ttrpc and debug sockets, dockerd on plugin and metrics sockets.
 */
export function pickApiSocket(type: EngineType, paths: readonly string[]): string | undefined {
  const score = (p: string): number => {
    const base = p.slice(p.lastIndexOf('/') + 1);
    if (/debug|metrics|ttrpc|plugin/.test(base)) return -1;
    switch (type) {
      case 'docker':
        return base === 'docker.sock' ? 3 : base.endsWith('.sock') ? 1 : 0;
      case 'containerd':
        return base === 'containerd.sock' ? 3 : base.endsWith('.sock') ? 1 : 0;
      case 'podman':
        return base === 'podman.sock' ? 3 : 1;
      case 'crio':
        return base === 'crio.sock' ? 3 : 1;
    }
  };
  let best: string | undefined;
  let bestScore = -1;
  for (const p of [...paths].sort()) {
    const s = score(p);
    if (s > bestScore) {
      best = p;
      bestScore = s;
    }
  }
  return best;
}

export interface DetectResult {
  engines: EngineCandidate[];
  warnings: Draft.Warning[];
}

/**
 * Finds the API socket of one engine process. Returns a warning instead when
 * its sockets cannot be read (it vanished) or it listens on none.
 */
export function detectEngine(
  p: Draft.Process,
  type: EngineType,
  procRoot = '/proc',
  selfMntns?: number,
): EngineCandidate | Draft.Warning {
  let paths: string[];
  try {
    paths = listeningUnixSockets(procRoot, p.pid);
  } catch (e) {
    return {
      code: 'engine-sockets-unreadable',
      message: `${type} (pid ${p.pid}): cannot read its sockets: ${(e as Error).message}`,
      pid: p.pid,
    };
  }
  const socket = pickApiSocket(type, paths);
  if (!socket) {
    return {
      code: 'engine-no-api-socket',
      message: `${type} (pid ${p.pid}) listens on no unix socket`,
      pid: p.pid,
    };
  }
  let api = apiPath(`${procRoot}/${p.pid}/root`, socket);
  if (api.length > SUN_PATH_MAX) {
    // Too long for sun_path: only usable directly if the engine shares our mount namespace.
    if (selfMntns !== undefined && p.namespaces.mnt === selfMntns) api = socket;
    else {
      return {
        code: 'engine-socket-path-too-long',
        message: `${type} (pid ${p.pid}): ${api} exceeds the ${SUN_PATH_MAX}-byte unix socket path limit`,
        pid: p.pid,
      };
    }
  }
  return { type, pid: p.pid, starttime: p.starttime, socket, api };
}

/**
 * The socket reached through the engine's root: `root + socket` as the host
 * sees it (and reports it) when that names the socket itself; else the path
 * with its symlinks resolved inside the engine's root (pathInRoot: from a
 * container, /proc/PID/root/var/run/docker.sock follows /var/run -> /run into
 * the container's own /run).
 */
function apiPath(root: string, socket: string): string {
  const naive = `${root}${socket}`;
  const resolved = pathInRoot(root, socket);
  if (resolved === naive) return naive;
  try {
    const a = statSync(naive);
    const b = statSync(resolved);
    if (a.dev === b.dev && a.ino === b.ino) return naive;
  } catch {
    // The naive path names nothing here (or the resolved one does not either).
  }
  return resolved;
}

export function isCandidate(x: EngineCandidate | Draft.Warning): x is EngineCandidate {
  return 'api' in x;
}

/** Finds engines among the scanned processes; a vanished process is skipped with a warning. */
export function detectEngines(
  processes: Record<string, Draft.Process>,
  procRoot = '/proc',
  selfMntns?: number,
): DetectResult {
  const engines: EngineCandidate[] = [];
  const warnings: Draft.Warning[] = [];
  for (const p of Object.values(processes)) {
    const type = engineTypeOf(p);
    if (!type) continue;
    const r = detectEngine(p, type, procRoot, selfMntns);
    if (isCandidate(r)) engines.push(r);
    else warnings.push(r);
  }
  engines.sort((a, b) => a.pid - b.pid);
  return { engines, warnings };
}
