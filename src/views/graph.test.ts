import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../model/freeze.js';
import type { Discovery } from '../model/types.js';
import { BLUE, GUEST, HOST, POD, sampleDiscovery } from './fixtures.js';
import { toDot, toMermaid } from './graph.js';

const d = deepFreeze(sampleDiscovery()) as Discovery;
const edgesOf = (dot: string): string[] =>
  dot
    .split('\n')
    .filter((l) => l.includes(' -- '))
    .map((l) => l.trim());

describe('graph exports', () => {
  it('draws every wire once as a DOT edge: veth, bridge port, macvlan parent, vxlan underlay', () => {
    assert.deepEqual(edgesOf(toDot(d)), [
      `n${HOST}_4 -- n${GUEST}_2 [label="veth"];`,
      `n${HOST}_4 -- n${HOST}_3 [label="bridge port", style=dashed];`,
      `n${GUEST}_3 -- n${GUEST}_2 [label="macvlan", style=dashed];`,
      `n${BLUE}_5 -- n${HOST}_2 [label="vxlan 42", style=dotted];`,
    ]);
  });

  it('puts each namespace in a cluster with its interfaces and global addresses, loopbacks left out', () => {
    const dot = toDot(d);
    assert.match(
      dot,
      new RegExp(`subgraph "cluster_${GUEST}" \\{\\n {4}label="netns ${GUEST} \\(sleep\\(1000\\)\\)";`),
    );
    assert.match(dot, new RegExp(`n${GUEST}_2 \\[label="eth0\\\\nveth\\\\n172\\.20\\.0\\.2/16"\\];`));
    assert.doesNotMatch(dot, /label="lo\\n/);
    assert.match(dot, new RegExp(`subgraph "cluster_${POD}"`), 'a namespace without wires is still drawn');
    assert.ok(dot.startsWith('graph wirescope {\n') && dot.endsWith('}\n'));
  });

  it('limited to one namespace, still draws the far ends of its wires', () => {
    const dot = toDot(d, { netns: String(GUEST) });
    assert.deepEqual(edgesOf(dot), [
      `n${HOST}_4 -- n${GUEST}_2 [label="veth"];`,
      `n${GUEST}_3 -- n${GUEST}_2 [label="macvlan", style=dashed];`,
    ]);
    assert.match(
      dot,
      new RegExp(`subgraph "cluster_${HOST}" \\{\\n {4}label="netns ${HOST} \\(host\\)";\\n {4}n${HOST}_4 `),
    );
    assert.doesNotMatch(dot, new RegExp(`n${HOST}_2 \\[`), 'host interfaces off the wires are left out');
    assert.doesNotMatch(dot, new RegExp(`cluster_${BLUE}`));
  });

  it('escapes names that would end a DOT string', () => {
    const s = sampleDiscovery();
    const eth0 = s.networks[`${GUEST}`]?.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0);
    eth0.name = 'we"ird\\';
    assert.match(toDot(deepFreeze(s) as Discovery), /label="we\\"ird\\\\\\nveth/);
  });

  it('writes the same graph as a Mermaid flowchart', () => {
    const m = toMermaid(d);
    assert.ok(m.startsWith('flowchart LR\n'));
    assert.match(m, new RegExp(`subgraph ns${GUEST}\\["netns ${GUEST} #40;sleep#40;1000#41;#41;"\\]`));
    assert.match(m, new RegExp(`n${GUEST}_2\\["eth0<br/>veth<br/>172\\.20\\.0\\.2/16"\\]`));
    assert.deepEqual(
      m
        .split('\n')
        .filter((l) => /---|-\.-/.test(l))
        .map((l) => l.trim()),
      [
        `n${HOST}_4 ---|"veth"| n${GUEST}_2`,
        `n${HOST}_4 -.-|"bridge port"| n${HOST}_3`,
        `n${GUEST}_3 -.-|"macvlan"| n${GUEST}_2`,
        `n${BLUE}_5 -.-|"vxlan 42"| n${HOST}_2`,
      ],
    );
  });
});
