/**
 * Socket owners and tap holders over a fake procfs tree (symlinks named like
 * /proc/PID/fd/N whose targets read like the kernel's: "socket:[INODE]",
 * "/dev/net/tun"; stat and fdinfo files with the kernel's layout).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Draft } from '../model/types.js';
import { ProcLookup, resolveOwners, scanFdOwners } from './owners.js';

const root = mkdtempSync(join(tmpdir(), 'wst-proc-'));
function fd(pid: number, n: number, target: string): void {
  mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
  mkdirSync(join(root, String(pid), 'fdinfo'), { recursive: true });
  symlinkSync(target, join(root, String(pid), 'fd', String(n)));
}
/** /proc/PID/stat with `starttime` as field 22. */
function stat(pid: number, starttime: number): void {
  mkdirSync(join(root, String(pid)), { recursive: true });
  const rest = ['S', 1, pid, pid, 0, -1, 4194560, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, starttime, 1000, 10];
  writeFileSync(join(root, String(pid), 'stat'), `${pid} (p${pid}) ${rest.join(' ')}\n`);
}
function proc(pid: number, starttime: number): Draft.Process {
  return {
    pid,
    ppid: 1,
    starttime,
    comm: `p${pid}`,
    cmdline: [],
    uid: 0,
    cgroups: [],
    capBnd: '0x0',
    namespaces: {},
    nspid: [pid],
  };
}
const holders = (m: Map<number, number[]>, ino: number) => m.get(ino) ?? [];
/** Flat (pid, fd) pairs as sorted [pid, fd] tuples (the scan's order is directory order). */
function pairs(flat: number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as number, flat[i + 1] as number]);
  return out.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
}

describe('socket and tap owners', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('without the namespace stage: one scan maps socket inodes to pid/fd pairs and lists tun fds', () => {
    fd(100, 3, 'socket:[5001]');
    fd(100, 4, 'pipe:[77]');
    fd(100, 5, 'net:[4026531840]');
    fd(101, 5, 'socket:[5001]');
    fd(101, 6, '/dev/net/tun');
    fd(101, 7, '/dev/net/tunnel');
    const s = scanFdOwners(root);
    assert.deepEqual([...s.sockets.keys()], [5001], 'only sockets: no pipes, no namespaces');
    assert.deepEqual(pairs(holders(s.sockets, 5001)), [
      [100, 3],
      [101, 5],
    ]);
    assert.deepEqual(s.tuns, [{ pid: 101, fd: 6 }]);
  });

  it('names each tun fd by its fdinfo iff line, only for a holder whose starttime still matches', () => {
    stat(101, 50);
    writeFileSync(join(root, '101', 'fdinfo', '6'), 'pos:\t0\nflags:\t0100002\niff:\ttap7\n');
    // 102: its PID now names another process (starttime 99, not the 60 the scan saw).
    fd(102, 3, '/dev/net/tun');
    stat(102, 99);
    writeFileSync(join(root, '102', 'fdinfo', '3'), 'pos:\t0\nflags:\t0100002\niff:\ttap8\n');
    // 103: a tun fd not attached to an interface (no iff line).
    fd(103, 4, '/dev/net/tun');
    stat(103, 70);
    writeFileSync(join(root, '103', 'fdinfo', '4'), 'pos:\t0\nflags:\t0100002\n');
    const lookup = new ProcLookup({ 101: proc(101, 50), 102: proc(102, 60), 103: proc(103, 70) }, root);
    const sockets = new Map([[5001, [101, 5]]]);
    const r = resolveOwners(
      {
        sockets,
        tuns: [
          { pid: 101, fd: 6 },
          { pid: 102, fd: 3 },
          { pid: 103, fd: 4 },
          { pid: 104, fd: 9 }, // exited: no /proc entry at all
        ],
      },
      lookup,
      root,
    );
    assert.deepEqual(r.tuns, [{ pid: 101, fd: 6, iff: 'tap7' }]);
    assert.equal(r.sockets, sockets, 'socket holders are taken as the scan found them');
  });
});
