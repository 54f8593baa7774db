/**
 * Resolves a forward's destination to the network namespace that serves it,
 * the process(es) listening there and their container. Pure, over the draft.
 *
 * The destination namespace is one that has the destination address on an
 * interface. When several do (the same private address in unrelated
 * namespaces), the one wired to the forwarding namespace wins: the forwarding
 * namespace's route to the address leaves through a device, and the
 * candidate's interface must be that device's veth peer or the peer of one
 * of its bridge ports. If that does not single one out, the destination stays
 * unresolved with a warning — a forward is never attached to a wrong namespace.
 */
import { sameInterface } from '../../model/ids.js';
import type { Draft } from '../../model/types.js';

interface Holder {
  netns: number;
  index: number;
}

export interface Resolution {
  destNetns?: number;
  container?: string;
  owners: Draft.ForwardedPort['owners'];
  warning?: string;
}

function parseV4(s: string): number[] | undefined {
  const p = s.split('.').map(Number);
  return p.length === 4 && p.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? p : undefined;
}

function parseV6(s: string): number[] | undefined {
  if (!s.includes(':')) return undefined;
  let text = s;
  let tail: number[] = [];
  const dotted = text.match(/:(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted?.[1]) {
    const v4 = parseV4(dotted[1]);
    if (!v4) return undefined;
    tail = v4;
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const fill = rest !== undefined ? 8 - h.length - t.length : 0;
  if (fill < 0 || (rest === undefined && h.length !== 8)) return undefined;
  const words = [...h, ...Array<string>(fill).fill('0'), ...t].map((w) => Number.parseInt(w, 16));
  if (words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) return undefined;
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** Address text → bytes (4 or 16), undefined when it is not an address. */
export function addrBytes(s: string): number[] | undefined {
  return parseV4(s) ?? parseV6(s);
}

function inPrefix(addr: number[], net: number[], len: number): boolean {
  if (addr.length !== net.length) return false;
  let bits = len;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i] ?? 0) & mask) !== ((net[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Canonical text of an address (so "fd00:0::2" and "fd00::2" compare equal). */
function canon(s: string): string {
  const b = addrBytes(s);
  return b ? b.join('.') : s;
}

const isLoopback = (b: number[]): boolean =>
  (b.length === 4 && b[0] === 127) ||
  (b.length === 16 && b.slice(0, 15).every((x) => x === 0) && b[15] === 1);

/** Canonical IPv4 text (no leading zeros), which canon() returns unchanged. */
const CANONICAL_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export class Resolver {
  /**
   * Canonical address → interfaces that hold it; one index for text with a colon (IPv6) and one
   * without, each made on the first lookup of its kind: at 1000 namespaces, canonicalising every
   * address costs tens of milliseconds, and forwards usually go to one family only.
   */
  private readonly holders: [Map<string, Holder[]> | undefined, Map<string, Holder[]> | undefined] = [
    undefined,
    undefined,
  ];

  constructor(private readonly draft: Draft.Discovery) {}

  private held(address: string): Holder[] {
    const v6 = address.includes(':');
    let index = this.holders[v6 ? 1 : 0];
    if (!index) {
      index = new Map();
      this.holders[v6 ? 1 : 0] = index;
      for (const [key, net] of Object.entries(this.draft.networks)) {
        const netns = Number(key);
        for (const iface of net.interfaces)
          for (const a of iface.addresses) {
            // Point-to-point addresses: IFA_LOCAL is this end's, IFA_ADDRESS the peer's.
            const text = a.local ?? a.address;
            if (text.includes(':') !== v6) continue;
            const k = CANONICAL_V4.test(text) ? text : canon(text);
            const list = index.get(k) ?? [];
            list.push({ netns, index: iface.index });
            index.set(k, list);
          }
      }
    }
    return index.get(canon(address)) ?? [];
  }

  resolve(f: {
    netns: number;
    protocol: string;
    destAddress: string;
    destPort: number;
    redirect?: boolean;
  }): Resolution {
    const bytes = addrBytes(f.destAddress);
    if (!bytes) return { owners: [], warning: `destination "${f.destAddress}" is not an address` };
    let destNetns: number | undefined;
    let warning: string | undefined;
    if (isLoopback(bytes) || f.redirect) destNetns = f.netns;
    else {
      const held = this.held(f.destAddress);
      const nets = [...new Set(held.map((h) => h.netns))];
      const route = this.routeDev(f.netns, bytes);
      if (nets.includes(f.netns)) destNetns = f.netns;
      else if (route !== undefined && nets.length > 0) {
        // Only namespaces the forwarding namespace can route to are candidates.
        const wired = this.wiredCandidates(f.netns, route, held);
        if (wired.length === 1) destNetns = wired[0];
        else if (nets.length === 1) destNetns = nets[0];
        else
          warning = `destination ${f.destAddress} is on interfaces in ${nets.length} network namespaces (${nets.join(', ')}) and none is singled out by the route from netns ${f.netns}; left unresolved`;
      }
    }
    if (destNetns === undefined) return warning ? { owners: [], warning } : { owners: [] };
    const owners = this.listeners(destNetns, f.protocol, f.destAddress, f.destPort, f.redirect === true);
    const r: Resolution = { destNetns, owners };
    const container = this.containerOf(destNetns, owners);
    if (container) r.container = container;
    return r;
  }

  /** Output device of the forwarding namespace's best route (main/local table) to `dest`. */
  private routeDev(from: number, dest: number[]): number | undefined {
    const net = this.draft.networks[String(from)];
    if (!net) return undefined;
    const family = dest.length === 4 ? 'inet' : 'inet6';
    let best: { len: number; dev: number } | undefined;
    for (const r of net.routes) {
      const dev = r.dev ?? r.nexthops[0]?.dev;
      if (r.family !== family || (r.table !== 254 && r.table !== 255) || dev === undefined) continue;
      if (r.type !== 'unicast' && r.type !== 'local') continue;
      const [addr = '', lenText = ''] = r.dst.split('/');
      const rb = addrBytes(addr);
      const len = Number(lenText || (family === 'inet' ? 32 : 128));
      if (!rb || !inPrefix(dest, rb, len)) continue;
      if (!best || len > best.len) best = { len, dev };
    }
    return best?.dev;
  }

  /** Candidates wired to device `devIndex` of `from`: its veth peer, or the peers of its bridge ports. */
  private wiredCandidates(from: number, devIndex: number, held: Holder[]): number[] {
    const net = this.draft.networks[String(from)];
    if (!net) return [];
    const dev = net.interfaces.find((i) => i.index === devIndex);
    if (!dev) return [];
    const peers: Holder[] = [];
    const peerOf = (i: Draft.Interface) => i.veth?.peer ?? (i.kind === 'veth' ? i.link : undefined);
    const p = peerOf(dev);
    if (p) peers.push(p);
    for (const port of dev.ports) {
      const pi = port.netns === from ? net.interfaces.find((i) => i.index === port.index) : undefined;
      const pp = pi ? peerOf(pi) : undefined;
      if (pp) peers.push(pp);
    }
    const hit = held.filter((h) => peers.some((q) => sameInterface(q, h)));
    return [...new Set(hit.map((h) => h.netns))];
  }

  /** Owners of sockets serving `address:port`; `anyLocal` (redirects): on any address of the namespace. */
  private listeners(
    netns: number,
    protocol: string,
    address: string,
    port: number,
    anyLocal = false,
  ): Draft.ForwardedPort['owners'] {
    const net = this.draft.networks[String(netns)];
    if (!net) return [];
    const want = canon(address);
    const v4 = !address.includes(':');
    const out = new Map<string, Draft.ForwardedPort['owners'][number]>();
    for (const s of net.sockets) {
      if (s.protocol !== protocol || s.localPort !== port) continue;
      if (protocol === 'tcp' ? s.macrostate !== 'listening' : s.macrostate === 'connected') continue;
      const local = s.localAddress;
      const ok =
        (anyLocal &&
          (v4 ? s.family === 'inet' || (local === '::' && s.dualStack === true) : s.family === 'inet6')) ||
        canon(local) === want ||
        (v4 && s.family === 'inet' && local === '0.0.0.0') ||
        (!v4 && s.family === 'inet6' && local === '::') ||
        (v4 && s.family === 'inet6' && local === '::' && s.dualStack === true);
      if (!ok) continue;
      for (const o of s.owners) out.set(`${o.pid}/${o.starttime}`, o);
    }
    return [...out.values()];
  }

  private containerOf(netns: number, owners: Draft.ForwardedPort['owners']): string | undefined {
    for (const o of owners) if (o.container) return o.container;
    const inNetns = Object.entries(this.draft.containers).filter(([, c]) => c.netns === netns);
    if (inNetns.length === 1) return inNetns[0]?.[0];
    // Several containers share the namespace (pods, --network container:X): the
    // one whose process owns the listening socket was tried above; otherwise the
    // one owning the process tree of a socket owner.
    for (const o of owners) {
      const c = this.draft.processes[String(o.pid)]?.container;
      if (c) return c;
    }
    return undefined;
  }
}
