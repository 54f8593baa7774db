/**
 * Lab nodes as workloads, so a lab built by `wirescope lab up` is seen as what
 * it is and not as a row of anonymous `sleep` processes.
 *
 * A netns or container node's namespaces are held by a process whose argv[0]
 * is the lab's ownership mark `wirescope-lab:<lab>:<node>` (src/model/lab-marks.ts);
 * each such process becomes a container of type "lab" named after the node.
 * No daemon runs lab nodes, so their `engine` is LAB_ENGINE and there is no
 * Engine record for it. Docker nodes already are Docker containers (labelled
 * wirescope.lab / wirescope.node); they keep their engine. Every node of a lab
 * joins the group `lab/<lab>`, as a compose service joins its project.
 *
 * The mark is a hint, good for naming only: argv[0] is whatever a process
 * says it is, so a look-alike shows here as a lab node too. Nothing that acts
 * on a lab or judges it relies on this: `verify`, `--reach` and `lab down`
 * find nodes by the state file's pid and start time (src/lab/check/verify.ts).
 *
 * Pure function over the process scan and the engines' workloads; runs before
 * tenants are collected so tenants and processes point at the node.
 */

import { LAB_ENGINE, LAB_GROUP_TYPE, LAB_NODE_TYPE, labGroupId } from '../model/groups.js';
import { LABEL_LAB, LABEL_NODE, nodeOfProcessMark } from '../model/lab-marks.js';
import type { Draft } from '../model/types.js';
import { containerOfProcesses } from './relate.js';
import type { Workloads } from './source.js';

export function addLabNodes(processes: Record<string, Draft.Process>, w: Workloads): void {
  const holders = new Map<number, string>();
  for (const p of Object.values(processes)) {
    const mark = nodeOfProcessMark(p.cmdline[0]);
    if (mark === undefined) continue;
    // The mark itself is the key: unique per lab and node, and what `lab down` looks for.
    const key = p.cmdline[0] as string;
    // Two live holders with one mark cannot both be the node; keep the first found
    // (`verify` reports the duplicate).
    if (w.containers[key] !== undefined) continue;
    w.containers[key] = {
      id: key,
      name: mark.node,
      type: LAB_NODE_TYPE,
      engine: LAB_ENGINE,
      state: 'running',
      labels: { [LABEL_LAB]: mark.lab, [LABEL_NODE]: mark.node },
      pid: p.pid,
      starttime: p.starttime,
      netns: p.namespaces.net,
      // "privileged" is an engine's flag; no engine made this node.
      privileged: false,
      groups: [],
    };
    holders.set(p.pid, key);
  }

  for (const [key, c] of Object.entries(w.containers)) {
    const lab = c.labels[LABEL_LAB];
    // Only nodes: wirescope.lab on a container some engine made for other reasons is not enough.
    if (lab === undefined || c.labels[LABEL_NODE] === undefined) continue;
    const id = labGroupId(lab);
    let g = w.groups[id];
    if (g === undefined) {
      g = { id, name: lab, type: LAB_GROUP_TYPE, containers: [], labels: { [LABEL_LAB]: lab } };
      w.groups[id] = g;
    }
    if (!g.containers.includes(key)) g.containers.push(key);
    if (!c.groups.includes(id)) c.groups.push(id);
  }

  // A container node's command runs under its holder: those processes belong to the node,
  // unless an engine already placed them in one of its containers.
  if (holders.size === 0) return;
  for (const [pid, key] of containerOfProcesses(processes, holders)) {
    const p = processes[pid];
    if (key !== null && p !== undefined && p.container === undefined) p.container = key;
  }
}
