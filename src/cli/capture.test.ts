import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPcapng } from '../capture/read.js';
import { buildLan, countByInterface, type Lan, tshark } from '../capture/testing/fixtures.js';
import { runSleeper } from '../engines/testing/fixtures.js';
import { ensureDockerImage, sh } from '../engines/testing/image.js';
import { cli, nodePid } from '../lab/testing/fixtures.js';
import { uniquePrefix } from '../testing/names.js';

const bin = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

/**
 * Runs the CLI with stdout collected as bytes (pcapng), stderr as text;
 * `onStderr` sees the stderr text so far as it grows.
 */
function run(
  args: string[],
  wrap: string[] = [],
  onStderr?: (text: string) => void,
): Promise<{ stdout: Buffer; stderr: string; status: number | null }> {
  const [cmd, ...rest] = [...wrap, process.execPath, bin, ...args];
  return new Promise((resolve) => {
    const p = spawn(cmd ?? process.execPath, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      onStderr?.(err);
    });
    p.on('close', (status) => resolve({ stdout: Buffer.concat(out), stderr: err, status }));
  });
}

/** Pings from `ns` to `addr` every 0.1 s until the returned function is called. */
function pinging(ns: string, addr: string): () => void {
  const p = execFile('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-i', '0.1', addr]);
  return () => p.kill();
}

describe('wirescope capture', () => {
  let lan: Lan;
  let a: string;
  let b: string;
  let inoA = 0;
  let inoB = 0;
  before(() => {
    lan = buildLan();
    a = lan.add('a', 2);
    b = lan.add('b', 3);
    inoA = statSync(`/run/netns/${a}`).ino;
    inoB = statSync(`/run/netns/${b}`).ino;
  });
  after(() => lan.destroy());

  it('captures two namespaces named as discover --netns names them into one pcapng on stdout', async () => {
    // The sockets open one after the other: the ping starts once the CLI says both are open,
    // so each echo is seen on both sides (otherwise a slow start on a busy host leaves b's share
    // of the 12 packets to a).
    let stop = (): void => {};
    let stopStarted = false;
    try {
      const r = await run(
        ['capture', a, String(inoB), '-i', 'eth0', '-c', '12', '-f', 'icmp', '--no-engines'],
        [],
        (text) => {
          if (/capturing on 2 interfaces\n/.test(text) && !stopStarted) {
            stopStarted = true;
            stop = pinging(a, `${lan.net}.3`);
          }
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^wirescope: capturing on 2 interfaces\n/);
      assert.match(r.stderr, /12 packets captured on 2 interfaces/);
      const f = readPcapng(r.stdout);
      // Each namespace is named as discover names it: by its tenant (here a's ping) or its bind mount.
      const [ifA = '', ifB = ''] = f.interfaces.map((i) => i.name ?? '');
      assert.equal(f.interfaces.length, 2);
      assert.match(ifA, new RegExp(`^${inoA}/(busybox\\(\\d+\\)|${a}):eth0$`));
      assert.equal(ifB, `${inoB}/${b}:eth0`);
      assert.equal(f.packets.length, 12);
      const rows = tshark(r.stdout, ['icmp.type']);
      assert.equal(rows.length, 12);
      assert.ok(
        rows.every((row) => row.fields[0] === '8' || row.fields[0] === '0'),
        'only ICMP echo',
      );
      // Both rings see every echo and its reply; one poll round may hand over one ring's
      // packets before the other's, so the split of 12 is near, not exactly, 6 and 6.
      const counts = countByInterface(rows);
      assert.ok((counts[ifA] ?? 0) >= 3 && (counts[ifB] ?? 0) >= 3, JSON.stringify(counts));
    } finally {
      stop();
    }
  });

  it('writes a file for --seconds, chaste, and ends with interface statistics', async () => {
    const file = join(tmpdir(), `wirescope-capture-${process.pid}.pcapng`);
    const stop = pinging(b, `${lan.net}.2`);
    try {
      const r = await run(['capture', a, '--seconds', '1', '--chaste', '-w', file, '--no-engines']);
      assert.equal(r.status, 0, r.stderr);
      const f = readPcapng(readFileSync(file));
      assert.deepEqual(
        f.interfaces.map((i) => i.name),
        [`${inoA}/${a}:lo`, `${inoA}/${a}:eth0`],
      );
      assert.match(f.sections[0]?.comment ?? '', /promiscuous: false/);
      assert.ok(
        f.packets.filter((p) => p.ifid === f.interfaces.findIndex((i) => i.name?.endsWith(':eth0'))).length >=
          5,
      );
      assert.equal(f.stats.length, 2);
      assert.ok(tshark(readFileSync(file), ['icmp.type'], 'icmp').length >= 5);
    } finally {
      stop();
      rmSync(file, { force: true });
    }
  });

  it('says in one line what is wrong: an unknown target, interface or filter', async () => {
    for (const [args, re] of [
      [[`${lan.prefix}nosuch`], /no network namespace matches/],
      [[a, '-i', 'nosuch0'], /no interface "nosuch0" in the targets/],
      [[a, '-f', 'port port'], /capture filter "port port"/],
      [[a, '-c', '1.5'], /--count: "1.5" is not a whole number/],
    ] as const) {
      const r = await run(['capture', ...args, '-w', '/dev/null', '--no-engines']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('names CAP_NET_RAW when the process lacks it', async () => {
    // setpriv (util-linux) drops it from the bounding set: root's exec then leaves it out.
    const r = await run(
      ['capture', a, '-c', '1', '-w', '/dev/null', '--no-engines'],
      ['setpriv', '--bounding-set', '-net_raw', '--'],
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^wirescope: capturing packets needs CAP_NET_RAW/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('captures a Docker container named by its name', async () => {
    const name = `${lan.prefix}-box`;
    runSleeper('docker', name, ensureDockerImage(), '--network', 'none');
    try {
      const pid = Number(sh('docker', ['inspect', '-f', '{{.State.Pid}}', name]).trim());
      const ino = statSync(`/proc/${pid}/ns/net`).ino;
      // Inside the container, on its loopback: no bridge, no firewall between.
      sh('docker', ['exec', '-d', name, 'ping', '-i', '0.2', '127.0.0.1']);
      const r = await run(['capture', name, '-c', '6', '-f', 'icmp']);
      assert.equal(r.status, 0, r.stderr);
      const f = readPcapng(r.stdout);
      assert.deepEqual(
        f.interfaces.map((i) => i.name),
        [`${ino}/${name}:lo`],
      );
      assert.match(f.sections[0]?.comment ?? '', new RegExp(`name: ${name}\\s+type: docker`));
      const rows = tshark(r.stdout, ['icmp.type', 'icmp.seq']);
      assert.equal(rows.length, 6);
      assert.deepEqual(countByInterface(rows), { [`${ino}/${name}:lo`]: 6 });
      // Loopback hands a packet socket each packet twice (out, then in): the outgoing copy is skipped.
      assert.equal(new Set(rows.map((x) => x.fields.join('/'))).size, 6, JSON.stringify(rows));
    } finally {
      sh('docker', ['rm', '-f', name]);
    }
  });

  it('captures every member of a lab named as one target', async () => {
    const name = uniquePrefix('wst', 5);
    const dir = mkdtempSync(join(tmpdir(), 'wst-capture-lab-'));
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'nodes:',
        '  a: { kind: netns }',
        '  b: { kind: netns }',
        'links:',
        '  - endpoints:',
        '      - { node: a, name: eth0, ipv4: 10.9.0.1/24 }',
        '      - { node: b, name: eth0, ipv4: 10.9.0.2/24 }',
        '',
      ].join('\n'),
    );
    const up = await cli('lab', 'up', file);
    assert.equal(up.code, 0, up.stderr);
    const pinger = spawn('nsenter', [
      `--net=/proc/${nodePid(name, 'a')}/ns/net`,
      'busybox',
      'ping',
      '-i',
      '0.1',
      '10.9.0.2',
    ]);
    try {
      const r = await run(['capture', name, '-i', 'eth0', '-c', '8', '-f', 'icmp', '--no-engines']);
      assert.equal(r.status, 0, r.stderr);
      const f = readPcapng(r.stdout);
      // Both nodes, each named after its node as discover names lab nodes (a also after the ping in it).
      const names = f.interfaces.map((i) => (i.name ?? '').replace(/^\d+\//, '')).sort();
      assert.equal(names.length, 2);
      assert.match(names[0] ?? '', /^a(, busybox\(\d+\))?:eth0$/);
      assert.equal(names[1], 'b:eth0');
      assert.match(f.sections[0]?.comment ?? '', /type: lab/);
      const counts = countByInterface(tshark(r.stdout, ['icmp.type']));
      assert.equal(
        Object.values(counts).reduce((x, y) => x + y, 0),
        8,
      );
      assert.equal(Object.keys(counts).length, 2, JSON.stringify(counts));
    } finally {
      pinger.kill();
      await cli('lab', 'down', file);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
