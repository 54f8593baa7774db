/**
 * The service under load and at rest (issue 16), on a host already holding
 * the fleet of network namespaces the events suite made:
 *
 * - churn: 50 namespace operations a second (`ip netns add`, `ip netns del`
 *   of namespaces it made, one after another) for 60 s
 *   (WIRESCOPE_BENCH_CHURN_S) while 20 clients read `/json` in a loop and one
 *   reads `/api/events`. Every add and remove must appear as a change event
 *   listing the namespace's inode, in the order done (per inode: nsfs inodes
 *   are reused, by our namespaces and by other users of the host, so events
 *   about an inode that we did not cause are skipped over, not counted);
 *   the lag is from the start of the operation to the event; errors are
 *   failed or non-200 `/json` reads. The service's RSS before and after.
 * - idle: the service's CPU (all threads) over 10 s (WIRESCOPE_BENCH_IDLE_S)
 *   with a subscriber and no change, with 1000 extra sleeping processes.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { promisify } from 'node:util';
import { raw } from '../service/testing/http.js';
import { type Change, cpuMs, ipBatch, pct, type Serve, startWirescope, subscribe } from './events.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size (MB) of a process (/proc/PID/status VmRSS). */
export function rssMb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** CPU time (ms) so far of each thread of a process, with its name (/proc/PID/task/TID/stat). */
export function threadCpu(pid: number | undefined): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(Number(tid), { name, ms: cpuMs(`${pid}/task/${tid}`) });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * The threads that used the most CPU since `before` (from threadCpu), as "name:share%" over `span` ms;
 * wirescope's workers name themselves (ws-watch, ws-discovery, ws-netns, ws-scan), the serving thread is "main".
 */
export function busiestThreads(
  pid: number | undefined,
  before: Map<number, { name: string; ms: number }>,
  span: number,
): string {
  return [...threadCpu(pid)]
    .map(([tid, t]) => ({ name: tid === pid ? 'main' : t.name, ms: t.ms - (before.get(tid)?.ms ?? 0) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 4)
    .map((t) => `${t.name}:${((t.ms / span) * 100).toFixed(2)}%`)
    .join(' ');
}

const discoveries = async (url: string): Promise<number> =>
  (JSON.parse((await raw(url, '/healthz')).body) as { discoveries: number }).discoveries;

/**
 * GET a document, its bytes discarded: the status 200, else the status with the problem's
 * detail, or the error's message on a failure.
 */
function readJson(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      const ok = res.statusCode === 200;
      let text = '';
      res.on('error', (err) => resolve(err.message));
      res.on('data', (b: Buffer) => {
        if (!ok && text.length < 1000) text += b.toString();
      });
      res.on('end', () => {
        if (ok) resolve(200);
        else resolve(`${res.statusCode} ${/"detail":"([^"]*)"/.exec(text)?.[1] ?? ''}`.trim());
      });
    });
    req.on('error', (err) => resolve(err.message));
  });
}

async function stop(svc: Serve): Promise<void> {
  svc.proc.kill();
  await new Promise((r) => (svc.proc.exitCode !== null ? r(undefined) : svc.proc.once('exit', r)));
}

interface Op {
  kind: 'added' | 'removed';
  name: string;
  ino: number;
  /** performance.now() just before the command ran. */
  t0: number;
}

/**
 * Matches operations to change events per inode, in order: each operation takes the first later
 * mention of its inode in its list (added or removed) after the one its predecessor on that inode
 * took. Returns the lags (ms) of the matched ones and how many found none (lost or out of order).
 */
export function matchOps(
  ops: readonly Op[],
  events: readonly { at: number; c: Change }[],
): { lags: number[]; unmatched: number } {
  const mentions = new Map<number, { at: number; kind: Op['kind'] }[]>();
  for (const e of events)
    for (const kind of ['removed', 'added'] as const)
      for (const ino of e.c.changes.namespaces[kind]) {
        const list = mentions.get(ino) ?? [];
        mentions.set(ino, list);
        list.push({ at: e.at, kind });
      }
  const next = new Map<number, number>();
  const lags: number[] = [];
  let unmatched = 0;
  for (const op of ops) {
    const list = mentions.get(op.ino) ?? [];
    let i = next.get(op.ino) ?? 0;
    while (i < list.length && list[i]?.kind !== op.kind) i++;
    const hit = list[i];
    if (!hit) {
      unmatched++;
      continue;
    }
    next.set(op.ino, i + 1);
    lags.push(hit.at - op.t0);
  }
  return { lags, unmatched };
}

export async function churn(prefix: string, netns: number): Promise<BenchResult> {
  const seconds = Number(process.env.WIRESCOPE_BENCH_CHURN_S ?? 60);
  const rate = 50;
  const clients = 20;
  const svc = await startWirescope('events');
  const mine = new Set<string>();
  const ops: Op[] = [];
  let errors = 0;
  /** Errors by kind (a status other than 200, or the client's error message). */
  const errorKinds = new Map<string, number>();
  let failedOps = 0;
  let reads = 0;
  let cpu0 = 0;
  let rss0 = 0;
  try {
    const events = await subscribe(svc.url);
    await raw(svc.url, '/api/discovery');
    rss0 = rssMb(svc.proc.pid);
    cpu0 = cpuMs(svc.proc.pid);
    let done = false;
    // Each client reads the whole document, then pauses (WIRESCOPE_BENCH_CHURN_READ_MS, default 1 s).
    const pause = Number(process.env.WIRESCOPE_BENCH_CHURN_READ_MS ?? 1000);
    const reader = async () => {
      await sleep(Math.random() * pause);
      while (!done) {
        const status = await readJson(`${svc.url}/json`);
        if (status === 200) reads++;
        else {
          errors++;
          errorKinds.set(String(status), (errorKinds.get(String(status)) ?? 0) + 1);
        }
        await sleep(pause);
      }
    };
    const readers = Array.from({ length: clients }, reader);
    const start = performance.now();
    let n = 0;
    try {
      // Open loop: operation k starts at k / rate seconds whether or not earlier ones finished (at
      // most 20 at a time), so the offered load is the rate asked for. A namespace is removed only
      // after its addition finished; operations are matched in the order they started.
      const inFlight = new Set<Promise<void>>();
      const ready: string[] = [];
      const launch = (op: () => Promise<void>) => {
        const p: Promise<void> = op()
          .catch(() => {
            failedOps++;
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      };
      for (let k = 0; performance.now() - start < seconds * 1000; k++) {
        const due = start + (k * 1000) / rate;
        if (due > performance.now()) await sleep(due - performance.now());
        while (inFlight.size >= 20) await Promise.race(inFlight);
        const add = ready.length < 5 || (mine.size < 50 && Math.random() < 0.5);
        const t0 = performance.now();
        if (add) {
          const name = `${prefix}c${n++}`;
          mine.add(name);
          launch(async () => {
            await run('ip', ['netns', 'add', name]);
            ops.push({ kind: 'added', name, ino: statSync(`/run/netns/${name}`).ino, t0 });
            ready.push(name);
          });
        } else {
          const name = ready.splice(Math.floor(Math.random() * ready.length), 1)[0] ?? '';
          const ino = statSync(`/run/netns/${name}`).ino;
          launch(async () => {
            await run('ip', ['netns', 'del', name]);
            mine.delete(name);
            ops.push({ kind: 'removed', name, ino, t0 });
          });
        }
      }
      await Promise.all(inFlight);
      ops.sort((a, b) => a.t0 - b.t0);
      const elapsed = (performance.now() - start) / 1000;
      // Every operation's event, or 10 s for the stragglers.
      const settleEnd = performance.now() + 10_000;
      let m = matchOps(ops, events.seen());
      while (m.unmatched > 0 && performance.now() < settleEnd) {
        await sleep(200);
        m = matchOps(ops, events.seen());
      }
      done = true;
      await Promise.all(readers);
      events.close();
      const cpu = cpuMs(svc.proc.pid) - cpu0;
      const rss1 = rssMb(svc.proc.pid);
      const { lags, unmatched } = m;
      // The same against discovery events only (the document shows it): namespaces added and removed
      // between two discoveries are in none, so only the matched ones count.
      const shown = matchOps(
        ops,
        events.seen().filter((e) => !e.c.census),
      );
      const f = (x: number) => Number(x.toFixed(1));
      return {
        name: `churn: ${rate} namespace ops/s for ${seconds} s, ${clients} clients reading /json, ${netns} netns`,
        figures: {
          operations: ops.length,
          'ops/s done': f(ops.length / elapsed),
          'failed ip commands': failedOps,
          'lost or out of order': unmatched,
          'event lag p50 ms': f(pct(lags, 50)),
          'event lag p99 ms': f(pct(lags, 99)),
          'document lag p50 ms': f(pct(shown.lags, 50)),
          'document lag p99 ms': f(pct(shown.lags, 99)),
          'ops in a discovery event': shown.lags.length,
          '/json reads': reads,
          'read pause ms': pause,
          errors,
          ...(errors > 0
            ? { 'errors by kind': [...errorKinds].map(([k, n]) => `${k}: ${n}`).join(', ') }
            : {}),
          'service CPU % of a core': f((cpu / (performance.now() - start)) * 100),
          'RSS before MB': f(rss0),
          'RSS after MB': f(rss1),
        },
        goal: {
          text: 'no change lost, event lag < 1 s, 0 errors; RSS ≤ 200 MB after 1000 changes',
          met: unmatched === 0 && pct(lags, 100) < 1000 && errors === 0 && (netns < 1000 || rss1 <= 200),
        },
      };
    } finally {
      done = true;
      await Promise.allSettled(readers);
      events.close();
    }
  } finally {
    await stop(svc);
    if (mine.size > 0) ipBatch([...mine].map((ns) => `netns del ${ns}`));
  }
}

/** Starts `count` sleeping processes in one process group (killed as a group by the caller). */
function sleepers(count: number): ChildProcess {
  return spawn('sh', ['-c', `i=0; while [ $i -lt ${count} ]; do sleep 3600 & i=$((i+1)); done; wait`], {
    detached: true,
    stdio: 'ignore',
  });
}

export async function idle(netns: number): Promise<BenchResult> {
  const seconds = Number(process.env.WIRESCOPE_BENCH_IDLE_S ?? 10);
  const extra = 1000;
  const group = sleepers(extra);
  try {
    const svc = await startWirescope('events');
    try {
      const events = await subscribe(svc.url);
      try {
        await raw(svc.url, '/api/discovery');
        // Let the start-up's work (sockets of every namespace, the first discoveries) end.
        await sleep(5000);
        const d0 = await discoveries(svc.url);
        const threads0 = threadCpu(svc.proc.pid);
        const c0 = cpuMs(svc.proc.pid);
        const t0 = performance.now();
        await sleep(seconds * 1000);
        const span = performance.now() - t0;
        const share = ((cpuMs(svc.proc.pid) - c0) / span) * 100;
        // Per thread (the host is shared: other users' changes cause discoveries, counted here).
        const busiest = busiestThreads(svc.proc.pid, threads0, span);
        return {
          name: `idle service with a subscriber, ${netns} netns, ${extra} extra sleeping processes, ${seconds} s`,
          figures: {
            'CPU % of a core': Number(share.toFixed(2)),
            'busiest threads': busiest,
            'discoveries meanwhile': (await discoveries(svc.url)) - d0,
            'RSS MB': Number(rssMb(svc.proc.pid).toFixed(1)),
          },
          goal: { text: '< 1% of a core', met: share < 1 },
        };
      } finally {
        events.close();
      }
    } finally {
      await stop(svc);
    }
  } finally {
    if (group.pid !== undefined) {
      try {
        process.kill(-group.pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
  }
}
