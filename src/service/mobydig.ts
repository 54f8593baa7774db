/**
 * Ghostwire's `/mobydig` websocket: `GET /mobydig?target=NAME` upgrades, then
 * one text frame per update `{"fqdn","address","quality","error"}` (empty
 * fields left out, as Ghostwire's encoder does), the same (fqdn, address)
 * again as its quality changes; close 1000 when done, 4400 with the reason
 * when the target is unknown or the check cannot start. Ghostwire knows four
 * qualities: a neighbour that resolves but does not answer is `invalid` there,
 * with our own verdict (`unreachable`) in an extra `verdict` field.
 *
 * The upgrade passes the same gates as the API (app.ts): the Host check, the
 * cross-site check and, when configured, the bearer token.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Verdict } from '../check/types.js';
import type { DiscoveryCache } from './cache.js';
import { type CheckService, ChecksBusyError, CheckTargetError } from './check.js';
import { crossSiteReason, type HostPolicy } from './host.js';
import { tokenChecker } from './token.js';
import { LazyWebSocketServer } from './websocket.js';

/** Ghostwire's close code for a target it cannot work with. */
export const CLOSE_BAD_TARGET = 4400;
/** A websocket close reason is at most 123 bytes (RFC 6455 5.5: 125-byte control payload). */
const MAX_REASON = 123;

export interface MobydigOptions {
  cache: DiscoveryCache;
  checks: CheckService;
  hosts: HostPolicy;
  token?: string;
}

/** One /mobydig text frame. */
export function mobydigFrame(v: Verdict): string {
  const quality = v.quality === 'unreachable' ? 'invalid' : v.quality;
  return JSON.stringify({
    ...(v.fqdn ? { fqdn: v.fqdn } : {}),
    ...(v.address ? { address: v.address } : {}),
    quality,
    ...(v.error ? { error: v.error } : {}),
    ...(quality !== v.quality ? { verdict: v.quality } : {}),
  });
}

function reason(text: string): string {
  let r = text.replace(/[\r\n]+/g, ' ');
  while (Buffer.byteLength(r) > MAX_REASON) r = r.slice(0, -1);
  return r;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/**
 * The `/mobydig` websocket: `upgrade` takes the HTTP server's upgrade requests for that path (the
 * server has one upgrade listener that routes by path: a second listener would see, and refuse,
 * the upgrades meant for the other); `wss` holds the open sessions.
 */
export function createMobydig(opts: MobydigOptions): {
  wss: LazyWebSocketServer;
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
} {
  // maxPayload: clients have nothing to say; a frame from them is at most a close.
  const wss = new LazyWebSocketServer({ maxPayload: 1024 });
  const matches = opts.token ? tokenChecker(opts.token) : undefined;

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mobydig') return refuse(socket, 404, 'Not Found');
    if (!opts.hosts.allows(req.headers.host)) return refuse(socket, 421, 'Misdirected Request');
    const why = crossSiteReason({
      host: req.headers.host,
      origin: req.headers.origin,
      secFetchSite: req.headers['sec-fetch-site'] as string | undefined,
    });
    if (why) return refuse(socket, 403, 'Forbidden');
    if (matches) {
      const auth = req.headers.authorization;
      if (!matches(auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined))
        return refuse(socket, 401, 'Unauthorized');
    }
    const targets = url.searchParams.getAll('target');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (targets.length !== 1 || !targets[0]) {
        ws.close(CLOSE_BAD_TARGET, 'exactly one target query parameter is required');
        return;
      }
      const target = targets[0];
      const abort = new AbortController();
      ws.on('close', () => abort.abort());
      ws.on('error', () => abort.abort());
      opts.cache
        .get()
        .then(async (snap) => {
          if (abort.signal.aborted) return;
          const { done } = await opts.checks.start(snap.discovery, target, {
            signal: abort.signal,
            onVerdict: (v) => {
              if (ws.readyState === ws.OPEN) ws.send(mobydigFrame(v));
            },
          });
          return done.then(() => ws.close(1000));
        })
        .catch((err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err);
          if (err instanceof CheckTargetError) ws.close(CLOSE_BAD_TARGET, reason(msg));
          else if (err instanceof ChecksBusyError)
            ws.close(1013, reason(msg)); // RFC 6455 7.4.1: try again later
          else if (!abort.signal.aborted) ws.close(1011, reason(`check failed: ${msg}`));
        });
    });
  };
  return { wss, upgrade };
}
