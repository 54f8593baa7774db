/**
 * The neighbourhood check on a lab (the vagga-style example: guests on a
 * bridge, guest3 partitioned from guest1 and guest2): lab nodes are checked by
 * address under their node names, and a neighbour across the partition is
 * unreachable, not verified.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeDiscovery, discover } from '../discover.js';
import { useExampleLab } from '../lab/testing/fixtures.js';
import { checkNeighbourhood } from './run.js';

describe('neighbourhood check on a lab with a partition', () => {
  // The host and its gateway are no part of the check, and the host's fixed address
  // (172.18.255.1) would clash with another run of the example on this host.
  const lab = useExampleLab('vagga.yaml', {
    edit: (d) => {
      const gone = new Set(['host', 'gateway']);
      for (const n of gone) delete d.nodes[n];
      const bridge = d.nodes.bridge;
      if (bridge) delete bridge.routes;
      const nodeOf = (e: string | { node: string }) => (typeof e === 'string' ? e.split(':')[0] : e.node);
      d.links = d.links?.filter((l) => !(l.endpoints ?? []).some((e) => gone.has(nodeOf(e) ?? '')));
    },
  });
  after(() => closeDiscovery());

  it('verifies the guest on the same side and finds the partitioned one unreachable', async () => {
    const d = await discover({ dns: false });
    const r = await checkNeighbourhood(d, `${lab().name}/guest1`, { limits: { probeTimeoutMs: 800 } });
    assert.equal(r.target.label, 'guest1');
    assert.deepEqual(
      r.neighbours.map((n) => n.label),
      ['guest2', 'guest3'],
      'the bridge namespace switches; it is no neighbour',
    );
    assert.deepEqual(
      r.verdicts.map((v) => [v.fqdn, v.address, v.quality, v.source]),
      [
        ['guest2', '172.18.0.2', 'verified', 'node'],
        ['guest3', '172.18.0.3', 'unreachable', 'node'],
      ],
    );
    assert.equal(r.ok, false);
  });
});
