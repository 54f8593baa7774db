/**
 * Tenants of each network namespace: its leader processes plus each
 * container's initial process, each with the DNS configuration it sees
 * (UTS names, /etc/hostname, /etc/domainname, /etc/resolv.conf, /etc/hosts
 * read through /proc/PID/root). A tenant is related to its process by
 * (pid, starttime) and dropped with a warning if the PID changed hands
 * while its files were read.
 */
import { statSync } from 'node:fs';
import type { Draft } from '../model/types.js';
import { parseStat } from '../procfs/parse.js';
import { classify, errorText, readProcFile } from '../procfs/read.js';
import { readEtcDns } from './dns.js';
import type { NamespaceScan } from './scan.js';
import { readUtsNames, type UtsNames } from './uts.js';

export interface TenantResult {
  /** Network namespace inode → its tenants, ordered by PID. */
  byNetns: Map<number, Draft.Tenant[]>;
  warnings: Draft.Warning[];
}

export interface TenantOptions {
  /** Read DNS configuration (UTS names and /etc files); otherwise tenants carry an empty one. */
  dns: boolean;
  /** procfs root (default /proc). */
  procRoot?: string;
}

interface Candidate {
  pid: number;
  starttime: number;
  comm: string;
  uts?: number;
  mnt?: number;
  container?: string;
}

export function collectTenants(
  scan: NamespaceScan,
  containers: Record<string, Draft.Container>,
  options: TenantOptions,
): TenantResult {
  const procRoot = options.procRoot ?? '/proc';
  const warnings: Draft.Warning[] = [];
  const byNetns = new Map<number, Map<number, Candidate>>();
  const add = (netns: number, c: Candidate): void => {
    let m = byNetns.get(netns);
    if (m === undefined) {
      m = new Map();
      byNetns.set(netns, m);
    }
    const had = m.get(c.pid);
    if (had === undefined) m.set(c.pid, c);
    else if (c.container !== undefined) had.container = c.container;
  };

  for (const ns of Object.values(scan.namespaces)) {
    if (ns.type !== 'net') continue;
    for (const pid of ns.leaders) {
      const p = scan.processes[pid];
      if (p === undefined) continue;
      add(ns.ino, {
        pid,
        starttime: p.starttime,
        comm: p.comm,
        uts: p.namespaces.uts,
        mnt: p.namespaces.mnt,
      });
    }
  }
  // Tenant.container is the key of the container in Discovery.containers (for
  // containerd that is engine/namespace/id, not the bare id).
  for (const [key, c] of Object.entries(containers)) {
    if (c.pid === undefined || c.pid <= 0) continue;
    const p = scan.processes[c.pid];
    // Only the very process the engine reported: same PID *and* starttime.
    if (p === undefined || (c.starttime !== undefined && p.starttime !== c.starttime)) {
      warnings.push({
        code: 'tenant-missing',
        message: `initial process ${c.pid} of container ${c.name} was not found in the scan; no tenant`,
        pid: c.pid,
      });
      continue;
    }
    const netns = c.netns ?? p.namespaces.net;
    if (netns === undefined) continue;
    add(netns, {
      pid: p.pid,
      starttime: p.starttime,
      comm: p.comm,
      uts: p.namespaces.uts,
      mnt: p.namespaces.mnt,
      container: key,
    });
  }

  const caches: Caches = { uts: new Map(), etc: new Map() };
  const out = new Map<number, Draft.Tenant[]>();
  for (const [netns, m] of byNetns) {
    const list: Draft.Tenant[] = [];
    for (const c of [...m.values()].sort((a, b) => a.pid - b.pid)) {
      const t = options.dns ? withDns(c, procRoot, caches, warnings) : tenant(c, { hosts: [] });
      if (t !== undefined) list.push(t);
    }
    out.set(netns, list);
  }
  return { byNetns: out, warnings };
}

function tenant(c: Candidate, dns: Draft.Dns): Draft.Tenant {
  const t: Draft.Tenant = { pid: c.pid, starttime: c.starttime, comm: c.comm, dns };
  if (c.container !== undefined) t.container = c.container;
  return t;
}

interface Caches {
  uts: Map<number, UtsNames | undefined>;
  /** By view: mount namespace + root directory (see etcView). */
  etc: Map<string, Draft.Dns>;
}

/**
 * Processes in the same mount namespace with the same root directory see
 * the same files, so their /etc is read once: on a host with a thousand
 * tenants that share the host's root this saves thousands of reads.
 */
function etcView(c: Candidate, base: string): string | undefined {
  if (c.mnt === undefined) return undefined;
  const st = statSync(`${base}/root`);
  return `${c.mnt}:${st.dev}:${st.ino}`;
}

function withDns(
  c: Candidate,
  procRoot: string,
  caches: Caches,
  warnings: Draft.Warning[],
): Draft.Tenant | undefined {
  const base = `${procRoot}/${c.pid}`;
  const utsCache = caches.uts;
  let dns: Draft.Dns;
  try {
    const view = etcView(c, base);
    const cached = view === undefined ? undefined : caches.etc.get(view);
    if (cached !== undefined) {
      dns = structuredClone(cached);
    } else {
      dns = readEtcDns(`${base}/root`);
      if (view !== undefined) caches.etc.set(view, structuredClone(dns));
    }
  } catch (err) {
    if (classify(err) === 'vanished' && !sameProcess(base, c.starttime)) return gone(c, warnings);
    warnings.push({
      code: 'dns-unreadable',
      message: `cannot read the DNS files of process ${c.pid} (${c.comm}): ${errorText(err)}`,
      pid: c.pid,
    });
    dns = { hosts: [] };
  }
  if (c.uts !== undefined) {
    let names = utsCache.get(c.uts);
    if (!utsCache.has(c.uts)) {
      try {
        names = readUtsNames(`${base}/ns/uts`, c.uts);
      } catch (err) {
        names = undefined;
        if (!sameProcess(base, c.starttime)) return gone(c, warnings);
        warnings.push({
          code: 'uts-unreadable',
          message: `cannot read the hostname of UTS namespace ${c.uts}: ${err instanceof Error ? err.message : String(err)}`,
          pid: c.pid,
          ns: c.uts,
        });
      }
      // Cache only successes: another tenant may reach the namespace.
      if (names !== undefined) utsCache.set(c.uts, names);
    }
    if (names !== undefined) {
      dns.utsHostname = names.hostname;
      dns.utsDomainname = names.domainname;
    }
  }
  // Files read through a PID that was reused would belong to another process.
  if (!sameProcess(base, c.starttime)) return gone(c, warnings);
  return tenant(c, dns);
}

function sameProcess(base: string, starttime: number): boolean {
  try {
    return parseStat(readProcFile(`${base}/stat`))?.starttime === starttime;
  } catch {
    return false;
  }
}

function gone(c: Candidate, warnings: Draft.Warning[]): undefined {
  warnings.push({
    code: 'process-vanished',
    message: `tenant process ${c.pid} (${c.comm}) exited while its DNS configuration was read; skipped`,
    pid: c.pid,
  });
  return undefined;
}
