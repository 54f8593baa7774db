/** Facts about the host, read from this very machine and compared with what its own tools say. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cpuCount, parseCpuList, parseOsRelease, readHost } from './host.js';
import { scanNamespaces } from './scan.js';

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

describe('os-release and CPU list parsing', () => {
  it('reads os-release(5) assignments: quotes, escapes, comments; skips what is not one', () => {
    const v = parseOsRelease(
      [
        '# a comment',
        'NAME="Debian GNU/Linux"',
        "VERSION='12 (bookworm)'",
        'ID=debian',
        'PRETTY_NAME="A \\"quoted\\" \\$name"',
        'BROKEN="unterminated',
        'lower=case',
        'EMPTY=',
        'SPACED=two words',
        '',
      ].join('\n'),
    );
    assert.deepEqual(v, {
      NAME: 'Debian GNU/Linux',
      VERSION: '12 (bookworm)',
      ID: 'debian',
      PRETTY_NAME: 'A "quoted" $name',
      EMPTY: '',
    });
  });

  it('reads the kernel CPU list format, and refuses anything else', () => {
    assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [
      [0, 3],
      [8, 8],
      [10, 11],
    ]);
    assert.equal(
      cpuCount([
        [0, 3],
        [8, 8],
        [10, 11],
      ]),
      7,
    );
    assert.deepEqual(parseCpuList('0'), [[0, 0]]);
    assert.equal(parseCpuList('3-1'), undefined);
    assert.equal(parseCpuList('0-1,x'), undefined);
  });
});

describe('the host of this machine', () => {
  const scan = scanNamespaces({ sources: { fds: false, bindMounts: false } });
  const { host, warnings } = readHost(scan);

  it('has the host name, OS, kernel release and online CPUs this machine reports itself', () => {
    assert.deepEqual(warnings, []);
    assert.equal(host.hostname, sh('hostname'));
    assert.equal(host.kernelRelease, sh('uname', '-r'));
    assert.equal(host.cpus?.count, Number(sh('getconf', '_NPROCESSORS_ONLN')));
    // This machine runs wirescope on the host, unconfined: nproc sees every online CPU too.
    assert.equal(host.cpus?.count, Number(sh('nproc')));
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    assert.ok(pretty, 'this machine has a PRETTY_NAME');
    assert.equal(host.os?.prettyName, pretty);
    assert.equal(host.os?.id, sh('bash', '-c', '. /etc/os-release; echo "$ID"'));
    assert.equal(host.os?.version, sh('bash', '-c', '. /etc/os-release; echo "$VERSION"'));
    assert.match(host.os?.source ?? '', /\/os-release$/);
  });

  it('reports no OS when PID 1 is not the host’s init, rather than a container image’s', () => {
    // A scan as seen from a PID namespace of its own: no kernel thread is visible there.
    const { 2: _kthreadd, ...processes } = scan.processes;
    const inContainer = readHost({ ...scan, processes });
    assert.equal(inContainer.host.os, undefined);
    assert.equal(inContainer.host.kernelRelease, sh('uname', '-r'), 'the kernel is the host’s everywhere');
  });
});
