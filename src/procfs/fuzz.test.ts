/**
 * Fuzzing the procfs text parsers with this host's own files (read live in the test), mutated:
 * /proc/PID/stat, status, cmdline, cgroup, mountinfo, namespace links, and the /proc/net and
 * /proc/stat files other stages parse (net/unix, sockstat, the boot time).
 *
 * The contract ("a clear error"): these parsers never throw; a line or field they cannot read
 * is skipped or the whole record is `undefined` (the scan then warns `proc-unreadable`). What
 * they return holds no invented number: no NaN, no Infinity, ids and counts are integers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseBootTime } from '../engines/relate.js';
import { parseNetUnix } from '../engines/unix.js';
import { parseStat as parseOwnerStat } from '../network/owners.js';
import { parseSockStat } from '../network/sockstat.js';
import {
  assertSound,
  clearErrorOnly,
  fuzz,
  mutateText,
  type Rng,
  replay,
  shrinkText,
} from '../testing/fuzz.js';
import {
  parseCgroup,
  parseCmdline,
  parseMountinfo,
  parseNsfsMounts,
  parseNsLink,
  parseStat,
  parseStatus,
} from './parse.js';

const read = (p: string): string[] => {
  try {
    return [readFileSync(p, 'latin1')];
  } catch {
    return [];
  }
};
/** A few live processes' files: this one, pid 1, and some others. */
const pids = [
  'self',
  '1',
  ...readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .slice(0, 6),
];
const files = (name: string) => pids.flatMap((p) => read(`/proc/${p}/${name}`));
const nsLinks = readdirSync('/proc/self/ns').map((n) => readlinkSync(`/proc/self/ns/${n}`));

function textTarget(name: string, corpus: string[], run: (t: string) => unknown, cases = 1500) {
  return {
    name,
    cases,
    generate: (rng: Rng) => mutateText(rng, corpus),
    check: (t: string) => {
      assertSound(
        clearErrorOnly(() => run(t), []),
        name,
        INTEGERS,
      );
    },
    shrink: shrinkText,
    show: (t: string) => JSON.stringify(t),
  };
}
/** Fields that are ids or counts. */
const INTEGERS = [
  'pid',
  'ppid',
  'starttime',
  'uid',
  'threads',
  'hierarchy',
  'ino',
  'mountId',
  'parentId',
  'inode',
];

describe("procfs parsers under fuzzing (this host's files, mutated)", () => {
  it("/proc/PID/stat: parseStat (scan) and the owners stage's parseStat", () => {
    const c = files('stat');
    fuzz(textTarget('proc stat', c, parseStat));
    fuzz(textTarget('proc stat (owners)', c, parseOwnerStat));
  });

  it('/proc/PID/status: parseStatus', () => {
    fuzz(
      textTarget('proc status', files('status'), (t) => {
        const s = parseStatus(t);
        assertSound(s.nspid, 'nspid', ['*']);
        return s;
      }),
    );
  });

  it('/proc/PID/cmdline and cgroup: parseCmdline, parseCgroup', () => {
    fuzz(textTarget('proc cmdline', files('cmdline'), parseCmdline));
    fuzz(textTarget('proc cgroup', files('cgroup'), parseCgroup));
  });

  it('/proc/PID/mountinfo and namespace links: parseMountinfo, parseNsfsMounts, parseNsLink', () => {
    const mi = files('mountinfo').slice(0, 2);
    mi.push('712 29 0:4 net:[4026532475] /run/netns/x rw shared:1 - nsfs nsfs rw\n');
    fuzz(textTarget('proc mountinfo', mi, (t) => [parseMountinfo(t), parseNsfsMounts(t)], 800));
    fuzz(textTarget('ns links', nsLinks, parseNsLink));
  });

  it('/proc/net/unix, sockstat and /proc/stat: parseNetUnix, parseSockStat, parseBootTime', () => {
    fuzz(
      textTarget(
        'net unix',
        read('/proc/self/net/unix').map((t) => t.slice(0, 4000)),
        parseNetUnix,
        800,
      ),
    );
    const v4 = read('/proc/self/net/sockstat');
    const v6 = read('/proc/self/net/sockstat6');
    fuzz(
      textTarget('sockstat', [...v4, ...v6], (t) => [
        parseSockStat(t, v6[0] ?? ''),
        parseSockStat(v4[0] ?? '', t),
      ]),
    );
    fuzz(textTarget('proc stat btime', read('/proc/stat'), parseBootTime, 800));
  });

  it('reads fields that are not numbers as unknown or skips their line, never as NaN (found by fuzzing)', () => {
    replay(textTarget('proc status', [], parseStatus), ['Threads:', 'Uid:', 'NSpid:\t12\tx']);
    replay(textTarget('proc stat (owners)', [], parseOwnerStat), ['()S                   .5']);
    assert.equal(parseNsLink('net:[1e3]'), undefined);
    const unixHead = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
    replay(textTarget('net unix', [], parseNetUnix), [
      `${unixHead}0000000000000000: 00000002 00000000 00010000 0001 01 559.9257 /run/x.sock`,
      `${unixHead}0000000000000000: 00000002 00000000 0001zz00 0001 01 5599257 /run/x.sock`,
      `${unixHead}0000000000000000: 00000002 00000000 00010000 0001 01 1e3 /run/x.sock`,
    ]);
    assert.deepEqual(
      parseNetUnix(`${unixHead}0000000000000000: 00000002 00000000 00010000 0001 01 5599257 /run/x.sock`),
      [{ inode: 5599257, path: '/run/x.sock', listening: true }],
    );
    replay(textTarget('proc cgroup', [], parseCgroup), ['::']);
    replay(textTarget('proc mountinfo', [], parseMountinfo), ['x      - ', '\\      - ']);
    replay(
      textTarget('sockstat', [], (t) => parseSockStat('TCP: inuse 1 orphan 0 tw 0\nUDP: inuse 0', t)),
      ['TCP6: inuse -\nUDP6: inuse ', 'TCP6: inuse +\nUDP6: inuse '],
    );
    assert.deepEqual(parseStatus('Uid:\tx\nThreads:\t\nNSpid:\t5 y'), {
      uid: -1,
      capBnd: '',
      capEff: '',
      nspid: [],
      threads: 1,
    });
    assert.deepEqual(parseCgroup('::\n0::/user.slice\n'), [
      { hierarchy: 0, controllers: [], path: '/user.slice' },
    ]);
    assert.equal(
      parseSockStat('TCP: inuse 1 orphan 0 tw 0\nUDP: inuse 0', 'TCP6: inuse -\nUDP6: inuse 0'),
      undefined,
    );
  });
});
