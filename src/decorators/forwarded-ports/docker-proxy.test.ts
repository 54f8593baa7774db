import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Draft } from '../../model/types.js';
import { dockerProxyForwards, isDockerProxy, parseDockerProxy } from './docker-proxy.js';

const proc = (pid: number, cmdline: string[], net?: number): Draft.Process => ({
  pid,
  ppid: 1,
  starttime: 100,
  comm: 'docker-proxy',
  cmdline,
  uid: 0,
  cgroups: [],
  capBnd: '0x0',
  namespaces: net !== undefined ? { net } : {},
  nspid: [pid],
});

describe('docker-proxy command lines', () => {
  it('parses the Go flag syntax docker uses (`-flag value`)', () => {
    assert.deepEqual(
      parseDockerProxy(
        '/usr/sbin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 18080 -container-ip 172.17.0.2 -container-port 80'.split(
          ' ',
        ),
      ),
      { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 18080, containerIp: '172.17.0.2', containerPort: 80 },
    );
  });

  it('parses `-flag=value`, `--flag` and boolean flags of newer versions', () => {
    const a = parseDockerProxy([
      'docker-proxy',
      '--proto=udp',
      '-host-ip',
      '::',
      '-host-port=5353',
      '-container-ip',
      '172.18.0.5',
      '-container-port',
      '53',
      '-use-listen-fd',
    ]);
    assert.deepEqual(a, {
      proto: 'udp',
      hostIp: '::',
      hostPort: 5353,
      containerIp: '172.18.0.5',
      containerPort: 53,
    });
  });

  it('says why a command line is not understood', () => {
    assert.deepEqual(parseDockerProxy(['docker-proxy', '-proto', 'tcp', '-host-port', '99999']), {
      error: 'missing or malformed -host-ip/-host-port/-container-ip/-container-port',
    });
    assert.match(
      (parseDockerProxy(['docker-proxy', '-proto', 'icmp']) as { error: string }).error,
      /unknown -proto "icmp"/,
    );
  });

  it('recognises docker-proxy by comm or argv[0]', () => {
    assert.equal(isDockerProxy({ comm: 'sh', cmdline: ['/usr/libexec/docker/docker-proxy'] }), true);
    assert.equal(isDockerProxy({ comm: 'sh', cmdline: ['sh', 'docker-proxy'] }), false);
  });

  it('turns each proxy into a forward of its own network namespace; bad ones become warnings', () => {
    const { forwards, warnings } = dockerProxyForwards({
      '10': proc(
        10,
        'docker-proxy -proto tcp -host-ip :: -host-port 8080 -container-ip 172.17.0.2 -container-port 80'.split(
          ' ',
        ),
        7,
      ),
      '11': proc(11, ['docker-proxy', '-proto', 'tcp'], 7),
      '12': proc(
        12,
        'docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 1 -container-ip 172.17.0.2 -container-port 1'.split(
          ' ',
        ),
      ),
    });
    assert.deepEqual(forwards, [
      {
        protocol: 'tcp',
        family: 'inet6',
        hostAddress: '::',
        hostPort: 8080,
        destAddress: '172.17.0.2',
        destPort: 80,
        netns: 7,
        pid: 10,
      },
    ]);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, 'forward-unparsable');
    assert.equal(warnings[0]?.pid, 11);
  });

  it('takes only real addresses and says an odd -proto on one line (found by fuzzing)', () => {
    const argv = (hostIp: string, containerIp: string) =>
      `docker-proxy -proto tcp -host-ip ${hostIp} -host-port 8080 -container-ip ${containerIp} -container-port 80`.split(
        ' ',
      );
    for (const bad of ['17:2', '127.0.0.007', 'fd4294967296::2', '999.1.1.1', ':::', 'fe80::1%eth0'])
      assert.ok('error' in parseDockerProxy(argv(bad, '172.17.0.2')), `host ${bad}`);
    assert.ok('error' in parseDockerProxy(argv('::', '17:2')));
    assert.deepEqual(parseDockerProxy(argv('::ffff:10.0.0.1', 'fd00::2')), {
      proto: 'tcp',
      hostIp: '::ffff:10.0.0.1',
      hostPort: 8080,
      containerIp: 'fd00::2',
      containerPort: 80,
    });
    assert.deepEqual(parseDockerProxy(['docker-proxy', '--proto=ud\ndocker-proxy', 'oto=ud']), {
      error: 'unknown -proto "ud\\ndocker-proxy"',
    });
  });
});
