import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Fixtures, nsIno, token, waitForSleep } from '../namespaces/testing/fixtures.js';
import { eventually } from '../testing/eventually.js';
import { uniquePrefix } from '../testing/names.js';

const bin = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

function run(args: string[], wrap: string[] = []): { stdout: string; stderr: string; status: number | null } {
  const [cmd, ...rest] = [...wrap, process.execPath, bin, ...args];
  const r = spawnSync(cmd ?? process.execPath, rest, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('wirescope namespaces', () => {
  const fx = new Fixtures();
  const name = uniquePrefix();
  let bound = 0;
  let userPid = 0;
  before(async () => {
    bound = fx.netnsAdd(name);
    const t = token();
    fx.start(['unshare', '--user', '--map-root-user', 'unshare', '--user', '--map-root-user', 'sleep', t]);
    [userPid = 0] = await waitForSleep(t);
  });
  after(() => fx.cleanup());

  it('shows the user namespace tree, including a parent that has no process', () => {
    const r = run(['namespaces']);
    assert.equal(r.status, 0, r.stderr);
    const inner = nsIno(userPid, 'user');
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes(`user:[${inner}]`));
    assert.ok(at > 0, r.stdout);
    // The line above the inner namespace is its process-less parent, one level up.
    const parentLine = lines[at - 1] ?? '';
    assert.match(parentLine, /procs 0/);
    assert.ok((lines[at] ?? '').indexOf('user:[') > parentLine.indexOf('user:['));
    assert.match(lines[at] ?? '', new RegExp(`leaders ${userPid} sleep`));
  });

  it('lists a namespace held only by a bind mount with its path', () => {
    const r = run(['namespaces', '--type', 'net']);
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('net') && l.includes(String(bound)));
    assert.ok(line, r.stdout);
    assert.match(line, new RegExp(`bind mount /run/netns/${name}`));
    assert.doesNotMatch(r.stdout, /^user/m);
    const orphans = r.stdout.slice(r.stdout.indexOf('HELD WITHOUT A PROCESS'));
    // The same mount seen in other mount namespaces (an `ip netns exec` running elsewhere copies
    // /run/netns into its own) follows as more holders on the line.
    assert.match(orphans, new RegExp(`^net:\\[${bound}\\]  bind mount /run/netns/${name}(, .*)?$`, 'm'));
  });

  it('prints the model part as JSON with --json', () => {
    const r = run(['namespaces', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      namespaces: Record<string, { type: string; bindMounts: { path: string }[]; ref?: string }>;
      processes: Record<string, { pid: number }>;
      initial: Record<string, number>;
      warnings: unknown[];
    };
    assert.equal(doc.namespaces[bound]?.type, 'net');
    assert.equal(doc.namespaces[bound]?.ref, `/run/netns/${name}`);
    assert.equal(doc.processes[userPid]?.pid, userPid);
    assert.ok(Array.isArray(doc.warnings));
  });

  it('names a missing capability and its effect in one stderr line, then prints the partial result', () => {
    const r = run(['namespaces'], ['setpriv', '--bounding-set=-sys_ptrace']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    const priv = lines.filter((l) => l.includes('CAP_SYS_PTRACE'));
    assert.equal(priv.length, 1, r.stderr);
    assert.match(priv[0] ?? '', /^wirescope: missing CAP_SYS_PTRACE \(.*not visible/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stdout, /USER NAMESPACES/);
  });

  it('prints a process name that is an escape sequence escaped, never as control bytes', async () => {
    const t = token();
    // The leader of its own user namespace renames itself (comm) to "clear the screen".
    fx.start([
      'unshare',
      '--user',
      '--map-root-user',
      'bash',
      '-c',
      `printf '\\e[2Jwiped' > /proc/$$/comm; sleep ${t} & wait`,
    ]);
    const [sleeper = 0] = await waitForSleep(t);
    const leader = Number(
      readFileSync(`/proc/${sleeper}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ')[1],
    );
    // The rename may land after the sleep starts: wait for it.
    await eventually(
      `process ${leader} to be renamed`,
      () => readFileSync(`/proc/${leader}/comm`, 'utf8'),
      (comm) => comm === '\x1b[2Jwiped\n',
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const r = run(['namespaces', '--type', 'user']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`leaders ${leader} \\\\x1b\\[2Jwiped`));
    assert.ok(!r.stdout.includes('\x1b'), 'no ESC byte');
  });

  it('rejects an unknown namespace type with a one-line error', () => {
    const r = run(['namespaces', '--type', 'bogus']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.split('\n')[0] ?? '', /bogus.*invalid/);
  });
});
