/**
 * Packetflix's capture protocol (siemens/packetflix api.md,
 * captureparams.go): a websocket at `GET /capture` (also
 * `/discover/capture`) whose binary messages carry one pcapng stream.
 *
 * Parameters, as query or as `Clustershark-*` headers (headers win: the
 * Kubernetes pod proxy drops query strings): `container=` the JSON of a
 * `/mobyshark` entry (netns, pid, starttime, name, prefix,
 * network-interfaces), or `netns=INODE`; `nif=eth0/eth1` (slash-separated;
 * `any` = all); `filter=`; `chaste`. Beyond Packetflix: `targets=` (as
 * `/api/capture.pcapng` takes them, many at once), `seconds=`, `packets=`.
 *
 * A `container=` whose pid no longer has that starttime (field 22 of
 * /proc/PID/stat) names a namespace inode that may have been reused: it is
 * looked up again by name and prefix in the current `/mobyshark` targets.
 *
 * The end: close 1000 when the capture ended (limits reached, every target
 * gone); a failure closes with 4000 + the HTTP status the same problem has
 * on /api/capture.pcapng (4400 bad request, 4404 no such target, 4429/4503
 * limits, 4403 no CAP_NET_RAW, 4500 otherwise) and its reason. Admission
 * (Host, cross-site Origin, bearer token) happens before the upgrade and is
 * answered in plain HTTP.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { CaptureSink } from '../capture/session.js';
import type { Discovery } from '../model/types.js';
import type { TargetDiscoveryResult } from '../views/ghostwire-v1/schema.js';
import { type CaptureHub, type CaptureRequest, captureFailed, parseCaptureQuery } from './capture.js';
import { clientKey } from './events.js';
import { type Problem, ProblemError, problem } from './problem.js';
import { LazyWebSocketServer } from './websocket.js';

/** A `/mobyshark` entry as Packetflix clients send it back. */
interface ContainerParam {
  netns?: number;
  pid?: number;
  starttime?: number;
  name?: string;
  prefix?: string;
  'network-interfaces'?: string[];
}

const MAX_CONTAINER_JSON = 16 << 10;
/** A close frame's reason is at most 123 bytes (RFC 6455 §5.5: 125 minus the code). */
const MAX_REASON = 123;

const bad = (detail: string): ProblemError => new ProblemError(problem(400, 'bad-capture-request', detail));

/** Starttime (clock ticks since boot, field 22) of a process, undefined when it is gone. */
function starttimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[22 - 3]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function parseContainer(text: string): ContainerParam {
  if (text.length > MAX_CONTAINER_JSON) throw bad(`container= is at most ${MAX_CONTAINER_JSON} characters`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('container= is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('container= is not a JSON object');
  const o = v as Record<string, unknown>;
  const num = (k: string) => {
    const x = o[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      throw bad(`container.${k} is not a number`);
    return x;
  };
  const str = (k: string) => {
    const x = o[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'string' || x.length > 256) throw bad(`container.${k} is not a name`);
    return x;
  };
  const nifs = o['network-interfaces'];
  if (nifs !== undefined && !(Array.isArray(nifs) && nifs.every((n) => typeof n === 'string')))
    throw bad('container.network-interfaces is not a list of names');
  return {
    netns: num('netns'),
    pid: num('pid'),
    starttime: num('starttime'),
    name: str('name'),
    prefix: str('prefix'),
    'network-interfaces': nifs as string[] | undefined,
  };
}

/**
 * Packetflix's parameters → a capture request (targets as `discover --netns`
 * names them). `get(name)` gives a query parameter's values, headers first.
 */
export function packetflixRequest(
  get: (name: string) => string[],
  d: Discovery,
  mobyshark: (d: Discovery) => TargetDiscoveryResult,
): CaptureRequest {
  const container = get('container')[0];
  const netns = get('netns')[0];
  const nif = get('nif')[0];
  const extra = (name: string) => (name === 'nif' || name === 'targets' ? [] : get(name));
  if (container === undefined && netns === undefined) {
    // wirescope's own form: targets=…
    return parseCaptureQuery((name) => (name === 'nif' && nif === 'any' ? [] : get(name)));
  }
  if (container !== undefined && netns !== undefined)
    throw bad('container and netns query parameters are mutually exclusive');
  let ino: number | undefined;
  let nifs: string[] | undefined;
  if (container !== undefined) {
    const c = parseContainer(container);
    ino = c.netns;
    nifs = c['network-interfaces'];
    // A reused namespace inode is caught by the canary process: same pid, other start time.
    if (c.pid && c.starttime && starttimeOf(c.pid) !== c.starttime) ino = undefined;
    if (!ino) {
      const found = mobyshark(d).containers.find((t) => t.name === c.name && t.prefix === (c.prefix ?? ''));
      if (!found)
        throw new ProblemError(
          problem(
            404,
            'no-such-target',
            `no capture target named "${c.name ?? ''}"${c.prefix ? ` (prefix ${c.prefix})` : ''}`,
          ),
        );
      ino = found.netns;
    }
  } else {
    const n = Number(netns);
    if (!Number.isSafeInteger(n) || n <= 0) throw bad(`invalid netns "${String(netns).slice(0, 40)}"`);
    ino = n;
  }
  if (nif !== undefined) nifs = nif === 'any' ? undefined : nif.split('/').filter((x) => x !== '');
  const req = parseCaptureQuery((name) => (name === 'targets' ? [String(ino)] : extra(name)));
  return { ...req, interfaces: nifs ?? [] };
}

/** A close reason cut to the 123 bytes a close frame holds, on a character boundary. */
export function closeReason(text: string): string {
  let r = text.split('\n')[0] ?? '';
  while (Buffer.byteLength(r) > MAX_REASON) r = r.slice(0, -1);
  return r;
}

export interface CaptureSocketOptions {
  captures: CaptureHub;
  /** The checks every API request passes (Host, cross-site, token); a problem refuses the upgrade. */
  admit: (req: IncomingMessage) => Problem | undefined;
  discovery: () => Promise<Discovery>;
  application: string;
}

const PATHS = new Set(['/capture', '/discover/capture']);

/** Writes a problem as a plain HTTP answer on a socket that asked for an upgrade, and closes it. */
function refuse(socket: Duplex, p: Problem, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(p);
  const head = [
    `HTTP/1.1 ${p.status} ${p.title}`,
    'content-type: application/problem+json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** Handles `upgrade` events of the HTTP server: the capture websocket; other upgrades are refused. */
export function captureUpgradeHandler(o: CaptureSocketOptions) {
  // Outgoing pcapng frames are built by the capture; incoming messages have no use: tiny limit.
  const wss = new LazyWebSocketServer({ maxPayload: 4096 });
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!PATHS.has(url.pathname)) {
      refuse(socket, problem(404, 'not-found', `no websocket at ${url.pathname.slice(0, 100)}`));
      return;
    }
    const why = o.admit(req);
    if (why) {
      refuse(socket, why, why.status === 401 ? { 'www-authenticate': 'Bearer realm="wirescope"' } : {});
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      void serveCapture(o, ws, req, url).catch((e: unknown) => {
        const p = e instanceof ProblemError ? e.problem : problem(500, 'internal-error', String(e));
        ws.close(4000 + p.status, closeReason(p.detail ?? p.title));
      });
    });
  };
}

async function serveCapture(
  o: CaptureSocketOptions,
  ws: WebSocket,
  req: IncomingMessage,
  url: URL,
): Promise<void> {
  const header = (name: string): string | undefined => {
    const v = req.headers[`clustershark-${name}`];
    return Array.isArray(v) ? v[0] : v;
  };
  const get = (name: string): string[] => {
    const h = header(name);
    return h !== undefined ? [h] : url.searchParams.getAll(name);
  };
  // Listen for the close before anything awaits: a client that leaves while the discovery or the
  // capture machinery loads must still stop the capture that starts after.
  let closed = false;
  let stop = () => {};
  ws.on('close', () => {
    closed = true;
    stop();
  });
  const d = await o.discovery();
  const { mobyshark } = await import('../views/ghostwire-v1/mobyshark.js');
  const request = packetflixRequest(get, d, mobyshark);
  const sink: CaptureSink = {
    write: (b) => {
      if (!closed) ws.send(b, { binary: true });
    },
    backlog: () => ws.bufferedAmount,
  };
  const { handle, finished } = await o.captures.start(
    d,
    clientKey(req.socket.remoteAddress),
    request,
    sink,
    o.application,
  );
  stop = () => handle.stop();
  if (closed) handle.stop();
  // Whatever the client sends is ignored (Packetflix clients send nothing).
  ws.on('message', () => {});
  const outcome = await handle.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  await finished;
  if (closed) return;
  if (outcome !== undefined) {
    const p = captureFailed(outcome).problem;
    ws.close(4000 + p.status, closeReason(p.detail ?? p.title));
  } else ws.close(1000, 'capture ended');
}
