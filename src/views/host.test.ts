import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../model/types.js';
import { cpuList, hostSummary } from './host.js';

const engine = (type: string, pid: number, version?: string): Draft.Engine => ({
  id: `${type}-${pid}`,
  type,
  pid,
  starttime: 1,
  api: `/proc/${pid}/root/run/${type}.sock`,
  ...(version ? { version } : {}),
});

describe('the host in a few words', () => {
  it('says name, OS, kernel and CPUs, then every engine with its version', () => {
    const s = hostSummary({
      host: {
        hostname: 'vm',
        os: {
          prettyName: 'Debian GNU/Linux 12 (bookworm)',
          name: 'Debian GNU/Linux',
          source: '/proc/1/root/etc/os-release',
        },
        kernelRelease: '6.18.4',
        cpus: { online: [[0, 1]], count: 2 },
      },
      engines: {
        b: engine('podman', 30, '4.3.1'),
        a: engine('docker', 20, '24.0.7'),
        c: engine('containerd', 10),
      },
    });
    assert.deepEqual(s.facts, ['vm', 'Debian GNU/Linux 12 (bookworm)', 'kernel 6.18.4', '2 CPUs']);
    assert.equal(s.detail, 'OS from /proc/1/root/etc/os-release; online CPUs 0-1');
    assert.deepEqual(s.engines, [
      { label: 'containerd', detail: 'containerd: pid 10, API /proc/10/root/run/containerd.sock' },
      { label: 'docker 24.0.7', detail: 'docker 24.0.7: pid 20, API /proc/20/root/run/docker.sock' },
      { label: 'podman 4.3.1', detail: 'podman 4.3.1: pid 30, API /proc/30/root/run/podman.sock' },
    ]);
  });

  it('puts engines of one type and version on one line, each still named in the detail', () => {
    const s = hostSummary({
      engines: {
        x: engine('containerd', 12, '1.7.2'),
        y: engine('containerd', 11, '1.7.2'),
        z: engine('docker', 5, '24.0.7'),
      },
    });
    assert.deepEqual(s.engines, [
      {
        label: 'containerd 1.7.2 ×2',
        detail:
          'containerd 1.7.2: pid 11, API /proc/11/root/run/containerd.sock; pid 12, API /proc/12/root/run/containerd.sock',
      },
      { label: 'docker 24.0.7', detail: 'docker 24.0.7: pid 5, API /proc/5/root/run/docker.sock' },
    ]);
  });

  it('falls back to NAME and VERSION, and leaves out what is unknown', () => {
    const s = hostSummary({
      host: {
        os: { name: 'Alpine Linux', version: '3.19', source: '/etc/os-release' },
        cpus: { online: [[0, 0]], count: 1 },
      },
      engines: {},
    });
    assert.deepEqual(s.facts, ['Alpine Linux 3.19', '1 CPU']);
    assert.deepEqual(hostSummary({ engines: {} }), { facts: [], detail: '', engines: [] });
  });

  it('lists CPUs as the kernel does', () => {
    assert.equal(
      cpuList([
        [0, 3],
        [8, 8],
        [10, 11],
      ]),
      '0-3,8,10-11',
    );
  });
});
