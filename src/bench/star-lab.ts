/**
 * The lab file the lab and serve-verify benches build: a hub namespace holding
 * a bridge, and `n` namespaces each with a veth into it, addressed in
 * 10.<net>.0.0/16 (the second octet grows past 65535 nodes).
 */
export function starLab(name: string, n: number, net: number): object {
  const nodes: Record<string, object> = { hub: { kind: 'netns' }, sw: { kind: 'bridge', in: 'hub' } };
  const links: object[] = [];
  for (let i = 0; i < n; i++) {
    nodes[`n${i}`] = { kind: 'netns' };
    links.push({
      endpoints: [
        `sw:p${i}`,
        { node: `n${i}`, name: 'eth0', ipv4: `10.${net + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) + 1}/16` },
      ],
    });
  }
  return { name, nodes, links };
}
