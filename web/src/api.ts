/** Talks to the service's native API (/api/discovery) and its change stream (/api/events). */
import type { HubDocument } from '../../src/hub/contract.js';
import type { Discovery } from '../../src/model/types.js';
import type { ChangeEvent, HelloEvent, VerifyReport } from '../../src/service/contract.js';
import type { PacketflixTarget } from '../../src/views/capture-links.js';

const TOKEN_KEY = 'wirescope.token';
const token = (): string | null => sessionStorage.getItem(TOKEN_KEY);
const authHeaders = (): Record<string, string> => {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
};

/** Whether this service asked for a bearer token (links the browser or Wireshark open cannot carry it). */
export const hasToken = (): boolean => token() !== null;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A failed response as an error: its problem document's detail, else the status text. */
function apiError(res: Response, text: string): ApiError {
  let detail = res.statusText;
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
  } catch {
    // not a problem document
  }
  return new ApiError(res.status, detail);
}

/** GET of a JSON document, asking for the token once when the service wants one. */
async function fetchDocument(path: string): Promise<{ json: unknown; generation: number; text: string }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await fetch(path, { headers: authHeaders() });
    if (res.status === 401) {
      const given = prompt('This wirescope service needs a bearer token:');
      if (!given) throw new ApiError(401, 'a bearer token is required');
      sessionStorage.setItem(TOKEN_KEY, given.trim());
      continue;
    }
    const text = await res.text();
    if (!res.ok) throw apiError(res, text);
    return {
      json: JSON.parse(text),
      generation: Number(res.headers.get('x-wirescope-generation') ?? 0),
      text,
    };
  }
  throw new ApiError(401, 'the bearer token was refused');
}

export async function fetchDiscovery(): Promise<{ discovery: Discovery; generation: number; text: string }> {
  const { json, generation, text } = await fetchDocument('api/discovery');
  return { discovery: json as Discovery, generation, text };
}

/** Whether this is a hub (`wirescope hub`, whose /healthz says so): then the UI shows nodes as groups. */
export async function isHub(): Promise<boolean> {
  try {
    const res = await fetch('healthz');
    return res.ok && (JSON.parse(await res.text()) as { hub?: unknown }).hub === true;
  } catch {
    return false;
  }
}

/** A hub's merged document. */
export async function fetchHubDocument(): Promise<HubDocument> {
  return (await fetchDocument('api/discovery')).json as HubDocument;
}

/**
 * The lab drift report (`serve --verify`); undefined when the service verifies
 * no lab (404). Asked after fetchDiscovery, so the token is already known.
 */
export async function fetchVerify(): Promise<VerifyReport | undefined> {
  const res = await fetch('api/verify', { headers: authHeaders() });
  if (res.status === 404) return undefined;
  const text = await res.text();
  if (!res.ok) throw apiError(res, text);
  return JSON.parse(text) as VerifyReport;
}

/** Subscribes to change events; EventSource reconnects by itself. */
export function subscribe<E = ChangeEvent>(
  onChange: (e: E) => void,
  onStatus: (live: boolean) => void,
  onHello: (generation: number) => void = () => {},
): () => void {
  const t = token();
  const es = new EventSource(`api/events${t ? `?access_token=${encodeURIComponent(t)}` : ''}`);
  es.addEventListener('open', () => onStatus(true));
  es.addEventListener('error', () => onStatus(false));
  // Sent on every (re)connect: after a gap the client compares generations and catches up.
  es.addEventListener('hello', (ev) => {
    try {
      onHello(Number((JSON.parse((ev as MessageEvent<string>).data) as HelloEvent).generation));
    } catch {
      // ignore
    }
  });
  es.addEventListener('change', (ev) => {
    try {
      onChange(JSON.parse((ev as MessageEvent<string>).data) as E);
    } catch {
      // a malformed event is dropped; the next one carries the full picture again
    }
  });
  return () => es.close();
}

/**
 * Runs a neighbourhood check (`/api/check/:target` as server-sent events) and
 * hands each event to `on` as it arrives. fetch, not EventSource: it sends the
 * token as a header and does not reconnect to start another check.
 */
export async function streamCheck(
  target: string,
  on: (event: string, data: unknown) => void,
  signal?: AbortSignal,
): Promise<void> {
  const res = await fetch(`api/check/${encodeURIComponent(target)}`, {
    headers: { ...authHeaders(), accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok || !res.body) throw apiError(res, await res.text());
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += value;
    let end = buf.indexOf('\n\n');
    while (end >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) on(event, JSON.parse(data));
      end = buf.indexOf('\n\n');
    }
  }
}

/**
 * The service's `/mobyshark` capture targets: Edgeshark's plugin matches a
 * packetflix link's container= against them by name and type, so the link
 * carries one of these entries as it is.
 */
export async function fetchCaptureTargets(): Promise<PacketflixTarget[]> {
  const res = await fetch('mobyshark', { headers: authHeaders() });
  const text = await res.text();
  if (!res.ok) throw apiError(res, text);
  return (JSON.parse(text) as { containers?: PacketflixTarget[] }).containers ?? [];
}
