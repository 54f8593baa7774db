/** `wirescope serve` as a child process, for tests of the command line and of the service's own process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/wirescope.js', import.meta.url));

export interface Served {
  proc: ChildProcess;
  /** Everything it wrote to stderr until it served (or exited). */
  stderr: string;
  /** Its base URL, once it serves; undefined when it exited instead. */
  url?: string;
}

/**
 * Starts the CLI and resolves with its stderr once it serves (or exits).
 * `nofile`: its RLIMIT_NOFILE (soft and hard), set by the shell that execs it.
 */
export function startServe(
  args: string[],
  env: Record<string, string> = {},
  nofile?: number,
): Promise<Served> {
  const argv = [process.execPath, BIN, ...args];
  const [cmd, ...rest] =
    nofile === undefined
      ? argv
      : ['/bin/sh', '-c', `ulimit -n ${Math.floor(nofile)} && exec "$@"`, 'sh', ...argv];
  const proc = spawn(cmd as string, rest, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve) => {
    proc.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /serving on (http:\/\/\S+?)\/ /.exec(stderr);
      if (m) resolve({ proc, stderr, url: m[1] });
    });
    proc.on('exit', () => resolve({ proc, stderr }));
  });
}

/** SIGTERM, and its exit code. */
export const stopServe = (proc: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (proc.exitCode !== null) {
      resolve(proc.exitCode);
      return;
    }
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });

/** Resolves with the exit code once the process ended. */
export const exited = (proc: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', resolve)));
