/**
 * ip(8) for the tests that build real topologies: one synchronous wrapper, a tolerant one for
 * teardown, a batch runner, and named network namespaces (ip-netns). Test helper.
 */
import { type ExecFileSyncOptions, execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

/** Runs `ip ARGS…`; returns its stdout, throws (with its stderr) when it fails. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip ARGS…` for teardown: false where it failed (already gone). */
export function tryIp(...args: string[]): boolean {
  try {
    ip(...args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs many ip commands with few processes (`ip [-n NS] -batch -`). A line may
 * start with "-n NS" (which -batch itself does not accept): consecutive lines
 * for the same namespace share one process, in order.
 */
export function ipBatch(lines: string[], force = false): void {
  let ns: string | undefined;
  let seg: string[] = [];
  const flush = () => {
    if (seg.length === 0) return;
    execFileSync('ip', [...(force ? ['-force'] : []), ...(ns ? ['-n', ns] : []), '-batch', '-'], {
      input: `${seg.join('\n')}\n`,
      stdio: ['pipe', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    seg = [];
  };
  for (const line of lines) {
    const m = /^-n (\S+) (.*)$/.exec(line);
    const lineNs = m ? m[1] : undefined;
    if (lineNs !== ns) {
      flush();
      ns = lineNs;
    }
    seg.push(m ? (m[2] as string) : line);
  }
  flush();
}

/** `ip netns add NAME`; returns the namespace's inode. */
export function netnsAdd(name: string): number {
  ip('netns', 'add', name);
  return statSync(`/run/netns/${name}`).ino;
}

/** `ip netns delete NAME`, quietly (teardown: it may be gone already). */
export function netnsDelete(name: string): void {
  tryIp('netns', 'delete', name);
}

/** Runs `CMD ARGS…` inside named namespace `ns` (`ip netns exec`); returns its stdout. */
export function inNetns(
  ns: string,
  cmd: string,
  args: readonly string[] = [],
  opts: Pick<ExecFileSyncOptions, 'input' | 'stdio'> = {},
): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
    encoding: 'utf8',
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}
