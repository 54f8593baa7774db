/**
 * The plain-namespace neighbourhood the check's CLI and service tests start from: namespace a
 * with two veths, to b (10.78.0.0/24) and to c (10.79.0.0/24), every end up.
 */
import type { NetFixtures } from '../../network/testing/fixtures.js';
import { ipBatch } from '../../testing/ip.js';

export function wireFork(fx: NetFixtures): { a: string; b: string; c: string } {
  fx.netns('a', 'b', 'c');
  const [a, b, c] = ['a', 'b', 'c'].map((n) => `${fx.prefix}-${n}`) as [string, string, string];
  ipBatch([
    `-n ${a} link add eth0 type veth peer name eth0 netns ${b}`,
    `-n ${a} link add eth1 type veth peer name eth0 netns ${c}`,
    `-n ${a} addr add 10.78.0.1/24 dev eth0`,
    `-n ${b} addr add 10.78.0.2/24 dev eth0`,
    `-n ${a} addr add 10.79.0.1/24 dev eth1`,
    `-n ${c} addr add 10.79.0.2/24 dev eth0`,
    `-n ${a} link set eth0 up`,
    `-n ${a} link set eth1 up`,
    `-n ${b} link set eth0 up`,
    `-n ${c} link set eth0 up`,
  ]);
  return { a, b, c };
}
