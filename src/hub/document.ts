/**
 * The hub's JSON answers as bytes. A node's model is serialised once per
 * model (its agent's document changes only when the agent's does) and the
 * merged document is spliced from those bytes, so a change on one node costs
 * that node's serialisation, not the cluster's; a node's Ghostwire v1
 * document (`/json?node=`) likewise once per model.
 */
import type { Discovery } from '../model/types.js';
import { toGhostwireV1 } from '../views/ghostwire-v1/index.js';
import type { HubDocument, NodesAnswer } from './contract.js';
import type { Merged } from './merge.js';

const nativeBytes = new WeakMap<Discovery, Buffer>();
const v1Bytes = new WeakMap<Discovery, Buffer>();

const memo = (map: WeakMap<Discovery, Buffer>, d: Discovery, build: () => unknown): Buffer => {
  let b = map.get(d);
  if (!b) {
    b = Buffer.from(JSON.stringify(build()));
    map.set(d, b);
  }
  return b;
};

/** A node's Ghostwire v1 document (the agent's own /json, made here from its model). */
export const nodeV1Bytes = (d: Discovery): Buffer => memo(v1Bytes, d, () => toGhostwireV1(d));

/** The merged document (contract.ts HubDocument), its node models spliced in as serialised. */
export function hubDocumentBytes(merged: Merged, generation: number, source: string): Buffer {
  const parts: Buffer[] = [];
  const head: Omit<HubDocument, 'nodes' | 'overlay' | 'agents'> = {
    schema: 'wirescope/hub/v1',
    generation,
    source,
  };
  parts.push(Buffer.from(`${JSON.stringify(head).slice(0, -1)},"nodes":{`));
  let first = true;
  for (const [name, node] of merged.nodes) {
    // The summary's closing brace gives way to the model's member.
    const summary = JSON.stringify(node.summary).slice(0, -1);
    parts.push(Buffer.from(`${first ? '' : ','}${JSON.stringify(name)}:${summary},"discovery":`));
    parts.push(
      node.discovery ? memo(nativeBytes, node.discovery, () => node.discovery) : Buffer.from('null'),
    );
    parts.push(Buffer.from('}'));
    first = false;
  }
  parts.push(
    Buffer.from(`},"overlay":${JSON.stringify(merged.overlay)},"agents":${JSON.stringify(merged.agents)}}`),
  );
  return Buffer.concat(parts);
}

export function nodesAnswer(merged: Merged, generation: number, source: string): NodesAnswer {
  return {
    generation,
    source,
    nodes: [...merged.nodes.values()].map((n) => n.summary),
    agents: merged.agents,
  };
}
