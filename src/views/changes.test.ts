import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Discovery, Draft } from '../model/types.js';
import { describeChanges } from './changes.js';
import { BLUE, GUEST, HOST, POD, sampleDiscovery } from './fixtures.js';

const texts = (a: Draft.Discovery, b: Draft.Discovery, netns?: string): string[] =>
  describeChanges(a as Discovery, b as Discovery, { netns }).map((l) => `${l.op} ${l.text}`);

/** The sample discovery and an edited copy of it. */
function edited(edit: (d: Draft.Discovery) => void): [Draft.Discovery, Draft.Discovery] {
  const a = sampleDiscovery();
  const b = structuredClone(a);
  edit(b);
  return [a, b];
}

const iface = (d: Draft.Discovery, ino: number, name: string) => {
  const i = d.networks[ino]?.interfaces.find((x) => x.name === name);
  assert.ok(i, `${name} in ${ino}`);
  return i;
};

describe('changes between two discoveries, spelled out', () => {
  it('says nothing when only counters, neighbours, connected sockets and timing moved', () => {
    const [a, b] = edited((d) => {
      d.durationMs += 50;
      for (const n of Object.values(d.networks)) {
        for (const i of n.interfaces) if (i.stats) i.stats.rxBytes += 1000;
        n.neighbours.push({ family: 'inet', address: '172.20.0.9', dev: 2, state: ['reachable'], flags: [] });
      }
    });
    assert.deepEqual(texts(a, b), []);
  });

  it('names interface changes field by field, in the namespace named as the tree names it', () => {
    const [a, b] = edited((d) => {
      const eth0 = iface(d, GUEST, 'eth0');
      eth0.mtu = 1400;
      eth0.flags = eth0.flags.filter((f) => f !== 'up');
      eth0.operstate = 'down';
      iface(d, GUEST, 'mv0').macvlan!.mode = 'vepa';
      iface(d, HOST, 'br0').name = 'br1';
    });
    assert.deepEqual(
      texts(a, b),
      [
        'host: br0 renamed br1',
        'sleep(1000): eth0 state up → down (set down)',
        'sleep(1000): eth0 mtu 1500 → 1400',
        'sleep(1000): mv0 macvlan mode bridge → vepa',
      ].map((t) => `~ ${t}`),
    );
  });

  it('names kind settings one by one: vxlan remote and underlay, bridge STP, tap holders', () => {
    const [a, b] = edited((d) => {
      const vx = iface(d, BLUE, 'vx42').vxlan!;
      vx.remote = '10.0.2.98';
      vx.underlay = { netns: HOST, index: 3 };
      iface(d, HOST, 'br0').bridge!.stp = true;
      iface(d, BLUE, 'tap0').tuntap!.holders = [];
    });
    assert.deepEqual(texts(a, b), [
      '~ host: br0 bridge stp false → true',
      '~ /run/netns/blue: vx42 vxlan remote 10.0.2.99 → 10.0.2.98',
      `~ /run/netns/blue: vx42 vxlan underlay eth0 in netns ${HOST} (host) → br0 in netns ${HOST} (host)`,
      '~ /run/netns/blue: tap0 tuntap holders busybox(1001), busybox(1001) → —',
    ]);
  });

  it('reports addresses, routes, rules, listening ports and forwarding added and removed', () => {
    const [a, b] = edited((d) => {
      const eth0 = iface(d, GUEST, 'eth0');
      eth0.addresses[0]!.address = '172.20.0.3';
      const guest = d.networks[GUEST]!;
      guest.routes.push({ ...guest.routes[0]!, dst: '10.9.0.0/16', gateway: '172.20.0.254' });
      guest.sockets = guest.sockets.filter((s) => s.localPort !== 80);
      guest.forwarding = { ipv4: true, ipv6: false };
      guest.rules.push({
        family: 'inet',
        priority: 1000,
        action: 'to_tbl',
        table: 100,
        src: '10.0.2.0/24',
        invert: false,
      });
    });
    assert.deepEqual(texts(a, b), [
      '- sleep(1000): eth0 address 172.20.0.2/16',
      '+ sleep(1000): eth0 address 172.20.0.3/16',
      '+ sleep(1000): route 10.9.0.0/16 via 172.20.0.254 dev eth0',
      '+ sleep(1000): rule 1000: from 10.0.2.0/24 lookup 100',
      '- sleep(1000): listening tcp 0.0.0.0:80 (http) ← busybox(1001)',
      '~ sleep(1000): ipv4 forwarding — → true',
      '~ sleep(1000): ipv6 forwarding — → false',
    ]);
  });

  it('lists a new namespace with its interfaces and wires, and a vanished one in one line', () => {
    const [a, b] = edited((d) => {
      delete d.networks[GUEST];
    });
    assert.deepEqual(texts(b, a), [
      `+ netns ${GUEST} (sleep(1000))`,
      `+ sleep(1000): eth0 (veth) ⇄ veth12 in netns ${HOST} (host)`,
      '+ sleep(1000): eth0 address 172.20.0.2/16',
      '+ sleep(1000): mv0 (macvlan)',
      '+ sleep(1000): mv0 address 172.20.1.5/24',
    ]);
    assert.deepEqual(texts(a, b), [`- netns ${GUEST} (sleep(1000))`]);
  });

  it('follows a veth to its new peer by identity, not by the name the peer has', () => {
    const [a, b] = edited((d) => {
      iface(d, HOST, 'veth12').name = 'veth99';
    });
    assert.deepEqual(texts(a, b), ['~ host: veth12 renamed veth99'], 'the guest end still has the same peer');
  });

  it('reports containers that come, go and change state', () => {
    const [a, b] = edited((d) => {
      d.containers['k8s-nginx']!.state = 'running';
      delete d.containers['k8s-pause'];
    });
    assert.deepEqual(texts(a, b), [
      `~ netns ${POD} name k8s_POD_mypod, kind-control-plane/nginx → pause(3000), kind-control-plane/nginx`,
      '~ container nginx (cri) paused → running',
      `- container k8s_POD_mypod (cri) in netns ${POD}`,
    ]);
  });

  it('says where a container runs once it does, whether it was first seen created or running', () => {
    // Engines report a container as created (no process, no namespace) and then as running; the
    // namespace census may see its namespace before, between or after those events.
    const created = (d: Draft.Discovery) => {
      const c = d.containers['k8s-nginx']!;
      c.state = 'created';
      delete c.netns;
      delete c.pid;
    };
    const [a, b] = edited((d) => {
      d.containers['k8s-nginx']!.state = 'running';
    });
    created(a);
    assert.deepEqual(texts(a, b), [`~ container nginx (cri) created → running in netns ${POD}`]);
    const [c, e] = edited(created);
    assert.deepEqual(texts(e, c), [`~ container nginx (cri) created → paused in netns ${POD}`]);
    const [, f] = edited(created);
    const g = structuredClone(f);
    g.containers['k8s-nginx']!.netns = POD;
    assert.deepEqual(texts(f, g), [`~ container nginx (cri) now in netns ${POD}`], 'no state change');
    assert.deepEqual(texts(g, f), [], 'a namespace no longer reported (stopping) is the state line’s');
  });

  it('names a namespace after its container once the engine reports it, never only after the runtime', () => {
    // What runc leaves while it sets a container up: a tenant named after its init process, and
    // no container yet.
    const [a, b] = edited((d) => {
      d.networks[POD]!.tenants = [
        { pid: 3000, starttime: 30000, comm: 'pause', container: 'k8s-pause', dns: { hosts: [] } },
      ];
    });
    a.networks[POD]!.tenants = [{ pid: 3000, starttime: 30000, comm: 'runc:[2:INIT]', dns: { hosts: [] } }];
    delete a.containers['k8s-pause'];
    delete a.processes[3000]!.container;
    assert.deepEqual(texts(a, b), [
      `~ netns ${POD} name runc:[2:INIT](3000) → k8s_POD_mypod`,
      `+ container k8s_POD_mypod (cri) RUNNING in netns ${POD}`,
    ]);
  });

  it('keeps to the namespaces a --netns filter selects', () => {
    const [a, b] = edited((d) => {
      iface(d, GUEST, 'eth0').mtu = 1400;
      iface(d, HOST, 'eth0').mtu = 9000;
    });
    assert.deepEqual(texts(a, b, 'host'), ['~ host: eth0 mtu 1500 → 9000']);
    assert.deepEqual(texts(a, b, 'blue'), []);
  });
});
