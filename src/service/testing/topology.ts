/**
 * A small real topology for the service and UI tests, built with ip(8):
 *
 *   host: bridge <p>br 10.<x>.<y>.1/24, ports <p>va, <p>vb
 *   netns <p>a: eth0 10.<x>.<y>.2/24 (peer <p>va), default via .1, eth1 mtu 1400 ─┐ veth
 *   netns <p>b: eth0 10.<x>.<y>.3/24 (peer <p>vb),                   eth1 mtu 1400 ─┘
 *
 * Everything carries the random prefix and is removed by destroy(), which
 * also works on a half-built topology.
 */
import { statSync } from 'node:fs';
import { ip, tryIp } from '../../testing/ip.js';
import { uniquePrefix } from '../../testing/names.js';

export interface Topology {
  prefix: string;
  /** 10.<x>.<y> */
  net: string;
  bridge: string;
  /** netns name → inode */
  ns: Record<string, number>;
  /** Adds netns <p><name> with eth0 on the bridge at .<host>; returns its inode. */
  addLeaf(name: string, host: number): number;
  destroy(): void;
}

export function buildTopology(prefix = uniquePrefix('wst', 4)): Topology {
  const x = 100 + Math.floor(Math.random() * 100);
  const y = Math.floor(Math.random() * 250);
  const net = `10.${x}.${y}`;
  const bridge = `${prefix}br`;
  const names: string[] = [];
  const links: string[] = [];
  const t: Topology = {
    prefix,
    net,
    bridge,
    ns: {},
    addLeaf(name: string, host: number): number {
      const ns = `${prefix}${name}`;
      const hostSide = `${prefix}v${name}`;
      ip('netns', 'add', ns);
      names.push(ns);
      ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      links.push(hostSide);
      ip('link', 'set', hostSide, 'master', bridge, 'up');
      ip('-n', ns, 'addr', 'add', `${net}.${host}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const ino = statSync(`/run/netns/${ns}`).ino;
      t.ns[name] = ino;
      return ino;
    },
    destroy(): void {
      for (const l of links) tryIp('link', 'del', l);
      tryIp('link', 'del', bridge);
      for (const n of names) tryIp('netns', 'del', n);
    },
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    links.push(bridge);
    ip('addr', 'add', `${net}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    t.addLeaf('a', 2);
    t.addLeaf('b', 3);
    ip('-n', `${prefix}a`, 'route', 'add', 'default', 'via', `${net}.1`);
    ip(
      'link',
      'add',
      'eth1',
      'netns',
      `${prefix}a`,
      'mtu',
      '1400',
      'type',
      'veth',
      'peer',
      'name',
      'eth1',
      'netns',
      `${prefix}b`,
      'mtu',
      '1400',
    );
    ip('-n', `${prefix}a`, 'link', 'set', 'eth1', 'up');
    ip('-n', `${prefix}b`, 'link', 'set', 'eth1', 'up');
  } catch (err) {
    t.destroy();
    throw err;
  }
  return t;
}
