/**
 * Forwarded ports decorator: in every discovered network namespace, DNAT
 * rules from nf_tables (native nft, iptables-nft, Docker, kube-proxy) and,
 * where legacy ip_tables "nat" tables exist, from those; plus `docker-proxy`
 * processes. Each forward is resolved to the namespace, listening processes
 * and container that serve its destination, and attached to the forwarding
 * namespace's `forwardedPorts`.
 *
 * Kernel access: a NETLINK_NETFILTER socket per namespace, made by entering it
 * (setns on this thread, synchronously) and cached per namespace inode, so a
 * warm discovery only dumps. The first dump lists tables; namespaces without
 * NAT-capable tables cost that one round trip. Namespaces the network stage
 * found without any table (`natFree`, told by its workers while they were
 * inside for their own dump) are not entered at all. Sockets of namespaces the
 * current discovery no longer sees are closed (a socket pins its namespace).
 */

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import {
  closeIptSocket,
  decodeEntries,
  decodeInfo,
  type IpFamily,
  IptDecodeError,
  openIptSocket,
  readLegacyTable,
  tableNamesPath,
} from '../../kernel/iptables-legacy.js';
import { SyscallError } from '../../kernel/libc.js';
import { NetlinkError, type NetlinkSocket } from '../../kernel/netlink.js';
import { NetnsRestoreError, withNetns } from '../../kernel/netns.js';
import { openNfnetlink, readRuleset } from '../../kernel/nftables/ruleset.js';
import { FD_SHARE, fdShare } from '../../kernel/rlimit.js';
import type { Draft } from '../../model/types.js';
import { dockerProxyForwards } from './docker-proxy.js';
import { legacyNatTable } from './iptables-legacy.js';
import { type Forward, forwardsOf } from './natgraph.js';
import { NAT_FAMILIES, natTablesOf } from './nftables.js';
import { Resolver } from './resolve.js';

export interface ForwardedPortsOptions {
  /** Read nf_tables rules (default true). */
  nftables?: boolean;
  /** Read legacy ip_tables nat tables where they exist (default true). */
  iptablesLegacy?: boolean;
  /** Read docker-proxy processes (default true). */
  dockerProxy?: boolean;
}

interface NsConn {
  nft: NetlinkSocket;
  /**
   * /proc/thread-self/net/ip{,6}_tables_names opened inside the namespace: a
   * proc net file stays bound to the namespace it was opened in, so re-reading
   * it (pread at 0) lists that namespace's legacy tables without entering it again.
   */
  iptNames: Partial<Record<IpFamily, number>>;
  /** Raw sockets for legacy ip(6)_tables, opened when a legacy nat table was first seen. */
  ipt: Partial<Record<IpFamily, number>>;
}

const FAMILIES: readonly IpFamily[] = [4, 6];

const conns = new Map<number, NsConn>();

/**
 * Namespaces whose sockets stay cached: up to three fds each within this
 * decorator's share of the fd limit (FD_SHARE); beyond, a namespace is entered
 * on every discovery and its fds closed.
 */
function maxCached(): number {
  return Math.floor(fdShare(FD_SHARE.forwardedPorts) / 3);
}

function closeConn(c: NsConn): void {
  c.nft.close();
  for (const f of FAMILIES) {
    const names = c.iptNames[f];
    const sock = c.ipt[f];
    if (names !== undefined) closeSync(names);
    if (sock !== undefined) closeIptSocket(sock);
  }
}

/** Closes every cached socket (tests, shutdown). */
export function closeForwardedPortSockets(): void {
  for (const c of conns.values()) closeConn(c);
  conns.clear();
  kept.clear();
}

function refsOf(draft: Draft.Discovery, ino: number): string[] {
  const ns = draft.namespaces[String(ino)];
  const refs: string[] = [];
  if (ns?.ref) refs.push(ns.ref);
  for (const pid of ns?.processes.slice(0, 3) ?? []) refs.push(`/proc/${pid}/ns/net`);
  return refs;
}

/**
 * Enters namespace `ino` through the first ref that opens it (a ref that now
 * opens another namespace is refused, see withNetns); `fn` runs inside.
 */
function inNetns<T>(ino: number, refs: readonly string[], fn: () => T): T {
  let last: unknown = new Error('no path opens this network namespace');
  for (const ref of refs) {
    try {
      return withNetns(ref, fn, ino);
    } catch (e) {
      if (e instanceof NetnsRestoreError) throw e;
      last = e;
      if (!(e instanceof SyscallError && e.call === 'open')) break;
    }
  }
  throw last;
}

/** Families whose legacy x_tables are in the kernel at all: their proc file exists in every namespace if so. */
function legacyFamilies(): IpFamily[] {
  return FAMILIES.filter((f) => existsSync(`/proc/self/net/${f === 6 ? 'ip6' : 'ip'}_tables_names`));
}

const namesBuf = Buffer.alloc(4096);

/** Legacy table names of a namespace, from the proc file opened in it. */
function legacyNames(c: NsConn, family: IpFamily): string[] {
  const fd = c.iptNames[family];
  if (fd === undefined) return [];
  const n = readSync(fd, namesBuf, 0, namesBuf.length, 0);
  return namesBuf.toString('latin1', 0, n).split('\n').filter(Boolean);
}

function warn(draft: Draft.Discovery, code: string, message: string, ns?: number): void {
  draft.warnings.push(ns !== undefined ? { code, message, ns } : { code, message });
}

function missing(draft: Draft.Discovery, capability: string, effect: string): void {
  if (!draft.missingPrivileges.some((m) => m.capability === capability && m.effect === effect))
    draft.missingPrivileges.push({ capability, effect });
}

/** Turns an error while reading one namespace into a warning (the discovery goes on). */
function fault(draft: Draft.Discovery, e: unknown, ino: number, what: string, cap: string): void {
  const errno = e instanceof SyscallError || e instanceof NetlinkError ? e.errno : undefined;
  const text = e instanceof Error ? e.message : String(e);
  if (errno === 1 || errno === 13) {
    warn(draft, 'forwards-denied', `netns ${ino}: reading ${what} needs ${cap} (${text})`, ino);
    missing(draft, cap, `${what} (port forwards) are not read`);
  } else if (errno === 2 || errno === 3) {
    warn(draft, 'netns-vanished', `netns ${ino} vanished while reading ${what}`, ino);
  } else {
    warn(draft, 'forwards-read-failed', `netns ${ino}: reading ${what} failed: ${text}`, ino);
  }
}

type Found = Omit<Forward, 'chain'> & {
  chain?: string;
  source: Draft.ForwardedPort['source'];
  netns: number;
};

function readNamespace(
  draft: Draft.Discovery,
  ino: number,
  opts: ForwardedPortsOptions,
  legacy: readonly IpFamily[],
): Found[] {
  const refs = refsOf(draft, ino);
  const found: Found[] = [];
  let conn = conns.get(ino);
  let temporary = false;
  if (!conn) {
    try {
      conn = inNetns(ino, refs, () => {
        const c: NsConn = { nft: openNfnetlink(), iptNames: {}, ipt: {} };
        for (const f of legacy) {
          try {
            c.iptNames[f] = openSync(tableNamesPath(f), 'r');
          } catch {
            // Not loaded after all: no legacy tables of this family anywhere.
          }
        }
        return c;
      });
      if (conns.size < maxCached()) conns.set(ino, conn);
      else temporary = true;
    } catch (e) {
      if (e instanceof NetnsRestoreError) throw e;
      fault(draft, e, ino, 'nftables rules', 'CAP_SYS_ADMIN');
      return found;
    }
  }
  try {
    readWith(draft, ino, refs, conn, opts, legacy, found);
  } finally {
    if (temporary) closeConn(conn);
  }
  return found;
}

function readWith(
  draft: Draft.Discovery,
  ino: number,
  refs: readonly string[],
  conn: NsConn,
  opts: ForwardedPortsOptions,
  legacy: readonly IpFamily[],
  found: Found[],
): void {
  if (opts.nftables !== false) {
    try {
      const rs = readRuleset(conn.nft, NAT_FAMILIES);
      for (const err of rs.errors) warn(draft, 'forward-rule-skipped', `netns ${ino}: nftables: ${err}`, ino);
      for (const t of natTablesOf(rs)) {
        const { forwards, notes } = forwardsOf(t);
        for (const n of notes) warn(draft, 'forward-rule-skipped', `netns ${ino}: nftables ${n}`, ino);
        for (const f of forwards) found.push({ ...f, source: 'nftables', netns: ino });
      }
    } catch (e) {
      fault(draft, e, ino, 'nftables rules', 'CAP_NET_ADMIN');
    }
  }
  for (const family of legacy) {
    const what = family === 6 ? 'legacy ip6tables rules' : 'legacy iptables rules';
    try {
      if (!legacyNames(conn, family).includes('nat')) continue;
      const c = conn;
      let fd = c.ipt[family];
      if (fd === undefined) {
        try {
          fd = inNetns(ino, refs, () => openIptSocket(family));
          c.ipt[family] = fd;
        } catch (e) {
          if (e instanceof NetnsRestoreError) throw e;
          // A raw socket needs CAP_NET_RAW in the namespace's user namespace.
          fault(draft, e, ino, what, 'CAP_NET_RAW');
          continue;
        }
      }
      const raw = readLegacyTable(fd, 'nat', family);
      const entries = decodeEntries(raw.entries, decodeInfo(raw.info), family);
      const { forwards, notes } = forwardsOf(legacyNatTable(entries, family));
      for (const n of notes) warn(draft, 'forward-rule-skipped', `netns ${ino}: ${what}: ${n}`, ino);
      for (const f of forwards) found.push({ ...f, source: 'iptables', netns: ino });
    } catch (e) {
      if (e instanceof NetnsRestoreError) throw e;
      if (e instanceof IptDecodeError)
        warn(
          draft,
          'forward-rule-skipped',
          `netns ${ino}: ${what}: nat table not decoded: ${e.message}`,
          ino,
        );
      else fault(draft, e, ino, what, 'CAP_NET_ADMIN');
    }
  }
}

/**
 * Incremental discovery: what each namespace's last read found, kept while its socket is cached
 * (see decorateForwardedPorts).
 */
const kept = new Map<
  number,
  {
    found: Found[];
    warnings: Draft.Warning[];
    missing: Draft.Discovery['missingPrivileges'];
    /** Told by the network stage (natFree), whose cached sockets pin the namespace, not read here. */
    byNetwork?: boolean;
  }
>();

/** What an incremental discovery tells: keep reads, and which namespaces the network stage reused. */
export interface IncrementalHint {
  record: boolean;
  reused?: ReadonlySet<number>;
}

/**
 * `natFree`: namespaces the network stage found, while inside them for its own dump, without any
 * nf_tables table or legacy nat table (NetworkResult.natFree): they forward nothing and are not
 * entered again here — at 1000 namespaces, a setns, a socket and a table dump each on this thread.
 */
export function decorateForwardedPorts(
  draft: Draft.Discovery,
  opts: ForwardedPortsOptions = {},
  inc?: IncrementalHint,
  natFree?: ReadonlySet<number>,
): void {
  const keys = Object.keys(draft.networks);
  const seen = new Set(keys.map(Number));
  for (const [ino, c] of conns)
    if (!seen.has(ino)) {
      closeConn(c);
      conns.delete(ino);
    }
  for (const ino of kept.keys()) if (!seen.has(ino)) kept.delete(ino);
  const legacy = opts.iptablesLegacy !== false ? legacyFamilies() : [];
  const found: Found[] = [];
  for (const key of keys) {
    const ino = Number(key);
    const k = kept.get(ino);
    // Incremental: a namespace the network stage reused was not notified of any change; its
    // rules are reused too while this thread's socket still pins it (so the inode is the same
    // namespace). nf_tables changes send no rtnetlink notification: a full discovery reads them.
    if (k && inc?.reused?.has(ino) && (conns.has(ino) || k.byNetwork)) {
      found.push(...k.found);
      draft.warnings.push(...k.warnings);
      for (const m of k.missing) missing(draft, m.capability, m.effect);
      continue;
    }
    if (natFree?.has(ino)) {
      // This thread's own socket is not needed for it (a socket pins its namespace, and costs an fd).
      const c = conns.get(ino);
      if (c) {
        closeConn(c);
        conns.delete(ino);
      }
      if (inc?.record) kept.set(ino, { found: [], warnings: [], missing: [], byNetwork: true });
      else kept.delete(ino);
      continue;
    }
    if (!inc?.record) {
      kept.delete(ino);
      found.push(...readNamespace(draft, ino, opts, legacy));
      continue;
    }
    // Read with warnings of its own, so they can be given again when the read is reused.
    const sink: Draft.Discovery = { ...draft, warnings: [], missingPrivileges: [] };
    const f = readNamespace(sink, ino, opts, legacy);
    found.push(...f);
    draft.warnings.push(...sink.warnings);
    for (const m of sink.missingPrivileges) missing(draft, m.capability, m.effect);
    if (conns.has(ino)) kept.set(ino, { found: f, warnings: sink.warnings, missing: sink.missingPrivileges });
    else kept.delete(ino);
  }
  if (opts.dockerProxy !== false) {
    const dp = dockerProxyForwards(draft.processes);
    draft.warnings.push(...dp.warnings);
    for (const f of dp.forwards) {
      const { pid: _pid, ...rest } = f;
      found.push({ ...rest, source: 'docker-proxy' });
    }
  }
  if (found.length === 0) return;
  const resolver = new Resolver(draft);
  for (const f of found) {
    const net = draft.networks[String(f.netns)];
    if (!net) continue;
    const r = resolver.resolve(f);
    if (r.warning)
      warn(
        draft,
        'forward-unresolved',
        `netns ${f.netns}: ${f.protocol} ${f.hostAddress}:${f.hostPort}: ${r.warning}`,
        f.netns,
      );
    const fp: Draft.ForwardedPort = {
      protocol: f.protocol,
      family: f.family,
      hostAddress: f.hostAddress,
      hostPort: f.hostPort,
      destAddress: f.destAddress,
      destPort: f.destPort,
      source: f.source,
      netns: f.netns,
      owners: r.owners,
    };
    if (f.hostPortEnd !== undefined) fp.hostPortEnd = f.hostPortEnd;
    if (f.chain !== undefined) fp.chain = f.chain;
    if (f.redirect) fp.redirect = true;
    if (r.destNetns !== undefined) fp.destNetns = r.destNetns;
    if (r.container !== undefined) fp.container = r.container;
    net.forwardedPorts.push(fp);
  }
}
