/**
 * Relating the engines' cached views to the process scan: PIDs an engine
 * reports in its own PID namespace are translated to initial-namespace PIDs,
 * checked against the container's start time (PIDs get reused), and give the
 * container its network namespace; engines inside containers get the
 * enclosing container and their containers a prefix ("outer/inner").
 * Pure functions over the scan and the caches.
 */
import type { Draft } from '../model/types.js';

/** USER_HZ: /proc/PID/stat starttime is in these ticks on every Linux ABI wirescope runs on. */
export const CLK_TCK = 100;

/** Accepted lag between a container's process start and the engine's StartedAt. */
export const START_TOLERANCE_MS = 10_000;

/**
 * Translates PIDs as seen inside an engine's PID namespace to initial-namespace
 * PIDs, using NSpid (/proc/PID/status) of the scanned processes.
 */
export class PidTranslator {
  private readonly byLevel = new Map<number, Map<number, number[]>>();

  constructor(private readonly processes: Record<string, Draft.Process>) {}

  /** Host PID of `pid` as seen by `engine`; undefined when no scanned process matches. */
  toHost(engine: Draft.Process, pid: number): number | undefined {
    const level = Math.max(0, engine.nspid.length - 1);
    if (level === 0) return this.processes[pid] ? pid : undefined;
    const enginePidns = engine.namespaces.pid;
    for (const cand of this.index(level).get(pid) ?? []) {
      if (this.inPidnsSubtree(cand, enginePidns)) return cand;
    }
    return undefined;
  }

  private index(level: number): Map<number, number[]> {
    let m = this.byLevel.get(level);
    if (m) return m;
    m = new Map();
    for (const p of Object.values(this.processes)) {
      const v = p.nspid[level];
      if (p.nspid.length > level && v !== undefined) {
        const list = m.get(v);
        if (list) list.push(p.pid);
        else m.set(v, [p.pid]);
      }
    }
    this.byLevel.set(level, m);
    return m;
  }

  /** A process lives in (a descendant of) a PID namespace iff it or an ancestor lives in it. */
  private inPidnsSubtree(pid: number, pidns: number | undefined): boolean {
    if (pidns === undefined) return false;
    const seen = new Set<number>();
    let p = this.processes[pid];
    while (p && !seen.has(p.pid)) {
      if (p.namespaces.pid === pidns) return true;
      seen.add(p.pid);
      p = this.processes[p.ppid];
    }
    return false;
  }
}

/** Wall-clock start of a process (ms), from boot time and its starttime ticks. */
export function processStartMs(bootTimeSec: number, starttime: number): number {
  return (bootTimeSec + starttime / CLK_TCK) * 1000;
}

/** Reads btime (boot time, seconds since the epoch) from /proc/stat text. */
export function parseBootTime(statText: string): number | undefined {
  const m = /^btime\s+(\d+)$/m.exec(statText);
  return m ? Number(m[1]) : undefined;
}

/**
 * Nearest enclosing container of each process: walks up the parent chain to
 * a container's initial process. Memoised, so the whole table costs O(n).
 */
export function containerOfProcesses(
  processes: Record<string, Draft.Process>,
  initPids: ReadonlyMap<number, string>,
): Map<number, string | null> {
  const memo = new Map<number, string | null>();
  const resolve = (start: number): string | null => {
    const chain: number[] = [];
    let pid = start;
    let found: string | null = null;
    for (;;) {
      const known = memo.get(pid);
      if (known !== undefined) {
        found = known;
        break;
      }
      const c = initPids.get(pid);
      if (c !== undefined) {
        found = c;
        chain.push(pid);
        break;
      }
      const p = processes[pid];
      chain.push(pid);
      if (!p || p.ppid === 0 || p.ppid === pid || chain.length > 4096) break;
      pid = p.ppid;
    }
    for (const c of chain) memo.set(c, found);
    return found;
  };
  for (const p of Object.values(processes)) resolve(p.pid);
  return memo;
}
