/**
 * EndpointSlices (discovery.k8s.io/v1) → agent targets: which pods of the agents'
 * headless Service are ready, on which node, at which address and port. Pure; the
 * Kubernetes source (`kubernetes.ts`) feeds it what the API server sends.
 *
 * The API server's answers are input like any other: every field is checked for
 * its type, addresses with node:net `isIP`, names against the API's own name rules,
 * ports against 1–65535, counts against the API's own limits; what fails is
 * left out and said in one escaped line, and the rest goes on.
 */
import { BlockList, isIP } from 'node:net';
import { escapeTerminal } from '../../views/terminal.js';
import type { AgentTarget } from './source.js';

/**
 * The API server rejects a slice with more endpoints than this (EndpointSlice
 * validation, `maxEndpoints` in k8s.io/kubernetes pkg/apis/discovery/validation);
 * the endpoint slice controller fills slices with at most 100.
 */
export const MAX_ENDPOINTS_PER_SLICE = 1000;
/**
 * Kubernetes supports clusters of at most 5000 nodes ("Considerations for large
 * clusters"), so a DaemonSet has at most that many pods; the hub follows no more
 * agents than that, whatever the API server lists.
 */
export const MAX_TARGETS = 5000;
/** Slices kept per Service: 5000 endpoints need 50 slices of 100; far fewer than this. */
export const MAX_SLICES = 1000;

/** The label the endpoint slice controller puts on every slice of a Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/**
 * Who wrote a slice: the controller that builds them from a Service's selector
 * sets this label to its own name. The hub sends the agents' token to every
 * address it follows, so a slice written by anything else (a person or another
 * controller with write access to the namespace) is not followed.
 */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';

/**
 * Addresses the API itself refuses for an endpoint (ValidateEndpointIP in
 * k8s.io/kubernetes pkg/apis/core/validation: unspecified, loopback, link-local,
 * link-local multicast), and any multicast: never a pod's, and link-local holds
 * cloud metadata services (169.254.169.254) the token must never reach.
 */
const NOT_A_POD = new BlockList();
NOT_A_POD.addSubnet('0.0.0.0', 8, 'ipv4');
NOT_A_POD.addSubnet('127.0.0.0', 8, 'ipv4');
NOT_A_POD.addSubnet('169.254.0.0', 16, 'ipv4');
NOT_A_POD.addSubnet('224.0.0.0', 4, 'ipv4');
NOT_A_POD.addAddress('255.255.255.255', 'ipv4');
NOT_A_POD.addAddress('::', 'ipv6');
NOT_A_POD.addAddress('::1', 'ipv6');
NOT_A_POD.addSubnet('fe80::', 10, 'ipv6');
NOT_A_POD.addSubnet('ff00::', 8, 'ipv6');
/**
 * IPv4-mapped IPv6 addresses: never a pod's IPv6 address. (BlockList matches an
 * IPv4 address against this rule too, so it is a list of its own, asked about
 * IPv6 addresses only; it already checks mapped ones against the IPv4 rules above.)
 */
const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Service's name: a DNS-1035 label (starts with a letter). */
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** A port's name: an IANA service name (at most 15, lowercase letters, digits, inner single dashes, one letter). */
const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A namespace's name (and a node's host name): a DNS-1123 label, at most 63. */
export const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
/** Node, pod and object names: a DNS-1123 subdomain, at most 253. */
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
export const isServiceName = (s: string): boolean => s.length <= 63 && DNS1035_LABEL.test(s);
export const isPortName = (s: string): boolean => s.length <= 15 && PORT_NAME.test(s);

/** A value from the API server for a one-line message: escaped, at most 64 characters. */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : `(${typeof v})`;
  return `"${escapeTerminal(s.slice(0, 64))}${s.length > 64 ? '…' : ''}"`;
}

/** What one slice contributes. */
export interface SliceTargets {
  /** The slice's `metadata.name` (slices are keyed by it). */
  readonly name: string;
  readonly resourceVersion?: string;
  readonly targets: readonly AgentTarget[];
  /** Why endpoints or the whole slice were left out, one short phrase each. */
  readonly problems: readonly string[];
}

interface Record_ {
  readonly [key: string]: unknown;
}
const isRecord = (v: unknown): v is Record_ => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A resourceVersion is opaque to clients; only its shape is bounded (it goes back in a query). */
export function resourceVersionOf(obj: unknown): string | undefined {
  const rv = isRecord(obj) && isRecord(obj.metadata) ? str(obj.metadata.resourceVersion) : undefined;
  return rv !== undefined && /^[\x21-\x7e]{1,128}$/.test(rv) ? rv : undefined;
}

/** The name of a slice object, when it is a valid object name. */
export function sliceNameOf(obj: unknown): string | undefined {
  const name = isRecord(obj) && isRecord(obj.metadata) ? str(obj.metadata.name) : undefined;
  return name !== undefined && isDns1123Subdomain(name) ? name : undefined;
}

/**
 * The agents one slice lists: its ready endpoints on the port named `portName`.
 * Undefined when the object is not a slice of `service` with a valid name (the
 * watch's label selector should never let one through).
 */
export function parseSlice(obj: unknown, service: string, portName: string): SliceTargets | undefined {
  const name = sliceNameOf(obj);
  if (name === undefined || !isRecord(obj) || !isRecord(obj.metadata)) return undefined;
  const labels = obj.metadata.labels;
  if (!isRecord(labels) || labels[SERVICE_NAME_LABEL] !== service) return undefined;
  const resourceVersion = resourceVersionOf(obj);
  const problems: string[] = [];
  const none = (problem: string): SliceTargets => ({
    name,
    resourceVersion,
    targets: [],
    problems: [problem],
  });
  if (labels[MANAGED_BY_LABEL] !== ENDPOINTSLICE_CONTROLLER)
    return none(`managed by ${quote(labels[MANAGED_BY_LABEL])}, not the endpoint slice controller`);

  // FQDN slices (deprecated) are never made for a Service with a selector.
  const family = obj.addressType === 'IPv4' ? 4 : obj.addressType === 'IPv6' ? 6 : 0;
  if (family === 0) return none(`addressType ${quote(obj.addressType)} is not IPv4 or IPv6`);

  const port = portOf(obj.ports, portName);
  if (typeof port === 'string') return none(port);

  const endpoints = Array.isArray(obj.endpoints) ? obj.endpoints : [];
  if (obj.endpoints !== undefined && obj.endpoints !== null && !Array.isArray(obj.endpoints))
    problems.push('endpoints is not a list');
  if (endpoints.length > MAX_ENDPOINTS_PER_SLICE)
    problems.push(
      `${endpoints.length - MAX_ENDPOINTS_PER_SLICE} endpoints beyond the API's limit of ${MAX_ENDPOINTS_PER_SLICE} per slice ignored`,
    );
  const targets: AgentTarget[] = [];
  for (const ep of endpoints.slice(0, MAX_ENDPOINTS_PER_SLICE)) {
    const t = endpointTarget(ep, family, port, problems);
    if (t) targets.push(t);
  }
  return { name, resourceVersion, targets, problems };
}

/** The number of the port named `portName` (TCP), or why there is none. */
function portOf(ports: unknown, portName: string): number | string {
  if (!Array.isArray(ports)) return `no ports`;
  // A Service with a single unnamed port has it named "" in its slices.
  const p = ports.find((x) => isRecord(x) && (str(x.name) ?? '') === portName);
  if (!isRecord(p)) return `no port named ${quote(portName)}`;
  if (p.protocol !== undefined && p.protocol !== null && p.protocol !== 'TCP')
    return `port ${quote(portName)} is ${quote(p.protocol)}, not TCP`;
  const n = p.port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535)
    return `port ${quote(portName)} number ${quote(n)} is not in 1–65535`;
  return n;
}

function endpointTarget(
  ep: unknown,
  family: 4 | 6,
  port: number,
  problems: string[],
): AgentTarget | undefined {
  if (!isRecord(ep)) {
    problems.push('an endpoint is not an object');
    return undefined;
  }
  // "ready" unset means unknown, which consumers treat as ready (EndpointConditions, discovery/v1).
  if (isRecord(ep.conditions) && ep.conditions.ready === false) return undefined;
  // The addresses of one endpoint are fungible; consumers may use the first (EndpointSlice API).
  const address = Array.isArray(ep.addresses) ? ep.addresses[0] : undefined;
  // A zone index ("%eth0") has no meaning for a pod address and would need escaping in a URL.
  if (typeof address !== 'string' || isIP(address) !== family || address.includes('%')) {
    problems.push(`address ${quote(address)} is not an IPv${family} address`);
    return undefined;
  }
  if (
    NOT_A_POD.check(address, family === 6 ? 'ipv6' : 'ipv4') ||
    (family === 6 && MAPPED.check(address, 'ipv6'))
  ) {
    problems.push(`address ${quote(address)} cannot be a pod's`);
    return undefined;
  }
  const url = `http://${family === 6 ? `[${address}]` : address}:${port}`;
  const name = nameOf(ep, problems);
  return name === undefined ? { url } : { name, url };
}

/** The node's name (else the pod's, else the host name), the first that is a valid name. */
function nameOf(ep: Record_, problems: string[]): string | undefined {
  const targetRef = isRecord(ep.targetRef) ? ep.targetRef.name : undefined;
  const candidates: [string, unknown, (s: string) => boolean][] = [
    ['nodeName', ep.nodeName, isDns1123Subdomain],
    ['targetRef name', targetRef, isDns1123Subdomain],
    ['hostname', ep.hostname, isDns1123Label],
  ];
  for (const [field, value, valid] of candidates) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' && valid(value)) return value;
    problems.push(`${field} ${quote(value)} is not a valid name`);
  }
  return undefined;
}

/** The targets of all slices: de-duplicated by URL, sorted by name then URL, at most MAX_TARGETS. */
export function mergeTargets(slices: Iterable<SliceTargets>): { targets: AgentTarget[]; dropped: number } {
  const byUrl = new Map<string, AgentTarget>();
  for (const s of slices)
    for (const t of s.targets) {
      // An endpoint may sit in two slices for a moment while the controller moves it;
      // it is one agent. The named entry wins, then the smaller name, for a stable answer.
      const had = byUrl.get(t.url);
      if (!had || (t.name !== undefined && (had.name === undefined || t.name < had.name)))
        byUrl.set(t.url, t);
    }
  const all = [...byUrl.values()].sort((a, b) => cmp(a.name ?? '', b.name ?? '') || cmp(a.url, b.url));
  return { targets: all.slice(0, MAX_TARGETS), dropped: Math.max(0, all.length - MAX_TARGETS) };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `--kubernetes [NAMESPACE/]SERVICE` → the names, checked; without a namespace,
 * `defaultNamespace` (the hub's CLI passes the pod's own, or `default`). Throws a
 * one-line error for anything that is not two Kubernetes names.
 */
export function parseServiceRef(
  arg: string,
  defaultNamespace: string,
): { namespace: string; service: string } {
  const parts = arg.split('/');
  if (parts.length > 2) throw new Error(`--kubernetes: ${quote(arg)} is not [NAMESPACE/]SERVICE`);
  const [namespace, service] = parts.length === 2 ? (parts as [string, string]) : [defaultNamespace, arg];
  if (!isDns1123Label(namespace))
    throw new Error(`--kubernetes: ${quote(namespace)} is not a namespace name`);
  if (!isServiceName(service)) throw new Error(`--kubernetes: ${quote(service)} is not a Service name`);
  return { namespace, service };
}
