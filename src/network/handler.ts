/**
 * What a namespace worker does with each request, on whichever thread runs it:
 * a worker thread (worker.ts) or, for a one-shot discovery of a small host, the
 * calling thread itself (pool.ts, InlineWorker). setns(2) only moves the calling
 * thread, so it enters a network namespace, opens its NETLINK_ROUTE and
 * NETLINK_SOCK_DIAG sockets, returns to its own namespace at once, and dumps
 * through the sockets. The sockets are cached per namespace inode: warm runs
 * skip setns entirely. A cached socket keeps its namespace alive, so the cache
 * is trimmed to the namespaces the current scan still sees (`keep`). With the
 * cached sockets comes a multicast monitor socket: warm runs re-dump addresses,
 * routes, rules and forwarding only when it saw them change (dump.ts), and send
 * the main thread only what changed since this worker last sent it (pool.ts).
 */
import { existsSync } from 'node:fs';
import { close, O_CLOEXEC, O_RDONLY, open, SyscallError } from '../kernel/libc.js';
import { NETLINK_NETFILTER, NETLINK_ROUTE, NETLINK_SOCK_DIAG, NetlinkSocket } from '../kernel/netlink.js';
import { NetnsRestoreError, withNetns } from '../kernel/netns.js';
import { NsMismatchError, openNs } from '../kernel/nsfs.js';
import { CONFIG_CHANGE_GROUPS, RTM_GETNSID, RTM_NEWNSID } from '../kernel/rtnetlink/constants.js';
import { buildGetNsid, decodeNsid } from '../kernel/rtnetlink/nsid.js';
import type { Draft } from '../model/types.js';
import { dumpNamespace, emptyDump, type NsConns, natFree, serializeDump, unchangedSince } from './dump.js';
import { loadServices } from './services.js';
import type {
  DumpOptions,
  NsDump,
  NsidAnswer,
  NsidQuery,
  NsJob,
  WorkerRequest,
  WorkerResponse,
} from './types.js';

const cache = new Map<number, NsConns>();

/** The fds this worker keeps open, so the main thread can close them should the worker die. */
function cachedFds(): number[] {
  const out: number[] = [];
  for (const c of cache.values()) {
    out.push(c.route.fd);
    if (c.diag) out.push(c.diag.fd);
    if (c.sockstat) out.push(...c.sockstat);
    if (c.monitor) out.push(c.monitor.fd);
    if (c.netfilter) out.push(c.netfilter.nft.fd, ...c.netfilter.legacyNames);
  }
  return out;
}

function closeConns(c: NsConns): void {
  c.route.close();
  c.diag?.close();
  c.monitor?.close();
  if (c.sockstat) for (const fd of c.sockstat) close(fd);
  if (c.netfilter) {
    c.netfilter.nft.close();
    for (const fd of c.netfilter.legacyNames) close(fd);
  }
}

/**
 * /proc/thread-self/net files listing legacy tables, of the families whose x_tables the kernel has
 * now (then every namespace has the file). Asked per request: a module loaded later (the first
 * iptables-legacy command) adds a family, which sockets cached before do not cover (see natFree).
 */
function legacyNamesPaths(): string[] {
  return ['ip', 'ip6']
    .filter((f) => existsSync(`/proc/self/net/${f}_tables_names`))
    .map((f) => `/proc/thread-self/net/${f}_tables_names`);
}

/**
 * Opens, inside the namespace, what natFree (dump.ts) asks: a NETLINK_NETFILTER socket and the
 * legacy table lists. Undefined when any fails (the decorator then reads the namespace itself).
 */
function openNetfilter(legacy: string[]): NsConns['netfilter'] {
  let nft: NetlinkSocket;
  try {
    nft = new NetlinkSocket(NETLINK_NETFILTER, { timeoutMs: 2000 });
  } catch {
    return undefined;
  }
  const legacyNames: number[] = [];
  try {
    for (const p of legacy) legacyNames.push(open(p, O_RDONLY | O_CLOEXEC));
  } catch {
    nft.close();
    for (const fd of legacyNames) close(fd);
    return undefined;
  }
  return { nft, legacyNames, legacy: legacy.join() };
}

function release(keep: number[]): void {
  const k = new Set(keep);
  for (const [ino, c] of cache) {
    if (!k.has(ino)) {
      closeConns(c);
      cache.delete(ino);
    }
  }
}

/**
 * Enters namespace `ino` through the first ref that opens it and opens the
 * sockets there. A ref that now opens another namespace (PID reused, bind
 * mount replaced) is refused before setns (withNetns checks the inode), and
 * the next one is tried: no other namespace is ever read under this inode.
 */
function openConns(
  ino: number,
  refs: string[],
  withDiag: boolean,
  track = true,
  /** DumpOptions.netfilter: the legacy table lists to open (legacyNamesPaths). */
  netfilter?: string[],
): NsConns {
  let lastErr: unknown;
  for (const ref of refs) {
    try {
      return withNetns(
        ref,
        () => {
          const route = new NetlinkSocket(NETLINK_ROUTE);
          let diag: NetlinkSocket | undefined;
          if (withDiag) {
            try {
              diag = new NetlinkSocket(NETLINK_SOCK_DIAG);
            } catch (e) {
              route.close();
              throw e;
            }
          }
          const conns: NsConns = { route, diag };
          // In the namespace anyway: the forwarded-ports decorator need not enter it again (DumpOptions.netfilter).
          if (netfilter) conns.netfilter = openNetfilter(netfilter);
          if (withDiag) {
            // Only cached sockets (a run with sockets) live long enough for change tracking to pay,
            // and only when more runs follow (DumpOptions.track: a monitor's bind is not cheap).
            if (track) {
              try {
                conns.monitor = new NetlinkSocket(NETLINK_ROUTE, { groups: CONFIG_CHANGE_GROUPS });
              } catch {
                // Without a monitor every table is dumped every run.
              }
            }
            // The sockstat counters pay even for one run: a namespace without sockets is not
            // dumped through sock_diag, which walks the host-wide socket hash for each namespace.
            // Opened while inside: /proc/thread-self/net is this thread's namespace, and the open file stays bound to it.
            try {
              const a = open('/proc/thread-self/net/sockstat', O_RDONLY | O_CLOEXEC);
              try {
                conns.sockstat = [a, open('/proc/thread-self/net/sockstat6', O_RDONLY | O_CLOEXEC)];
              } catch {
                close(a);
              }
            } catch {
              // Without counters every socket table is dumped in full.
            }
          }
          return conns;
        },
        ino,
      );
    } catch (e) {
      if (e instanceof NetnsRestoreError) throw e;
      lastErr = e;
    }
  }
  throw lastErr ?? new Error('no reference to open the namespace');
}

function enterWarning(ino: number, e: unknown): Draft.Warning {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof SyscallError && e.vanished) {
    return {
      code: 'netns-vanished',
      message: `network namespace ${ino} vanished before it could be read: ${msg}`,
      ns: ino,
    };
  }
  return { code: 'netns-enter-failed', message: `cannot enter network namespace ${ino}: ${msg}`, ns: ino };
}

function failedDump(ino: number, w: Draft.Warning): NsDump {
  return { ...emptyDump(ino, [w]), failed: true };
}

/** The dumps as one JSON array text (see serializeDump). */
function serialize(dumps: NsDump[]): string {
  const parts: string[] = [];
  for (const d of dumps) parts.push(serializeDump(d, cache.get(d.ino)?.memo));
  return `[${parts.join(',')}]`;
}

/** Namespaces per partial result: the main thread parses one chunk while this thread dumps the next. */
const CHUNK = 64;

function dumpJobs(
  jobs: NsJob[],
  options: DumpOptions,
  keep: number[],
  cacheLimit: number,
  flush: (part: NsDump[]) => void,
): NsDump[] {
  release(keep);
  const services = options.sockets ? loadServices() : new Map<string, string>();
  const legacy = options.netfilter ? legacyNamesPaths() : undefined;
  const out: NsDump[] = [];
  for (const job of jobs) {
    let conns = cache.get(job.ino);
    const fresh = !conns;
    if (!conns) {
      try {
        conns = openConns(
          job.ino,
          [job.ref, ...job.altRefs],
          options.sockets,
          options.track !== false,
          legacy,
        );
      } catch (e) {
        if (e instanceof NetnsRestoreError) throw e;
        out.push(failedDump(job.ino, enterWarning(job.ino, e)));
        continue;
      }
    }
    // Incremental: a namespace whose monitor reports nothing since the last run is not dumped.
    let stale = 0;
    if (!fresh && job.reuse) {
      const u = unchangedSince(conns, options);
      if (u.unchanged) {
        out.push({ ...emptyDump(job.ino), cached: true, unchanged: true });
        if (out.length >= CHUNK) flush(out.splice(0));
        continue;
      }
      stale = u.stale;
    }
    let dump: NsDump;
    try {
      dump = dumpNamespace(conns, job.ino, job.host, options, services, stale);
    } catch (e) {
      // The link dump itself failed: nothing reliable was read.
      closeConns(conns);
      cache.delete(job.ino);
      out.push(
        failedDump(job.ino, {
          code: 'netlink-dump-failed',
          message: `network namespace ${job.ino}: ${e instanceof Error ? e.message : String(e)}`,
          ns: job.ino,
        }),
      );
      continue;
    }
    if (legacy && natFree(conns, legacy.join())) dump.natFree = true;
    // A socket opened without sock_diag (sockets off) is not reused for a run that wants them.
    if (fresh && options.sockets && cache.size < cacheLimit) cache.set(job.ino, conns);
    else if (fresh) closeConns(conns);
    dump.cached = cache.has(job.ino);
    out.push(dump);
    if (out.length >= CHUNK) flush(out.splice(0));
  }
  return out;
}

function answerNsids(
  queries: NsidQuery[],
  refs: Map<number, string[]>,
): { answers: NsidAnswer[]; warnings: Draft.Warning[] } {
  const answers: NsidAnswer[] = [];
  const warnings: Draft.Warning[] = [];
  for (const q of queries) {
    let conns = cache.get(q.ino);
    let temp = false;
    if (!conns) {
      try {
        conns = openConns(q.ino, refs.get(q.ino) ?? [], false);
        temp = true;
      } catch (e) {
        if (e instanceof NetnsRestoreError) throw e;
        warnings.push(enterWarning(q.ino, e));
        continue;
      }
    }
    const found: [number, number][] = [];
    for (const t of q.targets) {
      let fd: number;
      try {
        // Checked to be namespace t.ino: an nsid found for another namespace
        // behind the same path would be mapped to the wrong inode.
        fd = openNs(t.ref, t.ino);
      } catch (e) {
        // The target went away: it cannot be the peer we look for.
        if (e instanceof SyscallError && e.vanished && !(e instanceof NsMismatchError)) continue;
        warnings.push({
          code: 'nsid-query-failed',
          message: `RTM_GETNSID in ${q.ino} for ${t.ino}: ${(e as Error).message}; not asked`,
          ns: q.ino,
        });
        continue;
      }
      try {
        for (const m of conns.route.request(RTM_GETNSID, 0, buildGetNsid(fd), 'RTM_GETNSID')) {
          const nsid = m.type === RTM_NEWNSID ? decodeNsid(m.data) : undefined;
          if (nsid !== undefined && nsid >= 0) found.push([nsid, t.ino]);
        }
      } catch (e) {
        warnings.push({
          code: 'nsid-query-failed',
          message: `RTM_GETNSID in ${q.ino} for ${t.ino}: ${(e as Error).message}`,
          ns: q.ino,
        });
      } finally {
        close(fd);
      }
    }
    if (temp) closeConns(conns);
    answers.push({ ino: q.ino, found });
  }
  return { answers, warnings };
}

/** Refs of namespaces this worker was last asked to dump, for nsid queries on uncached ones. */
const lastRefs = new Map<number, string[]>();

/**
 * Answers one request through `post` (a dump also posts its partial results on the way). A
 * NetnsRestoreError is posted as an error and thrown on: the thread is stuck in a foreign
 * namespace and must not run anything else.
 */
export function handleRequest(req: WorkerRequest, post: (res: WorkerResponse) => void): void {
  let res: WorkerResponse;
  try {
    if (req.op === 'dump') {
      lastRefs.clear();
      for (const j of req.jobs) lastRefs.set(j.ino, [j.ref, ...j.altRefs]);
      res = {
        op: 'dump',
        id: req.id,
        // As JSON text: stringifying here (in parallel) and JSON.parse on the main thread cost
        // about half of what structured cloning the same object graph does.
        dumps: serialize(
          dumpJobs(req.jobs, req.options, req.keep, req.cacheLimit, (part) =>
            post({ op: 'part', id: req.id, dumps: serialize(part) }),
          ),
        ),
        fds: cachedFds(),
      };
    } else if (req.op === 'nsid') {
      res = { op: 'nsid', id: req.id, ...answerNsids(req.queries, lastRefs) };
    } else {
      release(req.keep);
      res = { op: 'release', id: req.id };
    }
  } catch (e) {
    post({ op: 'error', id: req.id, message: e instanceof Error ? e.message : String(e) });
    if (e instanceof NetnsRestoreError) throw e;
    return;
  }
  post(res);
}
