/**
 * The ways to start a capture that the web UI offers for a namespace,
 * container or interface: Edgeshark's `packetflix:` link, the plain pcapng
 * URL of `GET /api/capture.pcapng`, and the `wirescope capture` and `curl`
 * command lines. Pure (no DOM, no Node): the UI bundles it, the unit test
 * runs it. Names come from the discovery — a container name is whatever its
 * owner chose — so every one is URL-encoded in links and single-quoted in
 * command lines.
 */

/** A Ghostwire-v1 `/mobyshark` entry, as Packetflix clients hand it back in `container=`. */
export interface PacketflixTarget {
  name: string;
  type: string;
  netns: number;
  'network-interfaces': string[];
  pid: number;
  starttime: number;
  prefix: string;
}

export interface CaptureSpec {
  /** `wirescope capture` TARGET words: netns inodes, container names, … */
  targets: string[];
  /** Interfaces to keep (-i, nif=); empty: all of each target. */
  interfaces: string[];
  /** pcap-filter expression; blank: none. */
  filter: string;
  chaste: boolean;
}

/** Characters a POSIX shell takes literally in a word (no globbing, expansion or splitting). */
const SHELL_SAFE = /^[A-Za-z0-9_./:@%+=,-]+$/;

/**
 * One shell word for `s`: as it is when every character is inert, else in
 * single quotes, where nothing is special but the quote itself, which is
 * closed, escaped and reopened (`'\''`; POSIX sh 2.2.2).
 */
export function shellQuote(s: string): string {
  if (SHELL_SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const enc = encodeURIComponent;
const blank = (s: string): boolean => s.trim() === '';

/**
 * The query of `/api/capture.pcapng` (and of the websocket's extra
 * parameters): targets= repeated, nif= slash-separated (Linux interface
 * names hold no '/': dev_valid_name()), filter=, seconds=, chaste.
 */
export function captureQuery(spec: CaptureSpec, seconds?: number): string {
  const q = spec.targets.map((t) => `targets=${enc(t)}`);
  if (spec.interfaces.length) q.push(`nif=${spec.interfaces.map(enc).join('/')}`);
  if (!blank(spec.filter)) q.push(`filter=${enc(spec.filter.trim())}`);
  if (seconds !== undefined) q.push(`seconds=${seconds}`);
  if (spec.chaste) q.push('chaste');
  return q.join('&');
}

/** The plain pcapng stream at `base` (the service's URL, ending in '/'). */
export function pcapngUrl(base: string, spec: CaptureSpec, seconds?: number): string {
  return `${base}api/capture.pcapng?${captureQuery(spec, seconds)}`;
}

/** `http(s)://…/` → `ws(s)://…/`: the capture websocket lives on the same origin. */
export function websocketBase(base: string): string {
  return base.replace(/^http(s?):/, 'ws$1:');
}

/**
 * The link Edgeshark's Wireshark plugin (cshargextcap) registers for:
 * `packetflix:ws://HOST:PORT/capture?container=JSON&nif=a/b&filter=F&chaste`.
 * The plugin strips `packetflix:`, turns ws/wss into http/https, cuts the
 * trailing `/capture` and reads container=, nif=, filter= and the presence
 * of chaste; container= is the JSON of a `/mobyshark` entry.
 */
export function packetflixUrl(base: string, target: PacketflixTarget, spec: CaptureSpec): string {
  const nifs = spec.interfaces.length ? spec.interfaces : target['network-interfaces'];
  const q = [`container=${enc(JSON.stringify(target))}`, `nif=${nifs.map(enc).join('/')}`];
  if (!blank(spec.filter)) q.push(`filter=${enc(spec.filter.trim())}`);
  if (spec.chaste) q.push('chaste');
  return `packetflix:${websocketBase(base)}capture?${q.join('&')}`;
}

/** The `wirescope capture` line (run as root on the host), piped into Wireshark. */
export function cliLine(spec: CaptureSpec): string {
  const words = ['wirescope', 'capture', ...spec.targets.map(shellQuote)];
  for (const i of spec.interfaces) words.push('-i', shellQuote(i));
  if (!blank(spec.filter)) words.push('-f', shellQuote(spec.filter.trim()));
  if (spec.chaste) words.push('--chaste');
  return `${words.join(' ')} | wireshark -k -i -`;
}

/**
 * The `curl` line that streams the capture into Wireshark from anywhere the
 * service is reachable. A bearer token cannot ride in the URL (the service
 * takes it in the query on /api/events only), so it goes in a header from
 * $WIRESCOPE_TOKEN — in double quotes, for the shell to expand.
 */
export function curlLine(base: string, spec: CaptureSpec, token: boolean): string {
  const auth = token ? ' -H "Authorization: Bearer $WIRESCOPE_TOKEN"' : '';
  return `curl -sN${auth} ${shellQuote(pcapngUrl(base, spec))} | wireshark -k -i -`;
}

/** One interface of a selection: the namespace (inode) it is in, and its name. */
export interface SelectedInterface {
  netns: number;
  name: string;
}

/**
 * One capture of interfaces in several namespaces. `-i`/nif= names apply to
 * every target, so the capture is exact only when no chosen namespace holds
 * another interface of a chosen name: those are returned as `extra`, and a
 * caller offers the capture only when there are none.
 */
export function selectionCapture(
  selected: readonly SelectedInterface[],
  interfacesOf: (netns: number) => readonly string[],
): { targets: string[]; interfaces: string[]; extra: SelectedInterface[] } {
  const namespaces = [...new Set(selected.map((s) => s.netns))];
  const names = [...new Set(selected.map((s) => s.name))];
  const chosen = new Set(selected.map((s) => `${s.netns}/${s.name}`));
  const extra: SelectedInterface[] = [];
  for (const netns of namespaces)
    for (const name of interfacesOf(netns))
      if (names.includes(name) && !chosen.has(`${netns}/${name}`)) extra.push({ netns, name });
  return { targets: namespaces.map(String), interfaces: names, extra };
}
