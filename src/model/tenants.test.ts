import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inNamingOrder, launcherPids, namingTenants } from './tenants.js';
import type { Process, Tenant } from './types.js';

const tenant = (pid: number, comm: string): Tenant => ({
  pid,
  starttime: pid * 10,
  comm,
  dns: { hosts: [] },
});
const proc = (pid: number, ppid: number): Process => ({
  pid,
  ppid,
  starttime: pid * 10,
  comm: '',
  cmdline: [],
  uid: 0,
  cgroups: [],
  capBnd: '',
  namespaces: {},
  nspid: [pid],
});
const table = (...ps: Process[]): Record<string, Process> => Object.fromEntries(ps.map((p) => [p.pid, p]));

describe('the tenants that name a namespace', () => {
  // bash(50) → unshare(100) → chroot'ed sh(101) → sleep(102); a second
  // workload runs beside it as a child of 100 too.
  const processes = table(proc(50, 1), proc(100, 50), proc(101, 100), proc(102, 101), proc(110, 100));
  const launcher = tenant(100, 'unshare');
  const child = tenant(102, 'sleep');

  it('are the workloads, not the launcher they descend from, whatever the depth between', () => {
    assert.deepEqual([...launcherPids([launcher, child], processes)], [100]);
    assert.deepEqual(namingTenants([launcher, child], processes), [child]);
    assert.deepEqual(inNamingOrder([launcher, child], processes), [child, launcher]);
  });

  it('keep their order among themselves, and every tenant when none descends from another', () => {
    const other = tenant(110, 'nc');
    assert.deepEqual(inNamingOrder([launcher, child, other], processes), [child, other, launcher]);
    assert.deepEqual(namingTenants([child, other], processes), [child, other]);
    assert.deepEqual(namingTenants([launcher], processes), [launcher]);
  });

  it('survive a parent table with a cycle or gaps (read while processes came and went)', () => {
    const cyclic = table(proc(7, 8), proc(8, 7));
    assert.deepEqual(
      namingTenants([tenant(7, 'a'), tenant(9, 'gone')], cyclic).map((t) => t.pid),
      [7, 9],
    );
  });
});
