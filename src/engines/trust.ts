/**
 * Which engine sockets wirescope talks to. Any user can run a process named
 * `dockerd`, `containerd` or `podman system service` with a listening socket,
 * and wirescope (root) would read its answers into the host's picture. An
 * engine is trusted only when its socket's listener runs as root, or as a
 * uid the operator lists (WIRESCOPE_TRUST_ENGINE_UIDS, e.g. for rootless
 * podman). The listener is asked for through SO_PEERCRED
 * (kernel/unix-peer.ts), which it cannot forge; when nobody answers on the
 * socket, the socket file's owner decides, and a socket that is neither
 * reachable nor present is left to the client to report as unreachable.
 *
 * The check connects once; the client's own connections come after it. To
 * slip another listener in between, one must replace the socket file, which
 * takes write access to its directory: for a root engine (/run/docker.sock,
 * /run/podman/...) only root has it. The check runs again on every retry.
 */
import { lstatSync } from 'node:fs';
import { SyscallError } from '../kernel/libc.js';
import { type PeerCred, unixPeerCred } from '../kernel/unix-peer.js';
import type { EngineCandidate } from './detect.js';

export const TRUST_ENV = 'WIRESCOPE_TRUST_ENGINE_UIDS';

/** Parses "1000, 1001" into uids; anything that is not a uid is ignored. */
export function parseUidList(text: string | undefined): number[] {
  if (!text) return [];
  const out: number[] = [];
  for (const part of text.split(/[\s,]+/)) {
    if (!/^\d{1,10}$/.test(part)) continue;
    const n = Number(part);
    if (n <= 0xfffffffe) out.push(n);
  }
  return out;
}

export function trustedUidsFromEnv(env: NodeJS.ProcessEnv): number[] {
  return parseUidList(env[TRUST_ENV]);
}

export interface TrustProblem {
  /** true: the owner is known and not trusted; false: the socket could not be checked. */
  untrusted: boolean;
  message: string;
}

/** Pure rule: a listener uid is trusted when it is root or listed. */
export function uidTrusted(uid: number, trusted: ReadonlySet<number>): boolean {
  return uid === 0 || trusted.has(uid);
}

function untrustedMessage(c: EngineCandidate, who: string, uid: number): string {
  return (
    `${c.type} (pid ${c.pid}) at ${c.api}: ${who} uid ${uid}, not root; skipped ` +
    `(to trust it, set ${TRUST_ENV}=${uid})`
  );
}

/**
 * Checks an engine's socket before the first request; undefined when it is
 * trusted. `peer` is the check itself, replaceable in unit tests.
 */
export function checkEngineTrust(
  c: EngineCandidate,
  trusted: ReadonlySet<number>,
  peer: (path: string) => PeerCred = unixPeerCred,
): TrustProblem | undefined {
  let cred: PeerCred;
  try {
    cred = peer(c.api);
  } catch (e) {
    // Nobody accepts on it now (refused, backlog full, gone): fall back to the file's owner.
    let uid: number;
    try {
      uid = lstatSync(c.api).uid;
    } catch {
      // Neither reachable nor present: the client cannot talk to it either and reports why.
      return undefined;
    }
    if (uidTrusted(uid, trusted)) return undefined;
    const why = e instanceof SyscallError ? e.message : String(e);
    return {
      untrusted: true,
      message: `${untrustedMessage(c, 'socket file owned by', uid)}; connect: ${why}`,
    };
  }
  if (uidTrusted(cred.uid, trusted)) return undefined;
  return {
    untrusted: true,
    message: untrustedMessage(c, `its listener (pid ${cred.pid}) runs as`, cred.uid),
  };
}
