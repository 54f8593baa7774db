/**
 * Owner tracking over a fake procfs tree (symlinks named like /proc/PID/fd/N
 * whose targets read like the kernel's: "socket:[INODE]", "/dev/net/tun").
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OwnerTracker, scanFds } from './owners.js';

const root = mkdtempSync(join(tmpdir(), 'wst-proc-'));
function fd(pid: number, n: number, target: string): void {
  mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
  mkdirSync(join(root, String(pid), 'fdinfo'), { recursive: true });
  symlinkSync(target, join(root, String(pid), 'fd', String(n)));
}
const holders = (m: Map<number, number[]>, ino: number) => m.get(ino) ?? [];

describe('socket and tap owners', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('maps socket inodes to pid/fd pairs and tun fds to their interface in one full scan', () => {
    fd(100, 3, 'socket:[5001]');
    fd(100, 4, 'pipe:[77]');
    fd(101, 5, 'socket:[5001]');
    fd(101, 6, '/dev/net/tun');
    writeFileSync(join(root, '101', 'fdinfo', '6'), 'pos:\t0\nflags:\t0100002\niff:\ttap7\n');
    const s = scanFds(root);
    assert.deepEqual(holders(s.sockets, 5001), [100, 3, 101, 5]);
    assert.deepEqual(s.tuns, [{ pid: 101, fd: 6, iff: 'tap7' }]);
    assert.deepEqual(s.pids.sort(), [100, 101]);
  });

  it('between full scans: re-checks known owners, scans new processes and the socket namespace', () => {
    const t = new OwnerTracker(root, 60_000);
    const procs = [
      { pid: 100, starttime: 1, netns: 7 },
      { pid: 101, starttime: 1, netns: 7 },
    ];
    t.full(procs);
    assert.equal(t.fullDue(), false);
    // 100 closes its fd, a new process 102 opens a socket, 101 (old) opens one in netns 8's socket table.
    unlinkSync(join(root, '100', 'fd', '3'));
    fd(102, 3, 'socket:[5002]');
    fd(101, 9, 'socket:[5003]');
    const r = t.incremental(
      new Map([
        [5001, 7],
        [5002, 7],
        [5003, 7],
      ]),
      [...procs, { pid: 102, starttime: 5, netns: 9 }],
    );
    assert.deepEqual(holders(r.sockets, 5001), [101, 5], 'stale owner dropped');
    assert.deepEqual(holders(r.sockets, 5002), [102, 3], 'new process scanned');
    assert.deepEqual(holders(r.sockets, 5003), [101, 9], "found among the socket namespace's processes");
    assert.deepEqual(r.tuns, [{ pid: 101, fd: 6, iff: 'tap7' }]);
  });
});
