import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseCgroup,
  parseCmdline,
  parseMountinfo,
  parseMountinfoOfType,
  parseNsfsMounts,
  parseNsLink,
  parseStat,
  parseStatus,
} from './parse.js';

describe('procfs parsers', () => {
  it('reads pid, comm, state, ppid and starttime from stat even when comm has spaces and parentheses', () => {
    const stat =
      '4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 987654 2314240 200 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
    assert.deepEqual(parseStat(stat), {
      pid: 4242,
      comm: 'my (odd) name',
      state: 'S',
      ppid: 17,
      starttime: 987654,
    });
  });

  it('rejects a stat line it cannot make sense of', () => {
    assert.equal(parseStat('garbage'), undefined);
    assert.equal(parseStat('1 (x) S'), undefined);
  });

  it('reads real UID, CapBnd and CapEff as 0x hex, NSpid and Threads from status', () => {
    const status = [
      'Name:\tsleep',
      'Threads:\t3',
      'Uid:\t1000\t1001\t1002\t1003',
      'NSpid:\t5123\t7\t1',
      'CapEff:\t0000000000000000',
      'CapBnd:\t000001ffffffffff',
      '',
    ].join('\n');
    assert.deepEqual(parseStatus(status), {
      uid: 1000,
      capBnd: '0x000001ffffffffff',
      capEff: '0x0000000000000000',
      nspid: [5123, 7, 1],
      threads: 3,
    });
  });

  it('splits cmdline at NULs, with or without the trailing one, and keeps empty arguments', () => {
    assert.deepEqual(parseCmdline('sleep\x00100\x00'), ['sleep', '100']);
    assert.deepEqual(parseCmdline('sh\x00-c\x00\x00x'), ['sh', '-c', '', 'x']);
    assert.deepEqual(parseCmdline(''), []);
  });

  it('reads cgroup v1 and v2 lines, keeping colons inside the path', () => {
    assert.deepEqual(parseCgroup('4:memory:/a/b\n1:cpu,cpuacct:/\n0::/sys:tem/x.scope\n'), [
      { hierarchy: 4, controllers: ['memory'], path: '/a/b' },
      { hierarchy: 1, controllers: ['cpu', 'cpuacct'], path: '/' },
      { hierarchy: 0, controllers: [], path: '/sys:tem/x.scope' },
    ]);
  });

  it('parses namespace link targets of all eight types and nothing else', () => {
    assert.deepEqual(parseNsLink('net:[4026531833]'), { type: 'net', ino: 4026531833 });
    assert.deepEqual(parseNsLink('time:[4026531834]'), { type: 'time', ino: 4026531834 });
    assert.equal(parseNsLink('socket:[12345]'), undefined);
    assert.equal(parseNsLink('pipe:[12345]'), undefined);
    assert.equal(parseNsLink('/run/netns/x'), undefined);
    assert.equal(parseNsLink('net:[abc]'), undefined);
  });

  it('finds nsfs mounts in mountinfo, with optional fields and escaped mount points', () => {
    const text = [
      '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '600 27 0:4 net:[4026532500] /run/netns/with\\040space rw shared:5 master:2 - nsfs nsfs rw',
      '601 27 0:4 uts:[4026532501] /tmp/u rw - nsfs nsfs rw',
      '',
    ].join('\n');
    assert.deepEqual(
      parseMountinfo(text, (t) => t === 'nsfs').map((m) => [m.root, m.mountPoint, m.dev]),
      [
        ['net:[4026532500]', '/run/netns/with space', '0:4'],
        ['uts:[4026532501]', '/tmp/u', '0:4'],
      ],
    );
    assert.equal(parseMountinfo(text).length, 3);
    assert.deepEqual(
      parseMountinfoOfType(text, 'nsfs'),
      parseMountinfo(text, (t) => t === 'nsfs'),
    );
    assert.deepEqual(
      parseMountinfoOfType(`${text}700 27 0:4 ipc:[1] /last rw - nsfs nsfs rw`, 'nsfs').length,
      3,
    );
  });

  it('names the namespace and mount point of every nsfs mount, and nothing else', () => {
    const text = [
      '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '600 27 0:4 net:[4026532500] /run/netns/with\\040space rw shared:5 master:2 - nsfs nsfs rw',
      '601 27 0:4 uts:[4026532501] /tmp/u rw - nsfs nsfs rw',
      '602 27 0:4 / /odd rw - nsfs nsfs rw',
      '603 27 0:50 net:[1] /not-nsfs rw - tmpfs tmpfs rw',
    ].join('\n');
    assert.deepEqual(parseNsfsMounts(text), [
      { type: 'net', ino: 4026532500, mountPoint: '/run/netns/with space' },
      { type: 'uts', ino: 4026532501, mountPoint: '/tmp/u' },
    ]);
  });
});
