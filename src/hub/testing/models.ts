/**
 * Hand-built node models for the hub's unit tests: the views' sample
 * discovery (src/views/fixtures.ts) as one node's, with an underlay address
 * and overlay devices in its host namespace. Test helper.
 */
import type { Discovery, Draft } from '../../model/types.js';
import { HOST, sampleDiscovery } from '../../views/fixtures.js';
import type { AgentView } from '../agents/follow.js';

export interface TunnelSpec {
  kind: 'vxlan' | 'geneve';
  name: string;
  vni: number;
  port?: number;
  remote?: string;
}

/** The sample model with `eth0` at `address` and the given tunnels in the host namespace. */
export function nodeModel(address: string, tunnels: readonly TunnelSpec[] = []): Discovery {
  const d: Draft.Discovery = sampleDiscovery();
  const host = d.networks[String(HOST)];
  if (!host) throw new Error('the sample has no host namespace');
  // The sample's own VXLAN (vx42, remote 10.0.2.99) would leave every test's cluster: no remote here.
  for (const net of Object.values(d.networks))
    for (const i of net.interfaces) if (i.vxlan) delete i.vxlan.remote;
  let index = 100;
  host.interfaces.push({
    netns: HOST,
    index: index++,
    name: 'eth0',
    altnames: [],
    kind: 'physical',
    operstate: 'up',
    flags: ['up'],
    mtu: 1500,
    addresses: [{ family: 'inet', address, prefixlen: 24, scope: 'global', flags: [] }],
    ports: [],
  });
  for (const t of tunnels) {
    const params = {
      vni: t.vni,
      ...(t.port !== undefined ? { port: t.port } : {}),
      ...(t.remote ? { remote: t.remote } : {}),
    };
    host.interfaces.push({
      netns: HOST,
      index: index++,
      name: t.name,
      altnames: [],
      kind: t.kind,
      operstate: 'up',
      flags: ['up'],
      mtu: 1450,
      addresses: [],
      ports: [],
      ...(t.kind === 'vxlan' ? { vxlan: params } : { geneve: params }),
    });
  }
  return d;
}

/** An agent's view as a follower would hold it. */
export function agentView(
  url: string,
  name: string | undefined,
  discovery: Discovery | undefined,
  state: AgentView['state'] = 'fresh',
): AgentView {
  return {
    url,
    name,
    state,
    lastSeen: Date.parse('2026-01-01T00:00:00Z'),
    error: undefined,
    generation: 3,
    discovery,
  };
}
