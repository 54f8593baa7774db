import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../model/freeze.js';
import type { Discovery } from '../../model/types.js';
import { BLUE, GUEST, HOST, POD, sampleDiscovery } from '../fixtures.js';
import { mobyshark } from './mobyshark.js';
import { validateTargets } from './validate.js';

describe('mobyshark capture targets', () => {
  const doc = mobyshark(deepFreeze(sampleDiscovery()) as Discovery);

  it('validates against the TargetDiscoveryResult schema', () => {
    assert.deepEqual(validateTargets(doc), []);
  });

  it('offers one target per process, per pod and per bind-mounted namespace, with a canary process', () => {
    assert.deepEqual(
      doc.containers.map((t) => [t.type, t.name, t.netns, t.pid, t.starttime, t.prefix]),
      [
        ['proc', 'init(1)', HOST, 1, 10, ''],
        ['proc', 'sleep(1000)', GUEST, 1000, 10000, ''],
        ['pod', 'mypod', POD, 3000, 30000, ''],
        ['bindmount', '/run/netns/blue', BLUE, 0, 0, ''],
      ],
    );
  });

  it('lists only interfaces a capture can attach to (not DOWN)', () => {
    assert.deepEqual(doc.containers.find((t) => t.netns === BLUE)?.['network-interfaces'], ['lo', 'vx42']);
    assert.deepEqual(doc.containers.find((t) => t.netns === HOST)?.['network-interfaces'], [
      'lo',
      'eth0',
      'br0',
      'veth12',
    ]);
  });

  it('names a container outside a pod after itself, with its type and prefix', () => {
    const d = sampleDiscovery();
    const nginx = d.containers['k8s-nginx'];
    assert.ok(nginx);
    nginx.groups = ['compose-shop'];
    nginx.type = 'docker';
    const targets = mobyshark(deepFreeze(d) as Discovery).containers.filter((t) => t.netns === POD);
    assert.deepEqual(
      targets.map((t) => [t.type, t.name, t.prefix]),
      [
        ['pod', 'mypod', ''],
        ['docker', 'nginx', 'kind-control-plane'],
      ],
    );
  });
});
