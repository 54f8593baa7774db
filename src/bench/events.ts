/**
 * Change → event latency of `wirescope serve` (issue 16: p50 < 100 ms,
 * p99 < 250 ms, and CPU per change at 1000 netns within 2× of 10 netns): on a
 * host with N extra network namespaces (10, 200 and 1000; --quick: 10 and 50),
 * a client subscribed to `/api/events` times `ip netns add` (from just before
 * the command) to the first `change` event that lists the new namespace's
 * inode (the census's, where the census runs on events), and to the event of
 * the discovery whose document shows it ("document");
 * then `ip netns del` and its event, and a random pause (0–500 ms) so the old
 * census's 500 ms phase is sampled evenly. The service's CPU time (all its
 * threads, /proc/PID/stat) from the add to the removal's event, halved, is
 * the CPU per change.
 *
 * The largest size also runs the churn and idle cases (events-load.ts).
 *
 * Compared in the same run, each in a `wirescope serve` process of its own:
 * incremental discoveries against full ones on every change
 * (WIRESCOPE_INCREMENTAL=0), both on the event-driven census; up to 200 netns
 * also the old polling census (WIRESCOPE_CENSUS=poll: /proc walked every
 * 500 ms, 200 ms settle) and the census alone.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { raw } from '../service/testing/http.js';
import { startServe } from '../service/testing/serve.js';
import { ChangeWatcher } from '../watch/watcher.js';
import { churn, idle } from './events-load.js';
import type { BenchResult, BenchSuite } from './types.js';

export const ipBatch = (lines: string[]): void => {
  if (lines.length === 0) return;
  execFileSync('ip', ['-force', '-batch', '-'], {
    input: `${lines.join('\n')}\n`,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
};

export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

export interface Serve {
  url: string;
  proc: ChildProcess;
}

export async function startWirescope(census: 'events' | 'poll', incremental = true): Promise<Serve> {
  const served = await startServe(['serve', '--listen', '127.0.0.1:0'], {
    WIRESCOPE_CENSUS: census,
    WIRESCOPE_INCREMENTAL: incremental ? '1' : '0',
  });
  if (!served.url) throw new Error(`wirescope serve exited: ${served.stderr.trim()}`);
  return { url: served.url, proc: served.proc };
}

export interface Change {
  /** A census event (the namespace came or went; the document follows in a discovery's event). */
  census?: boolean;
  changes: { namespaces: { added: number[]; removed: number[] } };
}

export interface Subscription {
  /** How many change events arrived so far: waitFor looks only at later ones (nsfs inodes are reused). */
  mark(): number;
  waitFor(what: string, test: (c: Change) => boolean, ms: number, since: number): Promise<number>;
  /** Every change event so far, with its arrival time (performance.now()). */
  seen(): readonly { at: number; c: Change }[];
  close(): void;
}

/** An /api/events subscriber that timestamps each change event as its bytes arrive. */
export function subscribe(url: string): Promise<Subscription> {
  return new Promise((resolve, reject) => {
    const seen: { at: number; c: Change }[] = [];
    const waiters = new Set<() => void>();
    let buf = '';
    const req = get(`${url}/api/events`, (res) => {
      res.setEncoding('utf8');
      let greeted = false;
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buf += chunk;
        const blocks = buf.split('\n\n');
        buf = blocks.pop() ?? '';
        for (const b of blocks) {
          if (b.includes('event: hello') && !greeted) {
            greeted = true;
            resolve({ mark: () => seen.length, waitFor, seen: () => seen, close: () => req.destroy() });
          }
          const data = b.split('\n').find((l) => l.startsWith('data: '));
          if (b.includes('event: change') && data) seen.push({ at, c: JSON.parse(data.slice(6)) as Change });
        }
        for (const w of waiters) w();
      });
    });
    req.on('error', reject);
    const waitFor = (
      what: string,
      test: (c: Change) => boolean,
      ms: number,
      since: number,
    ): Promise<number> =>
      new Promise((ok, fail) => {
        const check = () => {
          const hit = seen.slice(since).find((s) => test(s.c));
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          ok(hit.at);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`timed out after ${ms} ms waiting for ${what}`));
        }, ms);
        waiters.add(check);
        check();
      });
  });
}

/** CPU time (ms) the process used so far, all its threads (utime + stime of /proc/PID/stat). */
export function cpuMs(pid: number | string | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

interface Measured {
  /** To the first event listing the namespace (the census's, where it tells). */
  latencies: number[];
  /** To the event of the discovery whose document shows it. */
  docLatencies: number[];
  /** CPU of the service (ms) per change: from before `ip netns add` until the removal's event, halved. */
  cpuPerChange: number;
}

async function measure(
  census: 'events' | 'poll',
  prefix: string,
  samples: number,
  incremental = true,
): Promise<Measured> {
  const svc = await startWirescope(census, incremental);
  const out: number[] = [];
  const doc: number[] = [];
  let cpu = 0;
  try {
    const events = await subscribe(svc.url);
    // A first discovery, so the next one diffs against it.
    await raw(svc.url, '/api/discovery');
    try {
      for (let i = 0; i < samples; i++) {
        const name = `${prefix}${census[0]}${i}`;
        await new Promise((r) => setTimeout(r, Math.random() * 500));
        let since = events.mark();
        const c0 = cpuMs(svc.proc.pid);
        const t0 = performance.now();
        execFileSync('ip', ['netns', 'add', name]);
        try {
          const ino = statSync(`/run/netns/${name}`).ino;
          const at = await events.waitFor(
            `the change event adding ${name} (${ino})`,
            (c) => c.changes.namespaces.added.includes(ino),
            30_000,
            since,
          );
          out.push(at - t0);
          // The document shows it: the discovery's event (the census's comes first where it runs).
          const shown = await events.waitFor(
            `the discovery's change event adding ${name} (${ino})`,
            (c) => !c.census && c.changes.namespaces.added.includes(ino),
            30_000,
            since,
          );
          doc.push(shown - t0);
          since = events.mark();
          execFileSync('ip', ['netns', 'del', name]);
          await events.waitFor(
            `the discovery's change event removing ${name} (${ino})`,
            (c) => !c.census && c.changes.namespaces.removed.includes(ino),
            30_000,
            since,
          );
          cpu += cpuMs(svc.proc.pid) - c0;
        } finally {
          try {
            ipBatch([`netns del ${name}`]);
          } catch {
            // deleted above
          }
        }
      }
    } finally {
      events.close();
    }
    if (census === 'events') {
      const h = JSON.parse((await raw(svc.url, '/healthz')).body) as { watch?: { census?: string } };
      if (h.watch?.census !== 'events')
        throw new Error(`the census did not run on events: ${JSON.stringify(h.watch)}`);
    }
  } finally {
    svc.proc.kill();
    await new Promise((r) => (svc.proc.exitCode !== null ? r(undefined) : svc.proc.once('exit', r)));
  }
  return { latencies: out, docLatencies: doc, cpuPerChange: cpu / (2 * Math.max(1, out.length)) };
}

/**
 * The census alone, without the discovery behind it: two watchers in this process (the
 * event-driven one looking every 20 ms, the polling one walking every 500 ms) and the time from
 * `ip netns add` until each knows the inode, then until each forgot it after `ip netns del`.
 */
async function detect(prefix: string, samples: number): Promise<{ events: number[]; poll: number[] }> {
  const nothing = () => undefined;
  const ev = new ChangeWatcher(nothing, { censusMode: 'events', netlink: false });
  const poll = new ChangeWatcher(nothing, { censusMode: 'poll', netlink: false });
  const out = { events: [] as number[], poll: [] as number[] };
  ev.start();
  poll.start();
  const until = async (what: string, cond: () => boolean) => {
    const end = performance.now() + 10_000;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  try {
    for (let i = 0; i < samples; i++) {
      const name = `${prefix}d${i}`;
      await new Promise((r) => setTimeout(r, Math.random() * 500));
      const t0 = performance.now();
      execFileSync('ip', ['netns', 'add', name]);
      try {
        const ino = statSync(`/run/netns/${name}`).ino;
        const seen: Partial<Record<'events' | 'poll', number>> = {};
        await until(`both censuses to list ${name}`, () => {
          if (seen.events === undefined && ev.knows(ino)) seen.events = performance.now() - t0;
          if (seen.poll === undefined && poll.knows(ino)) seen.poll = performance.now() - t0;
          return seen.events !== undefined && seen.poll !== undefined;
        });
        out.events.push(seen.events ?? Number.NaN);
        out.poll.push(seen.poll ?? Number.NaN);
        execFileSync('ip', ['netns', 'del', name]);
        await until(`both censuses to forget ${name}`, () => !ev.knows(ino) && !poll.knows(ino));
      } finally {
        try {
          ipBatch([`netns del ${name}`]);
        } catch {
          // deleted above
        }
      }
    }
  } finally {
    ev.stop();
    poll.stop();
  }
  return out;
}

export const suite: BenchSuite = {
  name: 'events',
  async run({ quick }) {
    const results: BenchResult[] = [];
    const samples = quick ? 10 : 25;
    const f = (xs: number[], q: number) => Number(pct(xs, q).toFixed(1));
    /** CPU per change at 10 netns (incremental), the base of the 2× goal. */
    let cpuBase: number | undefined;
    const sizes = process.env.WIRESCOPE_BENCH_EVENTS_NETNS
      ? process.env.WIRESCOPE_BENCH_EVENTS_NETNS.split(',').map(Number)
      : quick
        ? [10, 50]
        : [10, 200, 1000];
    const largest = Math.max(...sizes);
    // WIRESCOPE_BENCH_CHURN_ONLY=1: only the churn and idle cases; WIRESCOPE_BENCH_NO_CHURN=1: without them.
    const churnOnly = process.env.WIRESCOPE_BENCH_CHURN_ONLY === '1';
    const noChurn = process.env.WIRESCOPE_BENCH_NO_CHURN === '1';
    for (const n of sizes) {
      const p = `wse${Math.random().toString(36).slice(2, 6)}`;
      const fleet = Array.from({ length: n }, (_, i) => `${p}f${i}`);
      try {
        ipBatch(fleet.map((ns) => `netns add ${ns}`));
        if (n === largest && !noChurn) {
          results.push(await churn(p, n));
          results.push(await idle(n));
        }
        if (churnOnly) continue;
        // The census alone and the old polling path: the 1000 netns run measures discoveries only.
        if (n <= 200) {
          const d = await detect(p, samples);
          results.push({
            name: `ip netns add → census lists it (no discovery), ${n} netns, ${samples} samples`,
            figures: {
              'events p50 ms': f(d.events, 50),
              'events p99 ms': f(d.events, 99),
              'poll p50 ms': f(d.poll, 50),
              'poll p99 ms': f(d.poll, 99),
              'p50 ratio poll/events': Number((pct(d.poll, 50) / pct(d.events, 50)).toFixed(2)),
            },
          });
          const poll = await measure('poll', p, samples);
          results.push({
            name: `ip netns add → /api/events change, polling census, full discoveries, ${n} netns`,
            figures: { 'p50 ms': f(poll.latencies, 50), 'p99 ms': f(poll.latencies, 99) },
          });
        }
        try {
          // Before and after in one run: full discoveries on every change, then incremental ones.
          // WIRESCOPE_BENCH_NO_FULL=1: incremental only (a full discovery of 1000 netns on a loaded host takes seconds).
          const noFull = process.env.WIRESCOPE_BENCH_NO_FULL === '1';
          const none: Measured = { latencies: [], docLatencies: [], cpuPerChange: Number.NaN };
          const full = noFull ? none : await measure('events', p, samples, false);
          const inc = await measure('events', p, samples, true);
          cpuBase ??= inc.cpuPerChange;
          results.push({
            name: `ip netns add → /api/events change, ${n} netns, ${samples} samples`,
            figures: {
              'incremental p50 ms': f(inc.latencies, 50),
              'incremental p99 ms': f(inc.latencies, 99),
              'incremental document p50 ms': f(inc.docLatencies, 50),
              'incremental document p99 ms': f(inc.docLatencies, 99),
              'full p50 ms': f(full.latencies, 50),
              'full p99 ms': f(full.latencies, 99),
              'full document p50 ms': f(full.docLatencies, 50),
              'incremental CPU ms/change': Number(inc.cpuPerChange.toFixed(1)),
              'full CPU ms/change': Number(full.cpuPerChange.toFixed(1)),
              'CPU ratio to 10 netns': Number((inc.cpuPerChange / cpuBase).toFixed(2)),
            },
            goal: {
              text: 'p50 < 100 ms, p99 < 250 ms, CPU per change within 2× of 10 netns',
              met:
                pct(inc.latencies, 50) < 100 &&
                pct(inc.latencies, 99) < 250 &&
                inc.cpuPerChange <= 2 * cpuBase,
            },
          });
        } catch (err) {
          results.push({
            name: `ip netns add → /api/events change, ${n} netns: failed`,
            figures: { error: err instanceof Error ? err.message : String(err) },
          });
        }
      } finally {
        ipBatch(fleet.map((ns) => `netns del ${ns}`));
      }
    }
    return results;
  },
};
