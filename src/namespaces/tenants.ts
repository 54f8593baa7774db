/**
 * Tenants of each network namespace: its leader processes, each container's
 * initial process, and each process whose root directory differs from its
 * parent's (a chroot or pivot_root: the workload of `unshare … chroot
 * ROOTFS CMD`, bubblewrap, firejail, vagga, whose launcher stays behind in
 * the host's root as the namespace's leader). Each comes with the DNS
 * configuration it sees: UTS names, and /etc/hostname, /etc/domainname,
 * /etc/resolv.conf, /etc/hosts read below its own root (by a child process
 * under a watchdog, see etc-reader.ts). A tenant is related to its process
 * by (pid, starttime) and dropped with a warning if the PID changed hands
 * while its files were read.
 */
import type { Draft } from '../model/types.js';
import { parseStat } from '../procfs/parse.js';
import { readProcFile } from '../procfs/read.js';
import { readEtcViews, type ViewJob } from './etc-reader.js';
import { ROOT_FILE_CAP } from './rootfs.js';
import { rootIdentity } from './roots.js';
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

const candidate = (p: Draft.Process): Candidate => ({
  pid: p.pid,
  starttime: p.starttime,
  comm: p.comm,
  uts: p.namespaces.uts,
  mnt: p.namespaces.mnt,
});

export async function collectTenants(
  scan: NamespaceScan,
  containers: Record<string, Draft.Container>,
  options: TenantOptions,
): Promise<TenantResult> {
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

  const roots = new Map<number, string | undefined>();
  const rootOf = (pid: number): string | undefined => {
    if (!roots.has(pid)) roots.set(pid, rootIdentity(procRoot, pid));
    return roots.get(pid);
  };

  for (const ns of Object.values(scan.namespaces)) {
    if (ns.type !== 'net') continue;
    for (const pid of ns.leaders) {
      const p = scan.processes[pid];
      // A leader attached only by a thread that called setns(2) (a CNI plugin, a
      // runtime, wirescope's own network and capture workers) visits the
      // namespace: its files, DNS and name belong to where its main thread is.
      if (p !== undefined && p.namespaces.net === ns.ino) add(ns.ino, candidate(p));
    }
    for (const p of ownRoots(scan, ns, rootOf)) add(ns.ino, candidate(p));
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
    add(netns, { ...candidate(p), container: key });
  }

  const all = [...byNetns.values()].flatMap((m) => [...m.values()]);
  const etc = options.dns ? await readViews(all, procRoot, rootOf, warnings) : new Map<number, EtcOf>();
  const utsCache = new Map<number, UtsNames | undefined>();
  const out = new Map<number, Draft.Tenant[]>();
  for (const [netns, m] of byNetns) {
    const list: Draft.Tenant[] = [];
    for (const c of [...m.values()].sort((a, b) => a.pid - b.pid)) {
      const t = options.dns
        ? withDns(c, procRoot, etc.get(c.pid), utsCache, warnings)
        : tenant(c, { hosts: [] });
      if (t !== undefined) list.push(t);
    }
    out.set(netns, list);
  }
  return { byNetns: out, warnings };
}

/** Kernel threads (children of kthreadd, PID 2) never change their root. */
const isKernelThread = (p: Draft.Process): boolean => p.pid === 2 || p.ppid === 2;

/**
 * The processes of `ns` that are attached to it by their main thread like
 * their parent, but whose root directory differs from the parent's: each
 * sees its own files and is a tenant of its own. (A leader's parent is
 * outside the namespace: it is a tenant anyway.) An unreadable root (the
 * process exited, or ptrace access was denied) decides nothing.
 */
function ownRoots(
  scan: NamespaceScan,
  ns: Draft.Namespace,
  rootOf: (pid: number) => string | undefined,
): Draft.Process[] {
  const out: Draft.Process[] = [];
  for (const pid of ns.processes) {
    const p = scan.processes[pid];
    if (p === undefined || p.namespaces.net !== ns.ino || isKernelThread(p)) continue;
    const parent = scan.processes[p.ppid];
    if (parent === undefined || parent.namespaces.net !== ns.ino) continue;
    const mine = rootOf(pid);
    const theirs = rootOf(parent.pid);
    if (mine !== undefined && theirs !== undefined && mine !== theirs) out.push(p);
  }
  return out;
}

function tenant(c: Candidate, dns: Draft.Dns): Draft.Tenant {
  const t: Draft.Tenant = { pid: c.pid, starttime: c.starttime, comm: c.comm, dns };
  if (c.container !== undefined) t.container = c.container;
  return t;
}

/** A tenant's /etc files as read for its view, or why they were not. */
type EtcOf =
  | { dns: Draft.Dns }
  | { error: string; vanished: boolean }
  /** Not read (the reader timed out or did not start): the warning is given already. */
  | { skipped: true };

/**
 * Reads the /etc files of every tenant, once per view: processes in the same
 * mount namespace with the same root directory see the same files, so on a
 * host with a thousand tenants that share the host's root they are read
 * once. Notes about files (cut, refused) become one warning per view.
 */
async function readViews(
  all: readonly Candidate[],
  procRoot: string,
  rootOf: (pid: number) => string | undefined,
  warnings: Draft.Warning[],
): Promise<Map<number, EtcOf>> {
  const jobs = new Map<string, ViewJob>();
  const viewOf = new Map<number, string>();
  for (const c of all) {
    const root = rootOf(c.pid);
    // Without a root identity the view cannot be shared: read it on its own.
    const key = root === undefined || c.mnt === undefined ? `pid:${c.pid}` : `${c.mnt}:${root}`;
    viewOf.set(c.pid, key);
    const job = jobs.get(key);
    if (job === undefined) jobs.set(key, { key, pids: [c.pid], ...(root !== undefined ? { root } : {}) });
    else if (!job.pids.includes(c.pid)) job.pids.push(c.pid);
  }
  const { results, warnings: w } = await readEtcViews([...jobs.values()], { procRoot });
  warnings.push(...w);
  const comms = new Map(all.map((c) => [c.pid, c.comm]));
  for (const r of results.values()) {
    if (!('pid' in r)) continue;
    const comm = comms.get(r.pid) ?? '?';
    for (const n of r.notes) {
      warnings.push({
        code: n.kind === 'truncated' ? 'dns-file-truncated' : 'dns-file-refused',
        message:
          n.kind === 'truncated'
            ? `${n.file} of process ${r.pid} (${comm}) has ${n.detail}; only its lines within the first ${ROOT_FILE_CAP / 1024} KiB are read`
            : `${n.file} of process ${r.pid} (${comm}) not read: ${n.detail}`,
        pid: r.pid,
      });
    }
  }
  const out = new Map<number, EtcOf>();
  for (const c of all) {
    const r = results.get(viewOf.get(c.pid) as string);
    if (r === undefined) out.set(c.pid, { skipped: true });
    else if ('pid' in r) out.set(c.pid, { dns: r.dns });
    else out.set(c.pid, { error: r.error.message, vanished: r.error.vanished });
  }
  return out;
}

function withDns(
  c: Candidate,
  procRoot: string,
  etc: EtcOf | undefined,
  utsCache: Map<number, UtsNames | undefined>,
  warnings: Draft.Warning[],
): Draft.Tenant | undefined {
  const base = `${procRoot}/${c.pid}`;
  let dns: Draft.Dns = { hosts: [] };
  if (etc !== undefined && 'dns' in etc) dns = structuredClone(etc.dns);
  else if (etc !== undefined && 'error' in etc) {
    if (etc.vanished && !sameProcess(base, c.starttime)) return gone(c, warnings);
    warnings.push({
      code: 'dns-unreadable',
      message: `cannot read the DNS files of process ${c.pid} (${c.comm}): ${etc.error}`,
      pid: c.pid,
    });
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
