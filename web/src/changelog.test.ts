import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeEvent, LabReport, VerifyReport } from '../../src/service/contract.js';
import { BLUE, GUEST, HOST, sampleDiscovery, syntheticDiscovery } from '../../src/views/fixtures.js';
import {
  BURST,
  type ChangeLogEntry,
  clearMarks,
  driftEntries,
  LOG_MAX,
  MARK_MS,
  markChanges,
  noMarks,
  recordChanges,
  visibleChanges,
} from './changelog.js';
import { buildGraph } from './graph.js';

const AT = new Date('2026-12-05T12:00:00Z');

function event(changes: {
  added?: number[];
  removed?: number[];
  changed?: number[];
  ifaces?: { netns: number; index: number; name: string }[];
  containersAdded?: string[];
  containersRemoved?: string[];
}): ChangeEvent {
  return {
    generation: 2,
    startedAt: '',
    changes: {
      namespaces: {
        added: changes.added ?? [],
        removed: changes.removed ?? [],
        changed: changes.changed ?? [],
      },
      interfaces: { added: [], removed: [], changed: changes.ifaces ?? [] },
      containers: {
        added: changes.containersAdded ?? [],
        removed: changes.containersRemoved ?? [],
        changed: [],
      },
    },
  };
}

/** The namespaces syntheticDiscovery(n) adds to the sample, in order. */
const synthetic = (n: number) => Array.from({ length: n }, (_, k) => 4026540000 + k);

describe('the live change log', () => {
  it(`logs up to ${BURST} new namespaces one line each, newest first, linked to their cards`, () => {
    const before = buildGraph(sampleDiscovery());
    const after = buildGraph(syntheticDiscovery(BURST));
    const inos = synthetic(BURST);
    const log = recordChanges([], event({ added: inos }), before, after, AT);
    assert.equal(log.length, BURST);
    assert.deepEqual(
      log.map((e) => e.href),
      [...inos].reverse().map((ino) => `#/wiring/${ino}`),
    );
    assert.ok(log.every((e) => e.kind === 'added' && e.text === '+ sleep' && e.members === undefined));
  });

  it('collapses a burst of more namespaces into one line that keeps each one for search', () => {
    const before = buildGraph(sampleDiscovery());
    const after = buildGraph(syntheticDiscovery(30));
    const log = recordChanges([], event({ added: synthetic(30) }), before, after, AT);
    assert.equal(log.length, 1);
    const [burst] = log as [ChangeLogEntry];
    assert.equal(burst.text, '+ 30 namespaces (sleep, sleep, sleep, …)');
    assert.equal(burst.href, undefined);
    assert.equal(burst.members?.length, 30);
    assert.equal(burst.members?.[0]?.href, `#/wiring/${4026540000 + 29}`, 'members newest first');

    // Without a search the burst is one line; a search shows the member it matches in its place.
    assert.deepEqual(visibleChanges(log, ''), [burst]);
    const found = visibleChanges(log, 'guest7');
    assert.deepEqual(
      found.map((e) => e.href),
      [`#/wiring/${4026540000 + 7}`],
    );
  });

  it('says what changed inside a changed namespace, and names a vanished one from before', () => {
    const d = sampleDiscovery();
    const before = buildGraph(d);
    const next = structuredClone(d);
    const guest = next.networks[`${GUEST}`];
    const eth0 = guest?.interfaces.find((i) => i.name === 'eth0');
    assert.ok(guest && eth0);
    eth0.mtu = 1400;
    delete next.networks[`${BLUE}`];
    delete next.namespaces[`${BLUE}`];
    const after = buildGraph(next);
    const log = recordChanges([], event({ changed: [GUEST], removed: [BLUE] }), before, after, AT);
    // Added after removed: the change is the newer line.
    assert.deepEqual(
      log.map((e) => [e.kind, e.text, e.href]),
      [
        ['changed', '~ sleep', `#/wiring/${GUEST}`],
        ['removed', '− blue vanished', undefined],
      ],
    );
    assert.equal(log[0]?.details?.length, 1);
    assert.match(log[0]?.details?.[0] ?? '', /^~ eth0\b.*1500.*1400/);
  });

  it('logs containers by name, linked to their details', () => {
    const g = buildGraph(sampleDiscovery());
    const log = recordChanges(
      [],
      event({ containersAdded: ['k8s-nginx'], containersRemoved: ['gone1234567890ab'] }),
      g,
      g,
      AT,
    );
    assert.deepEqual(
      log.map((e) => [e.text, e.href, e.search]),
      [
        ['+ container nginx', '#/container/k8s-nginx', 'nginx'],
        ['− container gone12345678', undefined, 'gone12345678'],
      ],
    );
  });

  it(`keeps the newest ${LOG_MAX} entries`, () => {
    const g = buildGraph(sampleDiscovery());
    const old: ChangeLogEntry[] = Array.from({ length: LOG_MAX }, (_, i) => ({
      at: AT,
      kind: 'added',
      text: `old ${i}`,
      search: '',
    }));
    const log = recordChanges(old, event({ containersAdded: ['k8s-nginx'] }), g, g, AT);
    assert.equal(log.length, LOG_MAX);
    assert.equal(log[0]?.text, '+ container nginx');
    assert.equal(log.at(-1)?.text, `old ${LOG_MAX - 2}`);
  });

  it('shows entries that match any word of the search, at most the limit', () => {
    const entry = (search: string): ChangeLogEntry => ({ at: AT, kind: 'changed', text: search, search });
    const log = [entry('Alpha'), entry('beta'), entry('gamma')];
    assert.deepEqual(
      visibleChanges(log, 'ALPHA gam').map((e) => e.text),
      ['Alpha', 'gamma'],
    );
    assert.equal(visibleChanges(log, '', 2).length, 2);
  });
});

describe('change marks', () => {
  it('marks namespaces and interfaces, keeps a new namespace "added" through its changes, forgets removed ones', () => {
    const m = noMarks();
    markChanges(m, event({ added: [1], ifaces: [{ netns: 1, index: 2, name: 'eth0' }] }), 0);
    markChanges(m, event({ changed: [1, 2] }), 1000);
    assert.deepEqual(
      [...m.changedNs],
      [
        [1, 'added'],
        [2, 'changed'],
      ],
    );
    assert.deepEqual([...m.changedIfaces], ['1/2']);
    markChanges(m, event({ removed: [2] }), 2000);
    assert.deepEqual([...m.changedNs.keys()], [1]);
    clearMarks(m);
    assert.equal(m.changedNs.size + m.changedIfaces.size + m.markedAt.size, 0);
  });

  it(`fades marks older than ${MARK_MS / 1000} s at the next change`, () => {
    const m = noMarks();
    markChanges(m, event({ added: [1], ifaces: [{ netns: 1, index: 2, name: 'eth0' }] }), 0);
    markChanges(m, event({ changed: [HOST] }), MARK_MS - 1);
    assert.ok(m.changedNs.has(1) && m.changedIfaces.has('1/2'), 'young marks stay');
    markChanges(m, event({}), MARK_MS);
    assert.deepEqual([...m.changedNs.keys()], [HOST]);
    assert.equal(m.changedIfaces.size, 0);
  });
});

describe('lab drift in the change log', () => {
  const lab = (name: string, clean: boolean, ops: ('-' | '+' | '~')[] = []): LabReport => ({
    lab: name,
    file: `${name}.yaml`,
    clean,
    drift: ops.map((op) => ({ object: 'node a', op, message: 'x' })),
    nodes: {},
  });
  const report = (...labs: LabReport[]): VerifyReport => ({
    startedAt: '',
    clean: labs.every((l) => l.clean),
    labs,
  });

  it('logs nothing on the first verification, nor for a lab whose drift is unchanged', () => {
    assert.deepEqual(driftEntries(undefined, report(lab('a', true)), AT), []);
    assert.deepEqual(driftEntries(report(lab('a', false, ['-'])), report(lab('a', false, ['-'])), AT), []);
  });

  it('logs a lab whose drift changed, and a new lab, newest first', () => {
    const entries = driftEntries(
      report(lab('a', false, ['-'])),
      report(lab('a', true), lab('b', false, ['-', '~', '+'])),
      AT,
    );
    assert.deepEqual(
      entries.map((e) => [e.kind, e.text, e.search]),
      [
        ['changed', 'lab b: drift −1 ~1 +1', 'b'],
        ['added', 'lab a: clean', 'a'],
      ],
    );
  });
});
