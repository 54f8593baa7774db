/**
 * A small real lab for the `serve --verify` tests: built with labUp from a
 * file (the service reads the file), perturbed with `ip` inside its nodes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp } from '../../lab/build/apply.js';
import { labDown } from '../../lab/build/down.js';
import { loadLab } from '../../lab/file/load.js';
import { inNode } from '../../lab/testing/fixtures.js';
import { uniquePrefix } from '../../testing/names.js';

export interface DriftLab {
  name: string;
  file: string;
  dir: string;
}

/** Three namespaces, a–b and a–c veths, a sysctl and a partition: small enough to build in a second. */
export function driftLabYaml(name: string): string {
  return `name: ${name}
nodes:
  a: { kind: netns, sysctls: { net.ipv4.ip_forward: 1 } }
  b: { kind: netns }
  c: { kind: netns }
links:
  - endpoints:
      - { node: a, name: eth1, ipv4: 10.231.0.1/24 }
      - { node: b, name: eth1, ipv4: 10.231.0.2/24 }
  - endpoints:
      - { node: a, name: eth2, ipv4: 10.231.1.1/24 }
      - { node: c, name: eth1, ipv4: 10.231.1.2/24 }
partitions:
  - split: [[b], [c]]
`;
}

/** Writes the lab file to a temp folder and brings the lab up. */
export async function driftLab(): Promise<DriftLab> {
  const name = uniquePrefix('wst', 5);
  const dir = mkdtempSync(join(tmpdir(), 'wst-verify-'));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, driftLabYaml(name));
  await labUp(loadLab(file));
  return { name, file, dir };
}

export async function dropDriftLab(l: DriftLab | undefined): Promise<void> {
  if (!l) return;
  await labDown(l.name).catch(() => undefined);
  rmSync(l.dir, { recursive: true, force: true });
}

/** Runs `ip` inside a lab node; fails the test when it fails. */
export function ipIn(lab: string, node: string, ...args: string[]): void {
  const r = inNode(lab, node, ['ip', ...args]);
  assert.equal(r.code, 0, `ip ${args.join(' ')} in ${node}: ${r.out}`);
}
