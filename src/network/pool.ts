/**
 * The namespace workers (main-thread side). Workers persist across discoveries
 * so their socket caches survive; each namespace inode sticks to one worker.
 * Workers are unref'd while idle so they never keep a CLI process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { close } from '../kernel/libc.js';
import type { Draft } from '../model/types.js';
import type {
  DumpOptions,
  NsDump,
  NsidAnswer,
  NsidQuery,
  NsJob,
  WorkerRequest,
  WorkerResponse,
} from './types.js';

interface Slot {
  worker: Worker;
  pending: Map<
    number,
    { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void; parts?: NsDump[] }
  >;
  dead: boolean;
  /** fds the worker keeps cached; closed here if the worker dies (fds belong to the process, not the thread). */
  fds: number[];
}

let nextId = 1;

function spawn(): Slot {
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    // A small young generation keeps each worker's RSS low; its garbage is short-lived anyway.
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
  const slot: Slot = { worker, pending: new Map(), dead: false, fds: [] };
  worker.unref();
  worker.on('message', (res: WorkerResponse) => {
    const p = slot.pending.get(res.id);
    if (!p) return;
    if (res.op === 'part') {
      // Parsed now, while the worker goes on dumping.
      const parts = p.parts ?? [];
      p.parts = parts;
      for (const d of JSON.parse(res.dumps) as NsDump[]) parts.push(d);
      return;
    }
    slot.pending.delete(res.id);
    if (slot.pending.size === 0) worker.unref();
    if (res.op === 'dump') slot.fds = res.fds;
    if (res.op === 'release') slot.fds = [];
    if (res.op === 'error') p.reject(new Error(res.message));
    else if (res.op === 'dump' && p.parts) {
      for (const d of JSON.parse(res.dumps) as NsDump[]) p.parts.push(d);
      p.resolve({ ...res, dumps: '[]', parsed: p.parts });
    } else p.resolve(res);
  });
  const fail = (err: Error) => {
    if (!slot.dead) for (const fd of slot.fds) close(fd);
    slot.fds = [];
    slot.dead = true;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`network worker exited (code ${code})`)));
  return slot;
}

export class WorkerPool {
  private slots: Slot[] = [];
  /** namespace inode → worker position, so a namespace meets its cached sockets again. */
  private owner = new Map<number, number>();

  readonly size: number;

  constructor(size?: number) {
    this.size = Math.max(1, Math.floor(size ?? Math.min(2, availableParallelism())));
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (!s || s.dead) {
      s = spawn();
      this.slots[i] = s;
      // Its cache died with it.
      for (const [ino, w] of this.owner) if (w === i) this.owner.delete(ino);
    }
    return s;
  }

  private call(i: number, req: WorkerRequest): Promise<WorkerResponse> {
    return this.callSlot(this.slot(i), req);
  }

  private callSlot(s: Slot, req: WorkerRequest): Promise<WorkerResponse> {
    return new Promise((resolve, reject) => {
      s.pending.set(req.id, { resolve, reject });
      s.worker.ref();
      s.worker.postMessage(req);
    });
  }

  /** Splits the jobs over the workers (sticky per inode, new ones balanced) and dumps them. */
  async dump(
    jobs: NsJob[],
    options: DumpOptions,
    cacheLimit: number,
  ): Promise<{ dumps: NsDump[]; warnings: Draft.Warning[] }> {
    for (let i = 0; i < this.size; i++) this.slot(i);
    const keep = jobs.map((j) => j.ino);
    const live = new Set(keep);
    for (const ino of this.owner.keys()) if (!live.has(ino)) this.owner.delete(ino);
    const load = new Array<number>(this.size).fill(0);
    const parts: NsJob[][] = Array.from({ length: this.size }, () => []);
    const fresh: NsJob[] = [];
    for (const j of jobs) {
      const w = this.owner.get(j.ino);
      if (w === undefined) fresh.push(j);
      else {
        (parts[w] as NsJob[]).push(j);
        load[w] = (load[w] as number) + 1;
      }
    }
    for (const j of fresh) {
      let best = 0;
      for (let i = 1; i < this.size; i++) if ((load[i] as number) < (load[best] as number)) best = i;
      (parts[best] as NsJob[]).push(j);
      load[best] = (load[best] as number) + 1;
      this.owner.set(j.ino, best);
    }
    const perCache = Math.max(0, Math.floor(cacheLimit / this.size));
    const warnings: Draft.Warning[] = [];
    const results = await Promise.all(
      parts.map(async (part, i) => {
        try {
          const r = await this.call(i, {
            op: 'dump',
            id: nextId++,
            jobs: part,
            options,
            keep,
            cacheLimit: perCache,
          });
          if (r.op !== 'dump') return [];
          return r.parsed ?? (JSON.parse(r.dumps) as NsDump[]);
        } catch (e) {
          for (const j of part) {
            this.owner.delete(j.ino);
            warnings.push({
              code: 'netns-worker-failed',
              message: `network namespace ${j.ino}: ${(e as Error).message}`,
              ns: j.ino,
            });
          }
          return [];
        }
      }),
    );
    return { dumps: results.flat(), warnings };
  }

  /** Asks, per namespace, which nsid it assigned to each target namespace. */
  async nsids(queries: NsidQuery[]): Promise<{ answers: NsidAnswer[]; warnings: Draft.Warning[] }> {
    const parts: NsidQuery[][] = Array.from({ length: this.size }, () => []);
    for (const q of queries) (parts[this.owner.get(q.ino) ?? 0] as NsidQuery[]).push(q);
    const answers: NsidAnswer[] = [];
    const warnings: Draft.Warning[] = [];
    await Promise.all(
      parts.map(async (part, i) => {
        if (part.length === 0) return;
        try {
          const r = await this.call(i, { op: 'nsid', id: nextId++, queries: part });
          if (r.op === 'nsid') {
            answers.push(...r.answers);
            warnings.push(...r.warnings);
          }
        } catch (e) {
          warnings.push({ code: 'nsid-query-failed', message: (e as Error).message });
        }
      }),
    );
    return { answers, warnings };
  }

  /** Closes every cached socket (releasing the namespaces they keep alive) and stops the workers. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    this.owner.clear();
    await Promise.all(
      slots.map(async (s) => {
        if (s.dead) return;
        await this.callSlot(s, { op: 'release', id: nextId++, keep: [] }).catch(() => undefined);
        s.dead = true;
        await s.worker.terminate().catch(() => 0);
      }),
    );
  }
}
