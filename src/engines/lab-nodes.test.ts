/** Lab nodes from the process scan and the engines' containers (pure; the real labs are in src/lab/*.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAB_ENGINE, LAB_GROUP_TYPE } from '../model/groups.js';
import type { Draft } from '../model/types.js';
import { addLabNodes } from './lab-nodes.js';
import type { Workloads } from './source.js';
import { dockerDraft } from './testing/draft.js';

function proc(pid: number, ppid: number, cmdline: string[], net: number, container?: string): Draft.Process {
  return {
    pid,
    ppid,
    starttime: pid * 10,
    comm: 'sleep',
    cmdline,
    uid: 0,
    cgroups: [],
    capBnd: '0x1ffffffffff',
    namespaces: { net },
    nspid: [pid],
    ...(container === undefined ? {} : { container }),
  };
}

const empty = (): Workloads => ({ containers: {}, engines: {}, groups: {}, warnings: [] });

describe('engines: lab nodes', () => {
  it('makes each marked holder a lab node named after the node, in its network namespace', () => {
    const procs = { 100: proc(100, 1, ['wirescope-lab:demo:h1', 'infinity'], 7001) };
    const w = empty();
    addLabNodes(procs, w);
    assert.deepEqual(w.containers['wirescope-lab:demo:h1'], {
      id: 'wirescope-lab:demo:h1',
      name: 'h1',
      type: 'lab',
      engine: LAB_ENGINE,
      state: 'running',
      labels: { 'wirescope.lab': 'demo', 'wirescope.node': 'h1' },
      pid: 100,
      starttime: 1000,
      netns: 7001,
      privileged: false,
      groups: ['lab/demo'],
    });
    assert.equal(procs[100].container, 'wirescope-lab:demo:h1');
    assert.deepEqual(Object.keys(w.engines), [], 'no engine record is invented for labs');
  });

  it('groups the nodes of each lab, Docker nodes included, and nothing else', () => {
    const procs = {
      100: proc(100, 1, ['wirescope-lab:demo:h1', 'infinity'], 7001),
      101: proc(101, 1, ['wirescope-lab:other:h1', 'infinity'], 7002),
      102: proc(102, 1, ['sleep', 'wirescope-lab:demo:h9'], 7003),
      103: proc(103, 1, ['wirescope-lab:demo'], 7004),
    };
    const w = empty();
    w.containers.d1 = dockerDraft('d1', { 'wirescope.lab': 'demo', 'wirescope.node': 'd1' });
    w.containers.x = dockerDraft('x', { 'wirescope.lab': 'demo' });
    addLabNodes(procs, w);
    assert.deepEqual(Object.keys(w.containers).sort(), [
      'd1',
      'wirescope-lab:demo:h1',
      'wirescope-lab:other:h1',
      'x',
    ]);
    assert.deepEqual(w.groups['lab/demo'], {
      id: 'lab/demo',
      name: 'demo',
      type: LAB_GROUP_TYPE,
      containers: ['d1', 'wirescope-lab:demo:h1'],
      labels: { 'wirescope.lab': 'demo' },
    });
    assert.deepEqual(w.groups['lab/other']?.containers, ['wirescope-lab:other:h1']);
    assert.equal(w.containers.d1?.engine, 'docker-1', 'a Docker node keeps its engine');
    assert.deepEqual(w.containers.x?.groups, [], 'a lab label without a node label is not a node');
  });

  it("puts a container node's command under the node, but leaves processes an engine placed alone", () => {
    const procs = {
      100: proc(100, 1, ['wirescope-lab:demo:c1', '--mount'], 7001),
      101: proc(101, 100, ['bash'], 7001),
      102: proc(102, 101, ['httpd'], 7001),
      103: proc(103, 102, ['runc-child'], 7001, 'abc'),
      104: proc(104, 1, ['bash'], 7000),
    };
    addLabNodes(procs, empty());
    assert.equal(procs[101].container, 'wirescope-lab:demo:c1');
    assert.equal(procs[102].container, 'wirescope-lab:demo:c1');
    assert.equal(procs[103].container, 'abc');
    assert.equal(procs[104].container, undefined);
  });

  it('is idempotent: a second pass adds no second membership', () => {
    const procs = { 100: proc(100, 1, ['wirescope-lab:demo:h1'], 7001) };
    const w = empty();
    w.containers.d1 = dockerDraft('d1', { 'wirescope.lab': 'demo', 'wirescope.node': 'd1' });
    addLabNodes(procs, w);
    addLabNodes(procs, w);
    assert.deepEqual(w.groups['lab/demo']?.containers, ['d1', 'wirescope-lab:demo:h1']);
    assert.deepEqual(w.containers.d1?.groups, ['lab/demo']);
  });

  it('keeps the first of two holders claiming the same node', () => {
    const procs = {
      100: proc(100, 1, ['wirescope-lab:demo:h1'], 7001),
      200: proc(200, 1, ['wirescope-lab:demo:h1'], 7002),
    };
    const w = empty();
    addLabNodes(procs, w);
    assert.equal(w.containers['wirescope-lab:demo:h1']?.pid, 100);
    assert.equal(procs[200].container, undefined);
  });
});
