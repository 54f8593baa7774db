/**
 * Which requests the service answers at all: the Host header must name this
 * service (DNS rebinding), and API requests must not come from another site's
 * page (cross-site reads and request forgery).
 *
 * DNS rebinding: a page at http://evil.example:5000 whose name then resolves
 * to 127.0.0.1 is same-origin with this service in the browser's eyes, so the
 * same-origin policy protects nothing; only the Host header still says
 * "evil.example". The browser always sends the name it resolved, so refusing
 * names we do not answer to (RFC 9110 §15.5.20, 421 Misdirected Request)
 * closes the hole. The port is not compared: rebinding abuses a name, and
 * port forwards (ssh -L, docker -p, kubectl port-forward) change the port.
 */
import { isIPv6 } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/** Addresses that mean "every interface": the names a client uses are then the host's own. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '::0', '']);

/** Names of loopback that cannot be rebound to another machine (always accepted). */
const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

/** How often the host's interface addresses are read again (addresses come and go). */
const OWN_ADDRESSES_TTL_MS = 5000;

/** The syntax of a Host header (RFC 9110 §7.2): a reg-name or IPv4, or an IPv6 literal, and a port. */
const HOST_SYNTAX = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{0,5})?$/;

/**
 * The canonical host name of a Host header value or a configured name: lower
 * case, IPv4 in dotted decimal, IPv6 compressed and without brackets, no
 * trailing dot — the WHATWG URL host parser browsers use, so "127.1",
 * "[0:0::1]" and "LOCALHOST." compare as the names they stand for. Undefined
 * when the value is no host. Pure.
 */
export function canonicalHost(value: string): string | undefined {
  const v = value.trim();
  if (v.length === 0 || v.length > 261 || !HOST_SYNTAX.test(v)) return undefined;
  let name: string;
  try {
    name = new URL(`http://${v}/`).hostname;
  } catch {
    return undefined;
  }
  if (name.startsWith('[')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name || undefined;
}

export interface HostPolicyOptions {
  /** The address the server listens on (ListenAddress.host). */
  listenHost: string;
  /** Further names clients use for this service (serve --allow-host): a DNS name, a proxy's name, a NAT address. */
  allowHosts?: readonly string[];
}

/**
 * The names this service answers to: loopback names, the listen address,
 * --allow-host names, and, when listening on every interface, the host's own
 * addresses and host name (a client that reaches us on 0.0.0.0 uses one of
 * those; none of them is a name an attacker's DNS can rebind: an attacker
 * who controls what the host's own name resolves to already owns the
 * victim's resolver).
 */
export class HostPolicy {
  private readonly fixed = new Set<string>();
  private readonly wildcard: boolean;
  private own = new Set<string>();
  private ownAt = Number.NEGATIVE_INFINITY;

  constructor(opts: HostPolicyOptions) {
    this.wildcard = WILDCARDS.has(opts.listenHost);
    for (const n of LOOPBACK) this.fixed.add(n);
    if (!this.wildcard) {
      const l = canonicalAllowHost(opts.listenHost);
      if (l) this.fixed.add(l);
    }
    for (const a of opts.allowHosts ?? []) {
      const n = canonicalAllowHost(a);
      if (n === undefined) throw new Error(`--allow-host: "${a}" is not a host name or address`);
      this.fixed.add(n);
    }
  }

  /** True when `hostHeader` names this service. */
  allows(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const name = canonicalHost(hostHeader);
    if (name === undefined) return false;
    if (this.fixed.has(name)) return true;
    return this.wildcard && this.ownNames().has(name);
  }

  private ownNames(): Set<string> {
    const now = performance.now();
    if (now - this.ownAt > OWN_ADDRESSES_TTL_MS) {
      const own = new Set<string>();
      const h = canonicalHost(hostname());
      if (h) own.add(h);
      for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) {
          // Link-local IPv6 carries a zone ("fe80::1%eth0") that no Host header can express.
          const n = canonicalHost(a.family === 'IPv6' ? `[${a.address.replace(/%.*$/, '')}]` : a.address);
          if (n) own.add(n);
        }
      }
      this.own = own;
      this.ownAt = now;
    }
    return this.own;
  }
}

/** A --allow-host value: a name or address, IPv6 with or without brackets, no port. Pure. */
export function canonicalAllowHost(text: string): string | undefined {
  const t = text.trim();
  if (t.startsWith('[')) return t.endsWith(']') ? canonicalHost(t) : undefined;
  if (t.includes(':')) return isIPv6(t) ? canonicalHost(`[${t}]`) : undefined;
  return canonicalHost(t);
}

/** The Fetch Metadata (W3C) values of requests a page of this very service makes, or a typed URL. */
const SAME = new Set(['same-origin', 'none']);

/**
 * Why a request comes from another site's page, or undefined when it does
 * not: an `Origin` other than the service's own (the scheme and name the
 * client used, i.e. its Host header), or `Sec-Fetch-Site` saying the
 * initiating page is of another origin ("same-site" too: another port of
 * localhost is another web application). Requests without either header are
 * not from a browser page, or from one too old to say. Pure.
 */
export function crossSiteReason(h: {
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
}): string | undefined {
  if (h.secFetchSite !== undefined && !SAME.has(h.secFetchSite.trim().toLowerCase()))
    return `a ${h.secFetchSite.slice(0, 20)} request (Sec-Fetch-Site)`;
  if (h.origin === undefined) return undefined;
  if (h.origin === 'null') return 'a request from an opaque origin (Origin: null)';
  let origin: URL;
  let self: URL;
  try {
    origin = new URL(h.origin);
    self = new URL(`http://${h.host ?? ''}/`);
  } catch {
    return 'a request with a malformed Origin';
  }
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:') return 'a request from another origin';
  // Neither header writes the scheme's default port; an https proxy in front keeps the Host's name.
  const defaultPort = origin.protocol === 'https:' ? '443' : '80';
  const same =
    canonicalHost(origin.hostname) === canonicalHost(self.hostname) &&
    (origin.port || defaultPort) === (self.port || defaultPort);
  return same ? undefined : 'a request from another origin';
}
