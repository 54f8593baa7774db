/**
 * Test helpers for labs on the real kernel: an example file made unique
 * (lab name, host-side interface names) so tests never collide with each
 * other or with other tests' fixtures, the CLI run as a child process,
 * commands inside a node, and the lab's footprint on the host — everything
 * that carries its marks — to prove `down` leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { readTableRules } from '../../kernel/nftables/table-rules.js';
import { ifaceMark, LABEL_LAB, nftTable } from '../../model/lab-marks.js';
import { poll } from '../../testing/eventually.js';
import { uniquePrefix } from '../../testing/names.js';
import { labDown } from '../build/down.js';
import { NsHandle } from '../build/netlink-ops.js';
import { argv0Of, dockerClient } from '../build/nodes.js';
import { readState, stateDir } from '../build/state.js';
import type { LabDecl } from '../file/schema.js';

export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

export interface TestLab {
  name: string;
  file: string;
  decl: LabDecl;
  dir: string;
  /** Host-side interface name in the test file for an example's name. */
  hostIf: Map<string, string>;
}

/**
 * Copies an example with a unique lab name and unique names for everything
 * it puts in the host's namespace (bridges without `in`, endpoints on the
 * host node and on host bridges). `edit` may change the declaration further.
 */
export function uniqueLab(example: string, edit?: (d: LabDecl) => void): TestLab {
  const decl = parse(readFileSync(join(EXAMPLES, example), 'utf8')) as LabDecl;
  const tag = uniquePrefix('w', 5);
  const name = `wst${tag.slice(1)}`;
  decl.name = name;
  const hostIf = new Map<string, string>();
  let n = 0;
  const rename = (old: string): string => {
    let v = hostIf.get(old);
    if (!v) {
      v = `${tag}${n++}`;
      hostIf.set(old, v);
    }
    return v;
  };
  const hostNodes = new Set<string>();
  for (const [k, v] of Object.entries(decl.nodes)) {
    if (v.kind === 'host' || (v.kind === 'bridge' && v.in === undefined)) hostNodes.add(k);
    if (v.kind === 'bridge' && v.in === undefined) v.name = rename(v.name ?? k);
  }
  for (const l of decl.links ?? []) {
    const eps = l.endpoints ?? (l.endpoint !== undefined ? [l.endpoint] : []);
    eps.forEach((e, i) => {
      if (typeof e === 'string') {
        const [node = '', ifname = ''] = e.split(':');
        if (hostNodes.has(node)) {
          const v = `${node}:${rename(ifname)}`;
          if (l.endpoints) l.endpoints[i] = v;
          else l.endpoint = v;
        }
      } else if (hostNodes.has(e.node)) e.name = rename(e.name);
    });
  }
  edit?.(decl);
  const dir = mkdtempSync(join(tmpdir(), 'wst-lab-'));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(decl));
  return { name, file, decl, dir, hostIf };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the wirescope CLI (async, so the test's event loop keeps going). */
export function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** PID whose network namespace is the node's (from the state file). */
export function nodePid(lab: string, node: string): number {
  const s = readState(lab)?.nodes[node];
  if (!s) throw new Error(`node ${node} of lab ${lab} is not in the state file`);
  return s.pid;
}

/** Runs a command inside a node's network namespace (host binaries). */
export function inNode(lab: string, node: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('nsenter', [`--net=/proc/${nodePid(lab, node)}/ns/net`, ...cmd], {
    encoding: 'utf8',
    timeout: 10000,
  });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** One echo: for asserting that traffic is blocked. */
export const ping = (lab: string, node: string, addr: string): boolean =>
  inNode(lab, node, ['busybox', 'ping', '-c', '1', '-W', '1', addr]).code === 0;

/** Up to three echoes: for asserting that traffic flows (a first ARP or a busy host may drop one). */
export const reaches = (lab: string, node: string, addr: string): boolean =>
  [0, 1, 2].some(() => ping(lab, node, addr));

/** Up to three echoes from a given source address of the node (IPv4 or IPv6). */
export const reachesFrom = (lab: string, node: string, src: string, addr: string): boolean =>
  [0, 1, 2].some(
    () =>
      inNode(lab, node, [
        'busybox',
        'ping',
        ...(addr.includes(':') ? ['-6'] : []),
        '-c',
        '1',
        '-W',
        '1',
        '-I',
        src,
        addr,
      ]).code === 0,
  );

/** Everything on the host that carries the lab's marks. Empty before up and after down. */
export async function footprint(lab: string): Promise<string[]> {
  const out: string[] = [];
  const h = NsHandle.open('host', '/proc/self/ns/net');
  try {
    for (const l of h.links()) if (l.alias === ifaceMark(lab)) out.push(`interface ${l.name}`);
  } finally {
    h.close();
  }
  if (readTableRules(undefined, 'ip', nftTable(lab))?.length) out.push(`nft table ip ${nftTable(lab)}`);
  for (const d of readdirSync('/proc')) {
    if (/^\d+$/.test(d) && argv0Of(Number(d))?.startsWith(`wirescope-lab:${lab}:`)) out.push(`process ${d}`);
  }
  if (existsSync(join(stateDir(), `${lab}.json`))) out.push('state file');
  for (const c of ['memory', 'cpu', 'pids', 'unified']) {
    try {
      for (const e of readdirSync(`/sys/fs/cgroup/${c}`))
        if (e.startsWith(`wirescope-lab-${lab}-`)) out.push(`cgroup ${c}/${e}`);
    } catch {
      /* controller not mounted */
    }
  }
  if (
    existsSync(join(stateDir(), `${lab}.rootfs`)) &&
    readdirSync(join(stateDir(), `${lab}.rootfs`)).length > 0
  )
    out.push('unpacked rootfs');
  try {
    const cs = await (await dockerClient()).listContainers({
      all: true,
      filters: { label: [`${LABEL_LAB}=${lab}`] },
    });
    for (const c of cs) out.push(`docker container ${c.Names[0] ?? c.Id}`);
  } catch {
    /* no Docker */
  }
  return out;
}

/** Teardown for `after`: down (ignoring errors) and remove the temp dir. */
export async function cleanup(t: TestLab | undefined): Promise<void> {
  if (!t) return;
  try {
    await labDown(t.name);
  } catch {
    /* best effort */
  }
  rmSync(t.dir, { recursive: true, force: true });
  rmSync(join(stateDir(), `${t.name}.rootfs`), { recursive: true, force: true });
}

/** Parses `verify --json` output. */
export function driftOf(r: CliResult): { op: string; object: string; message: string }[] {
  return (JSON.parse(r.stdout) as { drift: { op: string; object: string; message: string }[] }).drift;
}

/**
 * After a perturbation: `verify` reports exactly one difference matching
 * `expect` with exit 1, `up` repairs it and `verify` is clean again. The lab
 * is brought back up even when an assertion fails, for the next test.
 */
export async function reportedOnceAndRepaired(
  t: TestLab,
  expect: RegExp,
  assert: typeof import('node:assert/strict'),
): Promise<void> {
  let repaired = false;
  try {
    const r = await cli('verify', '--json', t.file);
    assert.equal(r.code, 1, `verify should report drift: ${r.stdout}${r.stderr}`);
    const d = driftOf(r);
    assert.equal(
      d.length,
      1,
      `exactly one difference expected, got:\n${d.map((x) => `${x.op} ${x.message}`).join('\n')}`,
    );
    assert.match(`${d[0]?.op} ${d[0]?.message}`, expect);
    const up = await cli('lab', 'up', t.file);
    assert.equal(up.code, 0, up.stderr);
    repaired = true;
    const again = await cli('verify', t.file);
    assert.equal(again.code, 0, `after up, verify should be clean: ${again.stdout}`);
  } finally {
    if (!repaired) await cli('lab', 'up', t.file);
  }
}

export interface Perturbations {
  /** A veth end inside a node to delete (its peer goes with it). */
  veth: { node: string; ifname: string; expect: RegExp };
  /** An address to replace by another in the same subnet. */
  address: { node: string; ifname: string; from: string; to: string; expect: RegExp };
  /** A declared route to delete ("default" or a CIDR). */
  route: { node: string; dst: string; expect: RegExp };
  /** A node one of whose partition rules gets deleted. */
  partition?: { node: string; expect: RegExp };
  /** A node whose process gets killed. */
  kill: { node: string; expect: RegExp };
}

/**
 * Registers the perturbation tests of an example: each change is reported
 * exactly once by `verify` with exit 1, and `up` repairs it (verify clean).
 */
export function perturbationTests(
  lab: () => TestLab,
  p: Perturbations,
  it: (name: string, fn: () => Promise<void>) => void,
  assert: typeof import('node:assert/strict'),
): void {
  const check = (expect: RegExp) => reportedOnceAndRepaired(lab(), expect, assert);
  it('reports a deleted veth once, and up repairs it', async () => {
    const t = lab();
    assert.equal(inNode(t.name, p.veth.node, ['ip', 'link', 'del', p.veth.ifname]).code, 0);
    await check(p.veth.expect);
  });
  it('reports a changed address once, and up repairs it', async () => {
    const t = lab();
    const a = p.address;
    assert.equal(inNode(t.name, a.node, ['ip', 'addr', 'del', a.from, 'dev', a.ifname]).code, 0);
    assert.equal(inNode(t.name, a.node, ['ip', 'addr', 'add', a.to, 'dev', a.ifname]).code, 0);
    await check(a.expect);
  });
  it('reports a deleted route once, and up repairs it', async () => {
    const t = lab();
    assert.equal(inNode(t.name, p.route.node, ['ip', 'route', 'del', p.route.dst]).code, 0);
    await check(p.route.expect);
  });
  if (p.partition) {
    const part = p.partition;
    it('reports a dropped partition rule once, and up repairs it', async () => {
      const t = lab();
      // Delete one rule (the first, by handle): a node may have one per blocked peer and family.
      const list = inNode(t.name, part.node, [
        'nft',
        '-a',
        'list',
        'chain',
        'inet',
        nftTable(t.name),
        'input',
      ]);
      const handle = /drop comment .*# handle (\d+)/.exec(list.out)?.[1];
      assert.ok(handle, list.out);
      const r = inNode(t.name, part.node, [
        'nft',
        'delete',
        'rule',
        'inet',
        nftTable(t.name),
        'input',
        'handle',
        handle,
      ]);
      assert.equal(r.code, 0, r.out);
      await check(part.expect);
    });
  }
  it("reports a killed node's process once, and up restarts it", async () => {
    const t = lab();
    process.kill(nodePid(t.name, p.kill.node), 'SIGKILL');
    await poll(
      () => existsSync(`/proc/${nodePid(t.name, p.kill.node)}/ns/net`),
      (alive) => !alive,
      {
        timeoutMs: 5000,
        intervalMs: 20,
      },
    );
    await check(p.kill.expect);
  });
}

/**
 * For an example's describe block: brings a uniquely named copy of the example
 * up with `wirescope lab up` before its tests and removes it after, even when
 * they fail. Returns an accessor for the lab (throws if setup failed).
 */
export function useExampleLab(
  example: string,
  opts: { edit?: (d: LabDecl) => void; setup?: () => void; teardown?: () => void } = {},
): () => TestLab {
  let t: TestLab | undefined;
  before(async () => {
    opts.setup?.();
    t = uniqueLab(example, opts.edit);
    assert.deepEqual(await footprint(t.name), [], 'a fresh lab name has no footprint');
    const r = await cli('lab', 'up', t.file);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await cleanup(t);
    opts.teardown?.();
  });
  return () => {
    if (!t) throw new Error('lab not set up');
    return t;
  };
}
