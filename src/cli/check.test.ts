/**
 * `wirescope check` as a user runs it: a live table and exit 0 when every
 * neighbour answers, exit 1 when one does not, one JSON document with --json,
 * and a one-line error with exit 2 for a target that names nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { wireFork } from '../check/testing/fork.js';
import type { CheckResult } from '../check/types.js';
import { NetFixtures } from '../network/testing/fixtures.js';
import { inNetns } from '../testing/ip.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('wirescope check', () => {
  const fx = new NetFixtures();
  const [a, b, c] = ['a', 'b', 'c'].map((n) => `${fx.prefix}-${n}`) as [string, string, string];

  before(() => {
    wireFork(fx);
  });
  after(() => fx.cleanup());

  it('prints a verdict per neighbour and exits 0 when all answer', () => {
    const r = run('check', a, '--no-engines', '--timeout', '800');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`neighbourhood of ${a} .*2 neighbour`));
    assert.match(r.stdout, new RegExp(`^ok +${b} +10\\.78\\.0\\.2 +via icmp$`, 'm'));
    assert.match(r.stdout, new RegExp(`^ok +${c} +10\\.79\\.0\\.2 +via icmp$`, 'm'));
    assert.match(r.stdout, /2 check\(s\): 2 verified, 0 unreachable, 0 invalid/);
  });

  it('exits 1 and says why when a neighbour drops, with --json as one document', () => {
    inNetns(c, 'nft', ['-f', '-'], {
      input:
        'table inet wsdrop {\n chain dropall {\n  type filter hook input priority 0; policy drop;\n }\n}\n',
    });
    const r = run('check', a, '--no-engines', '--timeout', '800', '--json');
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as CheckResult;
    assert.equal(doc.ok, false);
    assert.deepEqual(
      doc.verdicts.map((v) => [v.fqdn, v.address, v.quality]),
      [
        [b, '10.78.0.2', 'verified'],
        [c, '10.79.0.2', 'unreachable'],
      ],
    );
  });

  it('names the missing capabilities when an unprivileged run cannot see the target', () => {
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'check', a, '--no-engines'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /^wirescope: no container or network namespace matches .*\(discovery ran without .*CAP_SYS_ADMIN/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('answers a target that names nothing with one line and exit 2', () => {
    const r = run('check', `${fx.prefix}-nosuch`, '--no-engines');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `wirescope: no container or network namespace matches "${fx.prefix}-nosuch"\n`);
  });
});
