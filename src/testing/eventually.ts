/**
 * Polling for the tests that wait on the kernel, the engines or a child process: the one
 * loop behind every "wait until …" of the test suite. Test helper, not shipped behaviour.
 */
import { inspect } from 'node:util';

export interface PollOptions<T = unknown> {
  /** How long to keep trying, in ms (a busy host is slow: callers keep generous bounds). */
  timeoutMs: number;
  /** The pause between tries, in ms (default 100). */
  intervalMs?: number;
  /** What of the last value a timeout's error shows (default: the value itself, shortened). */
  show?: (v: T) => unknown;
}

/** The value a probe returned last, as a short line for an error message. */
export function describeValue(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : inspect(v, { depth: 3, breakLength: Infinity });
  return s.length > 600 ? `${s.slice(0, 600)}… (${s.length} characters)` : s;
}

/**
 * Calls `probe` until `ok` holds for its value, then returns that value. `ok` defaults to
 * "neither undefined, null nor false", so a probe may answer the thing it found or nothing yet.
 * On timeout the error names `what` was waited for and the last value seen. An error thrown
 * by `probe` or `ok` ends the wait at once.
 */
export function eventually<T, U extends T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (v: T) => v is U,
  opts: PollOptions<T>,
): Promise<U>;
export function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (v: T) => boolean,
  opts: PollOptions<T>,
): Promise<T>;
export function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: PollOptions<T>,
): Promise<Exclude<T, undefined | null | false>>;
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  okOrOpts: ((v: T) => boolean) | PollOptions<T>,
  maybeOpts?: PollOptions<T>,
): Promise<T> {
  const ok = typeof okOrOpts === 'function' ? okOrOpts : found;
  const opts = typeof okOrOpts === 'function' ? (maybeOpts as PollOptions<T>) : okOrOpts;
  const r = await poll(probe, ok, opts);
  if (r.ok) return r.value;
  throw new Error(
    `timed out after ${opts.timeoutMs} ms waiting for ${what}; last seen: ${describeValue(opts.show ? opts.show(r.value) : r.value)}`,
  );
}

/**
 * The same loop for a caller that goes on after a timeout (it asserts on the last value itself,
 * or the wait only gives something time to happen): `ok` tells whether `ok(value)` held.
 */
export async function poll<T>(
  probe: () => T | Promise<T>,
  ok: (v: T) => boolean,
  opts: PollOptions<T>,
): Promise<{ ok: boolean; value: T }> {
  const end = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return { ok: true, value };
    if (Date.now() > end) return { ok: false, value };
    await sleep(opts.intervalMs ?? 100);
  }
}

function found(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
