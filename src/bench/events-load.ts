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
import { readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { promisify } from 'node:util';
import { raw } from '../service/testing/http.js';
import { cpuMs, ipBatch, pct, type Serve, startWirescope, subscribe } from './events.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size (MB) of a process (/proc/PID/status VmRSS). */
export function rssMb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** GET a document, its bytes discarded: the status, or 0 on a failure. */
function readJson(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      res.on('error', () => resolve(0));
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('error', () => resolve(0));
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
  events: readonly { at: number; c: { changes: { namespaces: { added: number[]; removed: number[] } } } }[],
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
        if ((await readJson(`${svc.url}/json`)) === 200) reads++;
        else errors++;
        await sleep(pause);
      }
    };
    const readers = Array.from({ length: clients }, reader);
    const start = performance.now();
    let n = 0;
    try {
      for (let k = 0; performance.now() - start < seconds * 1000; k++) {
        // Paced: operation k starts at k / rate seconds (or at once, when behind).
        const due = start + (k * 1000) / rate;
        if (due > performance.now()) await sleep(due - performance.now());
        const add = mine.size < 5 || (mine.size < 50 && Math.random() < 0.5);
        const t0 = performance.now();
        if (add) {
          const name = `${prefix}c${n++}`;
          await run('ip', ['netns', 'add', name]);
          mine.add(name);
          ops.push({ kind: 'added', name, ino: statSync(`/run/netns/${name}`).ino, t0 });
        } else {
          const name = [...mine][Math.floor(Math.random() * mine.size)] ?? '';
          const ino = statSync(`/run/netns/${name}`).ino;
          await run('ip', ['netns', 'del', name]);
          mine.delete(name);
          ops.push({ kind: 'removed', name, ino, t0 });
        }
      }
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
      const f = (x: number) => Number(x.toFixed(1));
      return {
        name: `churn: ${rate} namespace ops/s for ${seconds} s, ${clients} clients reading /json, ${netns} netns`,
        figures: {
          operations: ops.length,
          'ops/s done': f(ops.length / elapsed),
          'lost or out of order': unmatched,
          'event lag p50 ms': f(pct(lags, 50)),
          'event lag p99 ms': f(pct(lags, 99)),
          '/json reads': reads,
          'read pause ms': pause,
          errors,
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
        const c0 = cpuMs(svc.proc.pid);
        const t0 = performance.now();
        await sleep(seconds * 1000);
        const share = ((cpuMs(svc.proc.pid) - c0) / (performance.now() - t0)) * 100;
        return {
          name: `idle service with a subscriber, ${netns} netns, ${extra} extra sleeping processes, ${seconds} s`,
          figures: {
            'CPU % of a core': Number(share.toFixed(2)),
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
