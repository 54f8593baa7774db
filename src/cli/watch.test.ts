/** `wirescope watch` on the real kernel: a namespace and a veth come, change and go. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSleeper } from '../engines/testing/fixtures.js';
import { ensureDockerImage, sh, trySh } from '../engines/testing/image.js';
import { eventually } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import type { ChangeLine } from '../views/changes.js';
import { freshWarnings } from './watch.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

interface Printed extends ChangeLine {
  time: string;
}

/** The watch process, its JSON lines as they come, and a wait for one that matches. */
function startWatch(args: string[], wrapper: string[] = []) {
  const argv = [...wrapper, process.execPath, BIN, 'watch', '--json', ...args];
  const proc: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Printed[] = [];
  let stderr = '';
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l) as Printed);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
    for (const w of waiters.splice(0)) w();
  });
  const until = async (what: string, ok: () => boolean, ms = 45_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end || proc.exitCode !== null)
        assert.fail(`${what}: not seen; stderr: ${stderr}; lines: ${JSON.stringify(lines, null, 1)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  /** Waits until a printed line matches. */
  const sees = (what: string, p: (l: Printed) => boolean) => until(what, () => lines.some(p));
  const stop = (): Promise<number | null> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.once('exit', (code) => resolve(code));
      proc.kill('SIGINT');
    });
  return { proc, lines, until, sees, stop, stderr: () => stderr };
}

/**
 * The namespace the lines last said a container runs in: `+ container C running in netns N`,
 * `~ container C created → running in netns N` or `~ container C now in netns N`.
 */
function runningIn(lines: readonly Printed[], container: string): number | undefined {
  let state: string | undefined;
  let netns: number | undefined;
  for (const l of lines) {
    if (l.what !== 'container' || !l.text.startsWith(`${container} `)) continue;
    const m = /^(?:(\S+)|\S+ → (\S+)|now)(?: in netns (\d+))?$/.exec(l.text.slice(container.length + 1));
    if (!m) continue;
    state = m[1] ?? m[2] ?? state;
    if (m[3] !== undefined) netns = Number(m[3]);
    if (l.op === '-') netns = undefined;
  }
  return state === 'running' ? netns : undefined;
}

/** What the lines last named a namespace: `+ netns N (NAME)` or `~ netns N name OLD → NAME`. */
function nameOf(lines: readonly Printed[], netns: number): string | undefined {
  let name: string | undefined;
  for (const l of lines) {
    if (l.what !== 'netns' || l.netns !== netns) continue;
    const m = /^netns \d+ (?:\((.*)\)|name .* → (.*))$/.exec(l.text);
    if (m) name = m[1] ?? m[2];
  }
  return name;
}

const tryIp = (...args: string[]) => {
  try {
    ip(...args);
  } catch {
    // already gone
  }
};

describe('wirescope watch', () => {
  it('prints a namespace and its veth as they come, each change to them, and their going', async () => {
    const p = uniquePrefix('wst', 4);
    const ns = `${p}w`;
    const hostSide = `${p}v`;
    const w = startWatch(['--no-engines', '--interval', '60']);
    try {
      await w.until('the start line', () => /watching \d+ network namespace/.test(w.stderr()));
      ip('netns', 'add', ns);
      ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      const ino = statSync(`/run/netns/${ns}`).ino;
      await w.sees('the new namespace', (l) => l.op === '+' && l.what === 'netns' && l.netns === ino);
      await w.sees(
        'its veth, wired to the host side',
        (l) =>
          l.op === '+' &&
          l.what === 'interface' &&
          l.netns === ino &&
          l.text.endsWith(`: eth0 (veth) ⇄ ${hostSide} in netns ${statSync('/proc/self/ns/net').ino} (host)`),
      );
      ip('-n', ns, 'link', 'set', 'eth0', 'mtu', '1400');
      ip('-n', ns, 'addr', 'add', '10.251.7.2/24', 'dev', 'eth0');
      await w.sees(
        'the MTU change',
        (l) => l.op === '~' && l.netns === ino && l.text.endsWith(': eth0 mtu 1500 → 1400'),
      );
      await w.sees(
        'the address',
        (l) => l.op === '+' && l.what === 'address' && l.text.endsWith(': eth0 address 10.251.7.2/24'),
      );
      ip('link', 'del', hostSide);
      ip('netns', 'del', ns);
      await w.sees('the namespace going', (l) => l.op === '-' && l.what === 'netns' && l.netns === ino);
      assert.ok(
        w.lines.every((l) => !Number.isNaN(Date.parse(l.time))),
        'every line has its time',
      );
    } finally {
      assert.equal(await w.stop(), 0, 'Ctrl-C ends it cleanly');
      tryIp('link', 'del', hostSide);
      tryIp('netns', 'del', ns);
    }
  });

  it('prints a Docker container starting, stopping and being removed, from the engine’s events', async () => {
    const name = `${uniquePrefix('wst', 4)}-c`;
    const image = ensureDockerImage();
    const w = startWatch(['--interval', '60']);
    try {
      await w.until('the start line', () => /watching \d+ network namespace/.test(w.stderr()));
      runSleeper('docker', name, image, '--network', 'none');
      // Docker reports the container created, then running; the census may see its namespace
      // before, between or after those events, first named after runc's init process. Every
      // order is correct as long as the lines end up saying it runs in a namespace named after it.
      let netns: number | undefined;
      await w.until('the container running in a namespace', () => {
        netns = runningIn(w.lines, `container ${name} (docker)`);
        return netns !== undefined;
      });
      await w.until(
        `its namespace named after it (lines name it "${nameOf(w.lines, netns!)}")`,
        () => nameOf(w.lines, netns!) === name,
      );
      sh('docker', ['stop', '-t', '0', name]);
      await w.sees(
        'the stop',
        (l) =>
          l.op === '~' && l.what === 'container' && l.text === `container ${name} (docker) running → exited`,
      );
      sh('docker', ['rm', name]);
      await w.sees(
        'the removal',
        (l) => l.op === '-' && l.what === 'container' && l.text.startsWith(`container ${name} (docker)`),
      );
    } finally {
      assert.equal(await w.stop(), 0);
      trySh('docker', ['rm', '-f', name]);
    }
  });

  it('names a missing capability and its effect once, and watches what it can', async () => {
    const w = startWatch(['--no-engines'], ['setpriv', '--bounding-set=-sys_ptrace']);
    try {
      await w.until('the start line', () => /watching \d+ network namespace/.test(w.stderr()));
      assert.match(w.stderr(), /^wirescope: missing CAP_SYS_PTRACE \(.*not visible/m);
      assert.doesNotMatch(w.stderr(), /\n\s+at /, 'no stack trace');
    } finally {
      assert.equal(await w.stop(), 0);
    }
  });

  it('says a warning once while it lasts, and leaves out things vanishing mid-scan', () => {
    const w = (code: string, message: string) => ({ code, message });
    const first = [
      w('netns-enter-failed', 'cannot enter netns 7'),
      w('process-vanished', 'process 9 vanished'),
    ];
    assert.deepEqual(freshWarnings(undefined, first), [first[0]]);
    assert.deepEqual(freshWarnings(first, first), [], 'still there: not again');
    const second = [
      w('engine-unreachable', 'docker does not answer'),
      w('engine-unreachable', 'docker does not answer'),
    ];
    assert.deepEqual(freshWarnings(first, second), [second[0]], 'new, and once');
    assert.deepEqual(freshWarnings(second, first), [first[0]], 'back after a gap: said again');
  });

  it('prints names escaped in its text lines: an alias or process name cannot drive the terminal', async () => {
    const p = uniquePrefix('wst', 4);
    const ns = `${p}t`;
    const argv = [BIN, 'watch', '--no-engines', '--interval', '60'];
    const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString(); // ESC and BEL are ASCII: UTF-8 decoding keeps them as they are
    });
    proc.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      await eventually(
        what,
        () => {
          if (ok()) return true;
          if (proc.exitCode !== null)
            assert.fail(`${what}: not seen, watch exited; stderr: ${err}; stdout: ${out}`);
          return false;
        },
        { timeoutMs: 20_000, show: () => ({ stderr: err, stdout: out }) },
      );
    };
    let tenant: ChildProcess | undefined;
    try {
      await until('the start line', () => /watching \d+ network namespace/.test(err));
      ip('netns', 'add', ns);
      // A process of the namespace that renamed itself (comm) to an escape sequence; `& wait`
      // keeps bash itself (a last command would be exec'd, and exec resets comm).
      tenant = spawn(
        'ip',
        ['netns', 'exec', ns, 'bash', '-c', `printf '\\e[31mevil' > /proc/$$/comm; sleep 100 & wait`],
        {
          stdio: 'ignore',
        },
      );
      const comm = () => {
        try {
          return readFileSync(`/proc/${tenant?.pid}/comm`, 'utf8');
        } catch {
          return '';
        }
      };
      await until('the process renamed', () => comm() === '\x1b[31mevil\n');
      ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
      // Lines in the namespace start with its name: the renamed process, escaped.
      await until('the veth, in the namespace named after the process', () =>
        out.includes(`\\x1b[31mevil(${tenant?.pid}): eth0 (veth)`),
      );
      // The kernel announces an alias change only for a device that is up (netdev_state_change()
      // sends RTM_NEWLINK only with IFF_UP): a down device's alias shows at the next rediscovery.
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await until('eth0 set up', () =>
        out.includes(`\\x1b[31mevil(${tenant?.pid}): eth0 state down (set down) →`),
      );
      ip('-n', ns, 'link', 'set', 'eth0', 'alias', '\x1b]0;pwned\x07\x1b[2J');
      await until('the alias change, escaped', () =>
        out.includes(`\\x1b[31mevil(${tenant?.pid}): eth0 alias — → \\x1b]0;pwned\\x07\\x1b[2J\n`),
      );
      assert.ok(!out.includes('\x1b'), 'no ESC byte in the output');
      assert.ok(!out.includes('\x07'), 'no BEL byte in the output');
    } finally {
      tenant?.kill('SIGKILL');
      const code = await new Promise<number | null>((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (c) => resolve(c));
        proc.kill('SIGINT');
      });
      tryIp('netns', 'del', ns);
      assert.equal(code, 0);
    }
  });

  it('refuses a bad interval in one line', async () => {
    const w = startWatch(['--interval', 'soon']);
    const code = await new Promise<number | null>((r) => w.proc.once('exit', r));
    assert.equal(code, 2);
    assert.equal(w.stderr(), 'wirescope: --interval: "soon" is not a positive number of seconds\n');
  });
});
