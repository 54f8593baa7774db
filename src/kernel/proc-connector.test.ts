import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { eventually } from '../testing/eventually.js';
import {
  buildMcastOp,
  PROC_CN_MCAST_LISTEN,
  ProcConnector,
  type ProcEvent,
  ProcEventError,
  parseProcEvent,
} from './proc-connector.js';
import { RECORDED_PROC_EVENTS as R } from './proc-connector.recorded.js';

const hex = (h: string) => Buffer.from(h, 'hex');

describe('process connector messages (recorded)', () => {
  it('decodes the listen ack with its ack number and errno', () => {
    assert.deepEqual(parseProcEvent(hex(R.ack)), { what: 'ack', err: 0, ack: 42 });
  });
  it('decodes fork with parent and child, process and thread ids', () => {
    assert.deepEqual(parseProcEvent(hex(R.fork)), {
      what: 'fork',
      parentPid: 3979,
      parentTgid: 3979,
      childPid: 4286,
      childTgid: 4286,
    });
  });
  it('decodes exec and exit', () => {
    assert.deepEqual(parseProcEvent(hex(R.exec)), { what: 'exec', pid: 4286, tgid: 4286 });
    assert.deepEqual(parseProcEvent(hex(R.exit)), { what: 'exit', pid: 4287, tgid: 4287 });
  });
  it('passes other kinds by their code', () => {
    assert.deepEqual(parseProcEvent(hex(R.comm)), { what: 'other', code: 0x200 });
  });
  it('ignores other connectors and refuses truncated messages with its own error', () => {
    const other = hex(R.exec);
    other.writeUInt32LE(7, 0);
    assert.equal(parseProcEvent(other), undefined);
    for (const h of Object.values(R)) {
      const b = hex(h);
      for (const cut of [0, 19, 20, 35, 40, 43])
        if (cut < b.length) assert.throws(() => parseProcEvent(b.subarray(0, cut)), ProcEventError);
    }
    const lying = hex(R.fork);
    lying.writeUInt16LE(200, 16);
    assert.throws(() => parseProcEvent(lying), ProcEventError);
  });
  it('builds the listen request as the kernel reads it (cn_msg + op)', () => {
    const b = buildMcastOp(PROC_CN_MCAST_LISTEN, 0, 41);
    assert.equal(b.toString('hex'), `0100000001000000000000002900000004000000${'01000000'}`);
  });
});

describe('process connector on the real kernel', () => {
  it('reports fork, exec and exit of a child, by host PID', async () => {
    const c = ProcConnector.open();
    try {
      const child = spawn('true');
      const pid = child.pid ?? -1;
      await new Promise((r) => child.once('exit', r));
      const seen: ProcEvent[] = [];
      const has = (what: string) =>
        seen.some(
          (e) =>
            (e.what === 'fork' && what === 'fork' && e.childTgid === pid) ||
            ((e.what === 'exec' || e.what === 'exit') && e.what === what && e.tgid === pid),
        );
      await eventually(
        `fork, exec and exit of ${pid}`,
        () => {
          c.drain((e) => seen.push(e));
          return has('fork') && has('exec') && has('exit');
        },
        {
          timeoutMs: 5000,
          intervalMs: 10,
          show: () => seen.filter((e) => 'tgid' in e || 'childTgid' in e).slice(-10),
        },
      );
    } finally {
      c.close();
    }
  });
});
