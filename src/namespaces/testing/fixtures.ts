/**
 * Real-kernel fixtures for the namespace tests and benchmark: processes
 * started in new namespaces with unshare(1), named network namespaces with
 * ip-netns(8), a busybox rootfs. Every fixture registers its own teardown;
 * `cleanup()` runs them all (last first) and never throws.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mount, umount2 } from '../../kernel/libc.js';
import { eventually } from '../../testing/eventually.js';
import { uniquePrefix } from '../../testing/names.js';

const MNT_DETACH = 2;

/** A sleep duration no other process uses, to find a fixture's process by its cmdline. */
export const token = (): string => String(7_000_000 + Math.floor(Math.random() * 999_999));

export class Fixtures {
  private readonly teardown: (() => void)[] = [];

  /** Starts argv in its own process group; the group is SIGKILLed at cleanup. */
  start(argv: readonly string[]): ChildProcess {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error('empty argv');
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    this.teardown.push(() => killGroup(child));
    return child;
  }

  /** A process started elsewhere, SIGKILLed (with its group) at cleanup. */
  adopt(child: ChildProcess): ChildProcess {
    this.teardown.push(() => killGroup(child));
    return child;
  }

  netnsAdd(name: string): number {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    this.teardown.push(() => {
      try {
        execFileSync('ip', ['netns', 'delete', name], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    });
    return statSync(`/run/netns/${name}`).ino;
  }

  /**
   * Bind-mounts `source` (e.g. /proc/PID/ns/uts) onto a new empty file
   * `target`, in this process's mount namespace; detached at cleanup.
   */
  bindMount(source: string, target: string): void {
    writeFileSync(target, '');
    execFileSync('mount', ['--bind', source, target], { stdio: 'pipe' });
    this.teardown.push(() => {
      try {
        execFileSync('umount', ['-l', target], { stdio: 'pipe' });
      } catch {
        // unmounted by the test
      }
    });
  }

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), `${uniquePrefix()}-`));
    this.teardown.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A busybox-static rootfs with its own /etc DNS files. */
  busyboxRoot(etc: Record<string, string>): string {
    const root = this.tempDir();
    for (const d of ['bin', 'etc', 'proc', 'tmp']) mkdirSync(join(root, d));
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'sleep', 'hostname', 'mount', 'cat']) {
      symlinkSync('busybox', join(root, 'bin', applet));
    }
    for (const [name, text] of Object.entries(etc)) writeFileSync(join(root, 'etc', name), text);
    return root;
  }

  /**
   * A FIFO at `path`. At cleanup a writer opens it once, which releases any
   * reader still blocked in open(2) on it (one that opened it without
   * O_NONBLOCK, as code without the fix would: it would wait forever).
   */
  fifo(path: string): void {
    execFileSync('mkfifo', [path]);
    this.teardown.push(() => {
      try {
        closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: no reader waits
      }
    });
  }

  /**
   * A FUSE filesystem mounted on `target` whose daemon never answers, not
   * even the kernel's INIT request: every lookup below it waits (killably)
   * for an answer. Made with mount(2) directly (mount(8) could look at the
   * target and wait itself). abort() — also run at cleanup — closes
   * /dev/fuse, which aborts the connection so waiting calls fail with
   * ENOTCONN, and detaches the mount. Nothing of the test may touch the
   * mount before that.
   */
  fuseNeverAnswering(target: string): { abort(): void } {
    const fd = openSync('/dev/fuse', 'r+');
    try {
      mount('wstfuse', target, 'fuse', 0, `fd=${fd},rootmode=40000,user_id=0,group_id=0`);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    let done = false;
    const abort = (): void => {
      if (done) return;
      done = true;
      closeSync(fd);
      try {
        umount2(target, MNT_DETACH);
      } catch {
        // already gone
      }
    };
    this.teardown.push(abort);
    return { abort };
  }

  cleanup(): void {
    for (const t of this.teardown.splice(0).reverse()) {
      try {
        t();
      } catch {
        // keep tearing down the rest
      }
    }
  }
}

export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // group already gone
  }
}

/**
 * PIDs of `sleep <token>` processes (argv[0] ending in "sleep", so the
 * unshare that is about to exec it does not count: its namespaces may not
 * be set up yet).
 */
export function sleepers(arg: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('sleep') && argv[1] === arg) out.push(Number(name));
    } catch {
      // exited or unreadable
    }
  }
  return out;
}

/** Waits until at least `count` `sleep <arg>` processes run and returns them (sorted). */
export async function waitForSleep(arg: string, count = 1, timeoutMs = 10_000): Promise<number[]> {
  const pids = await eventually(
    `${count} process(es) with argument ${arg}`,
    () => sleepers(arg),
    (p) => p.length >= count,
    { timeoutMs, intervalMs: 20 },
  );
  return pids.sort((a, b) => a - b);
}

export function nsIno(pid: number | 'self', type: string): number {
  return statSync(`/proc/${pid}/ns/${type}`).ino;
}

export function starttimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** Busy-waits (synchronously: usable inside a scan hook) until pid is a zombie or gone. */
export function waitDeadSync(pid: number, timeoutMs = 5000): void {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return;
    } catch {
      return;
    }
  }
  throw new Error(`process ${pid} did not exit`);
}

/** Hostname of the test process's own UTS namespace. */
export function gethostnameHere(): string {
  return readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
}
