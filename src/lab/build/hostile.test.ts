/**
 * Hostile lab files on the real host. `lab up` runs as root on files that may
 * come from others: a name must never leave its directory, a rootfs must never
 * write through a link onto the host, a NAT value must never become nft
 * commands, one lab's `down` must never remove another's table, and a process
 * that merely names itself like a lab node must never pass for one.
 * Every case plants a canary (a directory, a file, an nft table) and checks
 * that it survives.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { buildRootfsTar } from '../../engines/testing/image.js';
import { readTableRules } from '../../kernel/nftables/table-rules.js';
import { nftTable } from '../../model/lab-marks.js';
import { poll } from '../../testing/eventually.js';
import { ip } from '../../testing/ip.js';
import { uniquePrefix } from '../../testing/names.js';
import { type CliResult, cli, footprint } from '../testing/fixtures.js';
import { type TarEntry, tarArchive } from '../testing/tar.js';
import { readState, stateDir } from './state.js';

const tmp = mkdtempSync(join(tmpdir(), 'wst-hostile-'));
let rootfs: { tar: string; dir: string } | undefined;
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (rootfs) rmSync(rootfs.dir, { recursive: true, force: true });
});
before(() => {
  rootfs = buildRootfsTar();
});
const busyboxRoot = (): string => join((rootfs as { dir: string }).dir, 'root');

/** A lab file in the test's temp dir; returns its path. */
function labFile(decl: unknown): string {
  const f = join(tmp, `lab-${uniquePrefix('', 5)}.yaml`);
  writeFileSync(f, stringify(decl));
  return f;
}

const labName = (): string => uniquePrefix('wsh', 5);

/** Refused with exit 2 and exactly one error line on stderr (progress lines aside). */
function refused(r: CliResult, what: string): void {
  assert.equal(r.code, 2, `${what}: expected refusal, got exit ${r.code}\n${r.stdout}${r.stderr}`);
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => !l.startsWith('wirescope lab: '));
  assert.equal(lines.length, 1, `${what}: one line expected, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', /^wirescope: \S/, what);
}

async function down(name: string): Promise<void> {
  await cli('lab', 'down', name);
  rmSync(join(stateDir(), `${name}.rootfs`), { recursive: true, force: true });
}

/** A directory with one file in it: whatever happens, both must survive unchanged. */
function canaryDir(): { dir: string; check: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wst-canary-'));
  writeFileSync(join(dir, 'keep'), 'canary\n');
  return {
    dir,
    check: () => {
      assert.equal(readFileSync(join(dir, 'keep'), 'utf8'), 'canary\n', `canary ${dir} survives`);
      assert.deepEqual(readdirSync(dir), ['keep'], `nothing new in canary ${dir}`);
    },
  };
}

/** Every entry of a directory tree (without following links). */
function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

/** The busybox rootfs as tar entries (for archives with extra hostile entries). */
function rootfsEntries(): TarEntry[] {
  const root = busyboxRoot();
  return walk(root).map((p): TarEntry => {
    const name = relative(root, p);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return { name, type: 'symlink', link: readlinkSync(p) };
    if (st.isDirectory()) return { name, type: 'dir' };
    return { name, type: 'file', data: readFileSync(p), mode: st.mode & 0o7777 };
  });
}

function nftTableExists(family: string, table: string): boolean {
  return spawnSync('nft', ['list', 'table', family, table], { stdio: 'ignore' }).status === 0;
}

describe('lab: hostile lab files are refused before anything is touched', () => {
  it('refuses node names that are paths, "..", or carry a newline, and over-long interface names', async () => {
    const canary = canaryDir();
    const name = labName();
    // From the directory a container's tarball is unpacked into, up to the canary.
    const climb = relative(join(stateDir(), `${name}.rootfs`), canary.dir);
    const tar = (rootfs as { tar: string }).tar;
    const cases: [string, unknown][] = [
      ['a container named like a path to the canary', { [climb]: { kind: 'container', rootfs: tar } }],
      ['a/b', { 'a/b': { kind: 'netns' } }],
      ['..', { '..': { kind: 'netns' } }],
      ['a name with a newline', { 'a\nb': { kind: 'netns' } }],
      ['a container named ../../x', { '../../x': { kind: 'container', rootfs: tar } }],
    ];
    try {
      for (const [what, nodes] of cases) {
        const file = labFile({ name, nodes });
        refused(await cli('lab', 'up', '--dry-run', file), `${what} (dry run)`);
        refused(await cli('lab', 'up', file), what);
        canary.check();
      }
      // Interface names: IFNAMSIZ is 16 with the NUL; a NAT "out" is an interface name too.
      const long = labFile({
        name,
        nodes: { a: { kind: 'netns' } },
        nat: { masquerade: [{ source: '10.99.0.0/24', out: 'sixteen-bytes-xy' }] },
      });
      refused(await cli('lab', 'up', '--dry-run', long), 'over-long NAT out interface (dry run)');
      refused(await cli('lab', 'up', long), 'over-long NAT out interface');
      const longBridge = labFile({ name, nodes: { b: { kind: 'bridge', name: 'sixteen-bytes-xy' } } });
      refused(await cli('lab', 'up', longBridge), 'over-long bridge name');
      canary.check();
      assert.deepEqual(await footprint(name), [], 'nothing of the lab exists');
    } finally {
      await down(name);
      rmSync(canary.dir, { recursive: true, force: true });
    }
  });

  it('never writes through etc/hosts, etc/resolv.conf, etc/hostname or etc links onto the host', async () => {
    const canary = mkdtempSync(join(tmpdir(), 'wst-canary-'));
    const files = ['hosts', 'resolv.conf', 'hostname'];
    for (const f of files) writeFileSync(join(canary, f), `canary ${f}\n`);
    const check = () => {
      for (const f of files)
        assert.equal(readFileSync(join(canary, f), 'utf8'), `canary ${f}\n`, `host file ${f} unchanged`);
      assert.deepEqual(readdirSync(canary).sort(), [...files].sort(), 'nothing new in the canary dir');
    };
    const variant = (kind: 'files' | 'etc'): string => {
      const root = join(tmp, `root-${kind}-${uniquePrefix('', 5)}`);
      spawnSync('cp', ['-a', busyboxRoot(), root]);
      if (kind === 'files') {
        symlinkSync(join(canary, 'hosts'), join(root, 'etc/hosts'));
        // Relative, climbing far above the rootfs.
        symlinkSync(`${'../'.repeat(20)}${canary.slice(1)}/resolv.conf`, join(root, 'etc/resolv.conf'));
        symlinkSync(join(canary, 'hostname'), join(root, 'etc/hostname'));
      } else {
        rmSync(join(root, 'etc'), { recursive: true });
        symlinkSync(canary, join(root, 'etc'));
      }
      return root;
    };
    const tarOf = (root: string): string => {
      const t = `${root}.tar`;
      assert.equal(spawnSync('tar', ['-C', root, '-cf', t, '.']).status, 0);
      return t;
    };
    const dirFiles = variant('files');
    const dirEtc = variant('etc');
    const rootfsList: [string, string][] = [
      ['directory, linked files', dirFiles],
      ['directory, linked etc', dirEtc],
      ['tarball, linked files', tarOf(dirFiles)],
      ['tarball, linked etc', tarOf(dirEtc)],
    ];
    try {
      for (const [what, path] of rootfsList) {
        const name = labName();
        try {
          const r = await cli(
            'lab',
            'up',
            labFile({
              name,
              nodes: {
                box: {
                  kind: 'container',
                  rootfs: path,
                  hostname: 'box',
                  dns: { nameservers: ['10.99.0.1'] },
                  hosts: { gw: '10.99.0.1' },
                },
              },
            }),
          );
          // Up may succeed (the links are replaced inside the rootfs) or refuse in one line.
          if (r.code !== 0) refused(r, what);
          check();
        } finally {
          await down(name);
        }
        check();
      }
    } finally {
      rmSync(canary, { recursive: true, force: true });
    }
  });

  it('unpacks a rootfs tarball only inside its directory, and creates no device node', async () => {
    const canary = canaryDir();
    const victim = join(canary.dir, 'keep');
    const outside = join(stateDir(), `escape-${uniquePrefix('', 5)}`);
    const base = rootfsEntries();
    const archives: [string, TarEntry[]][] = [
      ['a ".." name', [...base, { name: `../${outside.split('/').pop()}`, type: 'file', data: 'x' }]],
      [
        'a ".." name climbing to the canary',
        [...base, { name: `${'../'.repeat(12)}${canary.dir.slice(1)}/dotdot`, type: 'file', data: 'x' }],
      ],
      ['an absolute name', [...base, { name: `${canary.dir}/abs`, type: 'file', data: 'x' }]],
      [
        'a symlink out, then a file through it',
        [
          ...base,
          { name: 'lnk', type: 'symlink', link: canary.dir },
          { name: 'lnk/through', type: 'file', data: 'x' },
        ],
      ],
      [
        'a relative symlink out, then a file through it',
        [
          ...base,
          { name: 'rel', type: 'symlink', link: `${'../'.repeat(12)}${canary.dir.slice(1)}` },
          { name: 'rel/through2', type: 'file', data: 'x' },
        ],
      ],
      [
        'a hard link to a host file, then a write to it',
        [
          ...base,
          { name: 'hl', type: 'hardlink', link: victim },
          { name: 'hl2', type: 'hardlink', link: `${'../'.repeat(12)}${victim.slice(1)}` },
        ],
      ],
      [
        'device nodes and a FIFO',
        [
          ...base,
          { name: 'dev/evil-null', type: 'char', major: 1, minor: 3, mode: 0o666 },
          { name: 'dev/evil-disk', type: 'block', major: 7, minor: 0, mode: 0o660 },
          { name: 'dev/evil-fifo', type: 'fifo' },
        ],
      ],
    ];
    try {
      for (const [what, entries] of archives) {
        const name = labName();
        const tar = join(tmp, `hostile-${uniquePrefix('', 5)}.tar`);
        writeFileSync(tar, tarArchive(entries));
        try {
          const r = await cli(
            'lab',
            'up',
            labFile({ name, nodes: { box: { kind: 'container', rootfs: tar } } }),
          );
          if (r.code !== 0) refused(r, what);
          else {
            const dir = readState(name)?.nodes.box?.unpacked;
            assert.ok(dir, `${what}: the unpacked rootfs is recorded`);
            const special = walk(dir).filter((p) => {
              const st = lstatSync(p);
              return st.isCharacterDevice() || st.isBlockDevice();
            });
            assert.deepEqual(special, [], `${what}: no device node in the rootfs`);
          }
          canary.check();
          assert.equal(statSync(victim).nlink, 1, `${what}: no hard link to the host file`);
          assert.equal(existsSync(outside), false, `${what}: nothing beside the unpacked rootfs`);
        } finally {
          await down(name);
          rmSync(outside, { force: true });
        }
      }
    } finally {
      rmSync(canary.dir, { recursive: true, force: true });
    }
  });

  it('refuses NAT values that would end the lab table and run nft commands', async () => {
    const name = labName();
    const canary = uniquePrefix('wstcan', 5);
    const injected = uniquePrefix('wstinj', 5);
    assert.equal(spawnSync('nft', ['add', 'table', 'ip', canary]).status, 0);
    try {
      // On a builder that quotes with JSON.stringify this closes the lab's table, deletes the
      // canary and opens a table of its own for the rest of the script (the "#" comments out
      // the closing quote). A real run is only ever tried with this harmless payload.
      const out = `x" masquerade; }; }; delete table ip ${canary}; table ip ${injected} { chain c { #`;
      const file = labFile({
        name,
        nodes: { a: { kind: 'netns' } },
        nat: { masquerade: [{ source: '10.98.0.0/24', out }] },
      });
      refused(await cli('lab', 'up', '--dry-run', file), 'quote in NAT out (dry run)');
      refused(await cli('lab', 'up', file), 'quote in NAT out');
      assert.ok(nftTableExists('ip', canary), 'the canary nft table survives');
      assert.equal(nftTableExists('ip', injected), false, 'no table of the payload');
      // "flush ruleset" is only offered to a dry run: on a vulnerable builder a real run would
      // flush this shared host's ruleset. Validation is the same code path for both.
      const flush = labFile({
        name,
        nodes: { a: { kind: 'netns' } },
        nat: { masquerade: [{ source: '10.98.0.0/24', out: 'eth0"; flush ruleset; "' }] },
      });
      refused(await cli('lab', 'up', '--dry-run', flush), 'flush ruleset in NAT out (dry run)');
      assert.ok(nftTableExists('ip', canary), 'the canary nft table survives');
      assert.deepEqual(await footprint(name), []);
    } finally {
      await down(name);
      spawnSync('nft', ['delete', 'table', 'ip', canary]);
      spawnSync('nft', ['delete', 'table', 'ip', injected]);
    }
  });

  it('gives labs named a.b, a-b and a_b NAT tables of their own: down of one keeps the others', async () => {
    const stem = uniquePrefix('wsh', 5);
    const names = [`${stem}.b`, `${stem}-b`, `${stem}_b`];
    try {
      for (const [i, n] of names.entries()) {
        const r = await cli(
          'lab',
          'up',
          labFile({
            name: n,
            nodes: { a: { kind: 'netns' } },
            nat: { masquerade: [{ source: `10.97.${i}.0/24` }] },
          }),
        );
        assert.equal(r.code, 0, r.stderr);
      }
      const tables = names.map(nftTable);
      assert.equal(new Set(tables).size, names.length, `distinct tables: ${tables.join(', ')}`);
      assert.equal((await cli('lab', 'down', names[0] as string)).code, 0);
      assert.deepEqual(await footprint(names[0] as string), []);
      for (const n of names.slice(1)) {
        const rules = readTableRules(undefined, 'ip', nftTable(n)) ?? [];
        assert.equal(rules.length, 1, `lab ${n} keeps its NAT rule`);
        assert.match(
          rules[0]?.comment ?? '',
          new RegExp(`^wirescope-lab:${n.replace('.', '\\.')}:masquerade`),
        );
      }
    } finally {
      for (const n of names) await down(n);
    }
  });

  it('does not take a process named like a lab node for the node: verify and --reach trust the state file', async () => {
    const name = labName();
    const file = labFile({
      name,
      nodes: { a: { kind: 'netns' }, b: { kind: 'netns' } },
      links: [
        {
          endpoints: [
            { node: 'a', name: 'eth0', ipv4: '10.96.0.1/24' },
            { node: 'b', name: 'eth0', ipv4: '10.96.0.2/24' },
          ],
        },
      ],
    });
    const forged: number[] = [];
    const tag = uniquePrefix('', 5);
    try {
      assert.equal((await cli('lab', 'up', file)).code, 0);
      assert.equal((await cli('verify', file)).code, 0, 'clean while the real nodes run');
      // The real nodes go away.
      const pids = ['a', 'b'].map((n) => readState(name)?.nodes[n]?.pid as number);
      for (const p of pids) process.kill(p, 'SIGKILL');
      await poll(
        () => pids.some((p) => existsSync(`/proc/${p}`)),
        (alive) => !alive,
        {
          timeoutMs: 10_000,
          intervalMs: 20,
        },
      );
      // Look-alikes: each in a namespace of its own, named with the node's mark, wired like the lab.
      for (const n of ['a', 'b']) {
        const c = spawn(
          'unshare',
          ['--net', '--', 'bash', '-c', 'exec -a "$0" sleep 300', `wirescope-lab:${name}:${n}`],
          { detached: true, stdio: 'ignore' },
        );
        c.unref();
        forged.push(c.pid as number);
      }
      for (const p of forged) {
        await poll(() => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('wirescope-lab:'), Boolean, {
          timeoutMs: 10_000,
          intervalMs: 20,
        });
      }
      const [fa, fb] = forged as [number, number];
      const inNs = (pid: number, ...args: string[]) => {
        const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, ...args], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      ip('link', 'add', `wsf${tag}a`, 'type', 'veth', 'peer', 'name', `wsf${tag}b`);
      ip('link', 'set', `wsf${tag}a`, 'netns', String(fa));
      ip('link', 'set', `wsf${tag}b`, 'netns', String(fb));
      for (const [pid, dev, addr] of [
        [fa, `wsf${tag}a`, '10.96.0.1/24'],
        [fb, `wsf${tag}b`, '10.96.0.2/24'],
      ] as const) {
        inNs(pid, 'ip', 'link', 'set', dev, 'name', 'eth0');
        inNs(pid, 'ip', 'addr', 'add', addr, 'dev', 'eth0');
        inNs(pid, 'ip', 'link', 'set', 'eth0', 'up');
        inNs(pid, 'ip', 'link', 'set', 'lo', 'up');
      }
      // Counts the echo requests sent from the look-alike of a: --reach must never send one.
      inNs(fa, 'nft', 'add', 'table', 'ip', 'wsfc');
      inNs(fa, 'nft', 'add', 'chain', 'ip', 'wsfc', 'o', '{ type filter hook output priority 0 ; }');
      inNs(fa, 'nft', 'add', 'rule', 'ip', 'wsfc', 'o', 'icmp', 'type', 'echo-request', 'counter');

      const r = await cli('verify', '--reach', '--json', file);
      assert.equal(r.code, 1, `verify must not be clean: ${r.stdout}${r.stderr}`);
      const drift = (JSON.parse(r.stdout) as { drift: { op: string; message: string }[] }).drift.map(
        (x) => `${x.op} ${x.message}`,
      );
      assert.ok(drift.includes('- node a (netns): declared, not running'), drift.join('\n'));
      assert.ok(drift.includes('- node b (netns): declared, not running'), drift.join('\n'));
      assert.match(inNs(fa, 'nft', 'list', 'chain', 'ip', 'wsfc', 'o'), /counter packets 0 /);
    } finally {
      for (const p of forged) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await down(name);
    }
  });
});
