/**
 * Reads tenants' /etc files in a child process under a watchdog.
 *
 * rootfs.ts makes every open and read non-blocking that the kernel lets be
 * (no FIFO or device is opened, leases answer EWOULDBLOCK, reads are capped),
 * but the filesystem below a container's root is the container's: a FUSE
 * mount whose daemon never answers (which an unprivileged user can make in
 * a user namespace) or a dead NFS server blocks the path walk itself, in a
 * wait that only a fatal signal ends (fuse's request_wait_answer is
 * killable, not interruptible). A worker thread stuck there could never be
 * stopped, and Node joins its worker threads when it exits, so the whole
 * program would hang at exit. A child process can be SIGKILLed: so the
 * reading is done in one, kept warm between discoveries.
 *
 * The child reports each view (one root directory) as it finishes. When no
 * report comes for STEP_MS, the view in progress is given up with a
 * warning, the child is killed and a fresh one reads the rest; that view is
 * then skipped for SKIP_MS by later discoveries rather than costing each of
 * them the wait again. The whole reading has a budget (BUDGET_MS) after
 * which the remaining views are skipped.
 *
 * One view is read in-process: wirescope's own (its mount namespace and root
 * directory, as the host's processes usually share them). Its files are the
 * ones wirescope itself sees at /etc: a filesystem there that does not answer
 * would stop wirescope's own start as well, and only a privileged user can
 * mount over them (an unprivileged FUSE mount needs a directory of its own,
 * and a chroot into it makes another root, another view). So a host whose
 * tenants all share wirescope's view starts no child at all (a child's start
 * is Node's: 150–300 ms on a busy two-core host).
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Draft } from '../model/types.js';
import type { EtcDns, EtcNote } from './dns.js';
import { ownViewKey, readView } from './etc-view.js';

/** One root directory to read the /etc files of, through any of these processes. */
export interface ViewJob {
  key: string;
  pids: number[];
  /** Identity ("dev:ino") the root must still have when read. */
  root?: string;
}

export type ViewResult =
  | { key: string; pid: number; dns: EtcDns; notes: EtcNote[] }
  | { key: string; error: { message: string; vanished: boolean } };

export type ParentMessage = { type: 'read'; batch: number; procRoot: string; jobs: ViewJob[] };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; batch: number; result: ViewResult }
  | { type: 'done'; batch: number };

export interface EtcReadOptions {
  procRoot: string;
  /** Longest wait for one view (default STEP_MS). */
  stepMs?: number;
  /** Longest wait for a new child to start (default START_MS). */
  startMs?: number;
  /** Longest time for all views (default BUDGET_MS). */
  budgetMs?: number;
}

/** Reading four small files takes microseconds; two seconds is a stuck filesystem, even on a busy host. */
export const STEP_MS = 2000;
/** Node's start and the modules it loads, on a loaded host. */
export const START_MS = 20_000;
export const BUDGET_MS = 10_000;
/** How long a view that got stuck is skipped. */
export const SKIP_MS = 60_000;

interface Reader {
  child: ChildProcess;
  ready: Promise<boolean>;
}

let warm: Reader | undefined;
let batches = 0;
/** View key → until when it is skipped (it got stuck). */
const skipped = new Map<string, number>();

function spawnReader(): Reader {
  const child = fork(new URL('./etc-reader-child.js', import.meta.url), [], {
    // Nothing of ours: `node --test` or --input-type would change what the child runs.
    execArgv: [],
    env: { ...process.env, WIRESCOPE_ETC_PARENT: String(process.pid) },
    // Its faults reach us as warnings ("did not start", "died"), never as its stack trace on our stderr.
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    serialization: 'advanced',
  });
  // Never keeps the program alive: a discovery that waits on it holds timers.
  child.unref();
  child.channel?.unref();
  const ready = new Promise<boolean>((resolve) => {
    const onMessage = (m: ChildMessage): void => {
      if (m.type !== 'ready') return;
      child.off('message', onMessage);
      resolve(true);
    };
    child.on('message', onMessage);
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  child.on('error', () => {});
  child.once('exit', () => {
    if (warm?.child === child) warm = undefined;
  });
  return { child, ready };
}

/**
 * Starts the reader ahead of need (it takes Node's start time, which can
 * overlap the namespace scan); idempotent.
 */
export function prepareEtcReader(): void {
  if (warm === undefined) warm = spawnReader();
}

function kill(r: Reader): void {
  if (warm === r) warm = undefined;
  r.child.removeAllListeners('message');
  r.child.kill('SIGKILL');
}

const withTimeout = <T>(p: Promise<T>, ms: number, fallback: T): Promise<T> =>
  new Promise((resolve) => {
    const t = setTimeout(() => resolve(fallback), Math.max(0, ms));
    p.then((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });

/** How a batch ended: all read, the child gone, or no answer within a step or the budget. */
type BatchEnd = 'complete' | 'died' | 'step' | 'budget';

/**
 * Results of the views one child read before the batch ended (when not
 * complete, the next view is the one it was on).
 */
function runBatch(
  r: Reader,
  procRoot: string,
  jobs: ViewJob[],
  stepMs: number,
  deadline: number,
): Promise<{ results: ViewResult[]; end: BatchEnd }> {
  const batch = ++batches;
  const results: ViewResult[] = [];
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (end: BatchEnd): void => {
      clearTimeout(timer);
      r.child.off('message', onMessage);
      r.child.off('exit', onExit);
      resolve({ results, end });
    };
    const arm = (): void => {
      clearTimeout(timer);
      const left = deadline - Date.now();
      timer = setTimeout(
        () => finish(left < stepMs ? 'budget' : 'step'),
        Math.max(0, Math.min(stepMs, left)),
      );
    };
    const onMessage = (m: ChildMessage): void => {
      if (m.type === 'result' && m.batch === batch) {
        results.push(m.result);
        arm();
      } else if (m.type === 'done' && m.batch === batch) finish('complete');
    };
    const onExit = (): void => finish('died');
    r.child.on('message', onMessage);
    r.child.once('exit', onExit);
    arm();
    const msg: ParentMessage = { type: 'read', batch, procRoot, jobs };
    try {
      r.child.send(msg);
    } catch {
      finish('died');
    }
  });
}

export interface EtcViews {
  results: Map<string, ViewResult>;
  warnings: Draft.Warning[];
}

/** Discoveries that overlap take turns: one child reads one batch at a time. */
let turn: Promise<unknown> = Promise.resolve();

let own: { key: string | undefined } | undefined;

/** The key of wirescope's own view (see the top), read once: a thread cannot change its mount namespace. */
function ownView(): string | undefined {
  own ??= { key: ownViewKey() };
  return own.key;
}

/**
 * The /etc files of each view, by key (in the order of `jobs`); views that could not be read are
 * absent, with a warning.
 */
export async function readEtcViews(jobs: readonly ViewJob[], options: EtcReadOptions): Promise<EtcViews> {
  const mineKey = options.procRoot === '/proc' ? ownView() : undefined;
  const direct = new Map<string, ViewResult>();
  for (const j of jobs) if (j.key === mineKey) direct.set(j.key, readView(options.procRoot, j));
  const rest = direct.size > 0 ? jobs.filter((j) => !direct.has(j.key)) : jobs;
  if (rest.length === 0) return { results: direct, warnings: [] };
  const mine = turn.then(() => readInTurn(rest, options));
  turn = mine.catch(() => {});
  const read = await mine;
  if (direct.size === 0) return read;
  const results = new Map<string, ViewResult>();
  for (const j of jobs) {
    const r = direct.get(j.key) ?? read.results.get(j.key);
    if (r !== undefined) results.set(j.key, r);
  }
  return { results, warnings: read.warnings };
}

/** The inode of wirescope's own mount namespace (a tenant in another one needs the reader child). */
export function ownMountNamespace(): number | undefined {
  const key = ownView();
  return key === undefined ? undefined : Number(key.split(':')[0]);
}

async function readInTurn(jobs: readonly ViewJob[], options: EtcReadOptions): Promise<EtcViews> {
  const results = new Map<string, ViewResult>();
  const warnings: Draft.Warning[] = [];
  const stepMs = options.stepMs ?? STEP_MS;
  const now = Date.now();
  for (const [key, until] of skipped) if (until <= now) skipped.delete(key);
  let queue = jobs.filter((j) => {
    if (!skipped.has(j.key)) return true;
    warnings.push({
      code: 'dns-skipped',
      message: `DNS files of process ${j.pids[0]} not read: reading them timed out within the last ${SKIP_MS / 1000} s`,
      ...(j.pids[0] !== undefined ? { pid: j.pids[0] } : {}),
    });
    return false;
  });
  const budgetMs = options.budgetMs ?? BUDGET_MS;
  // From the first read on: a child's start is not the reading's.
  let deadline: number | undefined;
  while (queue.length > 0) {
    const r = warm ?? spawnReader();
    warm = r;
    if (!(await withTimeout(r.ready, options.startMs ?? START_MS, false))) {
      kill(r);
      warnings.push({
        code: 'dns-unreadable',
        message: `the reader of DNS files did not start; DNS files of ${queue.length} root directories not read`,
      });
      break;
    }
    deadline ??= Date.now() + budgetMs;
    const out = await runBatch(r, options.procRoot, queue, stepMs, deadline);
    for (const res of out.results) results.set(res.key, res);
    queue = queue.slice(out.results.length);
    if (out.end === 'complete') break;
    kill(r);
    if (out.end === 'budget') {
      warnings.push({
        code: 'dns-timeout',
        message: `reading DNS files took longer than ${budgetMs} ms; those of ${queue.length} root directories not read`,
      });
      break;
    }
    const stuck = queue.shift();
    if (stuck === undefined) break;
    const pid = stuck.pids[0];
    const about = pid !== undefined ? { pid } : {};
    if (out.end === 'died') {
      warnings.push({
        code: 'dns-unreadable',
        message: `the reader of DNS files died reading those of process ${pid}; skipped`,
        ...about,
      });
    } else {
      skipped.set(stuck.key, Date.now() + SKIP_MS);
      warnings.push({
        code: 'dns-timeout',
        message: `reading the DNS files of process ${pid} did not finish within ${stepMs} ms (a filesystem below its root that does not answer?); skipped`,
        ...about,
      });
    }
  }
  return { results, warnings };
}
