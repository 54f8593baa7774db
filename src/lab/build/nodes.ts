/**
 * Lab nodes that hold a network namespace:
 *  - netns: mininet-style, a namespace held by a sleeping process whose argv[0]
 *    is the ownership mark `wirescope-lab:<lab>:<node>`;
 *  - container: containr-style, own mount, UTS, PID, IPC and network
 *    namespaces (unshare(1)), a rootfs directory or tarball entered with
 *    chroot or pivot_root, a hostname, /etc/resolv.conf and /etc/hosts inside,
 *    cgroup limits (v2 when its controllers are there, else v1), a command.
 *    The rootfs is someone else's layout: tarballs are unpacked by untar.ts
 *    and its /etc files written by confined.ts, both resolving every path
 *    inside the rootfs, so no link in it leads a write onto the host;
 *  - docker: a container created through the Docker Engine API (dockerode)
 *    with network mode "none", labelled with the lab and node.
 * Spawning processes is fine here: this is the builder, not discovery.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { LABEL_LAB, LABEL_NODE, processMark } from '../../model/lab-marks.js';
import { readCmdline } from '../../procfs/read.js';
import { childPath } from '../file/names.js';
import type { NodeDecl } from '../file/schema.js';
import { buildBusyboxRootfs } from './rootfs/busybox.js';
import { RootDir } from './rootfs/confined.js';
import { untar } from './rootfs/untar.js';

export const DOCKER_SOCKET = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice(7)
  : '/var/run/docker.sock';

export const dockerName = (lab: string, node: string): string => `wirescope-lab-${lab}-${node}`;

export interface NodeState {
  kind: 'netns' | 'container' | 'docker';
  pid: number;
  starttime: number;
  /** Inode of the node's network namespace. */
  netns: number;
  containerId?: string;
  /** cgroup directories created for the node (removed on down). */
  cgroups?: string[];
  /** Directory the rootfs tarball was unpacked into (removed on down). */
  unpacked?: string;
}

/**
 * Field 22 of /proc/PID/stat (after the parenthesised comm, which may contain
 * spaces); undefined once the process has exited — a zombie (state Z or X)
 * counts as gone: it released its namespaces in exit_task_namespaces(), and
 * whoever adopted it may take a while to reap it.
 */
export function starttimeOf(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function argv0Of(pid: number): string | undefined {
  try {
    // Capped: a PID reused by another process may carry a command line of megabytes.
    return readCmdline(`/proc/${pid}/cmdline`).args[0];
  } catch {
    return undefined;
  }
}

export function netnsInode(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}

/** Whether the process recorded for a node still runs (same pid, same start time, same netns). */
export function nodeAlive(s: NodeState): boolean {
  return starttimeOf(s.pid) === s.starttime && netnsInode(s.pid) === s.netns;
}

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  let delay = 2;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`${what}: timed out after ${ms} ms`);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

function spawnDetached(cmd: string, args: string[]): number {
  const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  return child.pid;
}

/** mininet-style: `unshare --net` then a sleep whose argv[0] is the mark. */
export async function startNetnsNode(lab: string, node: string): Promise<NodeState> {
  const started = await startNetnsNodes(lab, [node]);
  const s = started.get(node);
  if (!s) throw new Error(`node ${node}: holder did not start`);
  return s;
}

/**
 * Many mininet-style nodes at once. One small bash forks every holder:
 * forking the (large) Node process itself costs ~4 ms of page-table copying
 * per child, which made 200 nodes take most of a second on spawn alone.
 * On failure every holder this call started is killed before it throws.
 */
export async function startNetnsNodes(
  lab: string,
  nodes: readonly string[],
): Promise<Map<string, NodeState>> {
  const out = new Map<string, NodeState>();
  if (nodes.length === 0) return out;
  // One line per node: "<index> <pid>". The holders get no stdio, so the batch's pipe closes when bash exits.
  const script = nodes
    .map(
      (n, i) =>
        `unshare --net -- bash -c 'exec -a "$0" sleep infinity' ${shq(processMark(lab, n))} </dev/null >/dev/null 2>&1 & echo "${i} $!"`,
    )
    .join('\n');
  const pids = new Map<string, number>();
  const text = await new Promise<string>((resolve, reject) => {
    const c = spawn('bash', ['-s'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let so = '';
    let se = '';
    c.stdout.on('data', (d: Buffer) => {
      so += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      se += d.toString();
    });
    c.on('error', (e) => reject(new Error(`namespace holders: ${e.message}`)));
    c.on('close', (code) =>
      code === 0 ? resolve(so) : reject(new Error(`namespace holders: ${se.trim() || `exit ${code}`}`)),
    );
    c.stdin.end(`${script}\n`);
  });
  for (const line of text.split('\n')) {
    const [i, pid] = line.split(' ').map(Number);
    const n = i === undefined ? undefined : nodes[i];
    if (n !== undefined && pid) pids.set(n, pid);
  }
  try {
    for (const n of nodes) {
      const pid = pids.get(n);
      if (!pid) throw new Error(`node ${n}: holder did not start`);
      const mark = processMark(lab, n);
      await waitFor(() => argv0Of(pid) === mark, 5000, `node ${n}: namespace holder`);
      const starttime = starttimeOf(pid);
      const netns = netnsInode(pid);
      if (starttime === undefined || netns === undefined)
        throw new Error(`node ${n}: holder process ${pid} exited`);
      out.set(n, { kind: 'netns', pid, starttime, netns });
    }
    return out;
  } catch (e) {
    for (const pid of pids.values()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    throw e;
  }
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function parseBytes(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new Error(`"${v}" is not a memory size`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

/** cgroup v2 (the unified mount with the controllers we need) or v1 per-controller directories. */
function makeCgroups(lab: string, node: string, limits: NonNullable<NodeDecl['limits']>): string[] {
  const name = `wirescope-lab-${lab}-${node}`;
  const want = [
    limits.memory !== undefined && 'memory',
    limits.cpu !== undefined && 'cpu',
    limits.pids !== undefined && 'pids',
  ].filter((x): x is string => typeof x === 'string');
  if (want.length === 0) return [];
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const ctl = join(root, 'cgroup.controllers');
    if (!existsSync(ctl)) continue;
    const have = readFileSync(ctl, 'utf8').trim().split(/\s+/);
    if (!want.every((c) => have.includes(c))) continue;
    const subtree = readFileSync(join(root, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    for (const c of want)
      if (!subtree.includes(c)) writeFileSync(join(root, 'cgroup.subtree_control'), `+${c}`);
    const dir = childPath(root, name);
    mkdirSync(dir, { recursive: true });
    if (limits.memory !== undefined)
      writeFileSync(join(dir, 'memory.max'), String(parseBytes(limits.memory)));
    if (limits.cpu !== undefined)
      writeFileSync(join(dir, 'cpu.max'), `${Math.round(limits.cpu * 100000)} 100000`);
    if (limits.pids !== undefined) writeFileSync(join(dir, 'pids.max'), String(limits.pids));
    return [dir];
  }
  const dirs: string[] = [];
  const v1 = (ctl: string, files: [string, string][]) => {
    const base = `/sys/fs/cgroup/${ctl}`;
    if (!existsSync(join(base, 'cgroup.procs')))
      throw new Error(`node ${node}: no cgroup controller "${ctl}" (v1 or v2)`);
    const dir = childPath(base, name);
    mkdirSync(dir, { recursive: true });
    dirs.push(dir);
    for (const [f, v] of files) writeFileSync(join(dir, f), v);
  };
  if (limits.memory !== undefined)
    v1('memory', [['memory.limit_in_bytes', String(parseBytes(limits.memory))]]);
  if (limits.cpu !== undefined)
    v1('cpu', [
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_quota_us', String(Math.round(limits.cpu * 100000))],
    ]);
  if (limits.pids !== undefined) v1('pids', [['pids.max', String(limits.pids)]]);
  return dirs;
}

export interface ContainerFiles {
  hosts: [string, string][];
}

/** containr-style minimal container. */
export async function startContainerNode(
  lab: string,
  node: string,
  decl: NodeDecl,
  stateDir: string,
  files: ContainerFiles,
): Promise<NodeState> {
  const mark = processMark(lab, node);
  const src = typeof decl.rootfs === 'string' ? decl.rootfs : '';
  let root = src;
  let unpacked: string | undefined;
  let cgroups: string[] = [];
  try {
    // Lab and node names passed the schema; childPath still refuses one that would leave the directory.
    const labDir = childPath(stateDir, `${lab}.rootfs`);
    if (typeof decl.rootfs === 'object') {
      mkdirSync(labDir, { recursive: true, mode: 0o700 });
      root = unpacked = await buildBusyboxRootfs(childPath(labDir, node)).catch((e: Error) => {
        throw new Error(`node ${node}: ${e.message}`);
      });
    } else if (!existsSync(src)) throw new Error(`node ${node}: rootfs "${src}" does not exist`);
    else if (!statSync(src).isDirectory()) {
      unpacked = childPath(labDir, node);
      mkdirSync(labDir, { recursive: true, mode: 0o700 });
      rmSync(unpacked, { recursive: true, force: true });
      mkdirSync(unpacked, { mode: 0o755 });
      await untar(src, unpacked).catch((e: Error) => {
        throw new Error(`node ${node}: ${e.message}`);
      });
      root = unpacked;
    }
    const hostname = decl.hostname ?? node;
    const ns = decl.dns?.nameservers ?? [];
    const search = decl.dns?.search ?? [];
    const rootDir = (() => {
      try {
        return RootDir.open(root);
      } catch (e) {
        throw new Error(`node ${node}: ${(e as Error).message}`);
      }
    })();
    try {
      for (const d of ['etc', 'proc', 'tmp']) rootDir.mkdirs(d);
      rootDir.writeFile(
        'etc/resolv.conf',
        `${ns.map((n) => `nameserver ${n}\n`).join('')}${search.length ? `search ${search.join(' ')}\n` : ''}`,
      );
      rootDir.writeFile(
        'etc/hosts',
        `127.0.0.1\tlocalhost\n::1\tlocalhost\n${[
          ...files.hosts,
          ...Object.entries(decl.hosts ?? {}).map(([n, a]) => [a, n] as [string, string]),
        ]
          .map(([a, n]) => `${a}\t${n}\n`)
          .join('')}`,
      );
      rootDir.writeFile('etc/hostname', `${hostname}\n`);
    } catch (e) {
      throw new Error(`node ${node}: ${(e as Error).message}`);
    } finally {
      rootDir.close();
    }
    cgroups = makeCgroups(lab, node, decl.limits ?? {});
    const cmd =
      decl.command === undefined
        ? ['sleep', 'infinity']
        : Array.isArray(decl.command)
          ? decl.command
          : ['/bin/sh', '-c', decl.command];
    const enter =
      decl.root === 'pivot_root'
        ? // pivot_root(2) needs the new root to be a mount point: bind it onto itself first.
          // After pivot_root(2) this shell's root is the rootfs, so /bin/sh is the container's own.
          `mount --bind ${shq(root)} ${shq(root)} && cd ${shq(root)} && mkdir -p .oldroot && pivot_root . .oldroot && ` +
          `exec /bin/sh -c 'umount -l /.oldroot; rmdir /.oldroot; exec "$@"' sh ${cmd.map(shq).join(' ')}`
        : `exec chroot ${shq(root)} ${cmd.map(shq).join(' ')}`;
    // --kill-child: the container's init dies with the marked unshare process (PR_SET_PDEATHSIG).
    const inner = `hostname ${shq(hostname)} && ${enter}`;
    const joinCg = cgroups.map((d) => `echo $$ > ${shq(join(d, 'cgroup.procs'))}`).join(' && ');
    const outer = `${joinCg ? `${joinCg} && ` : ''}exec -a "$0" unshare --mount --uts --ipc --net --pid --fork --kill-child --mount-proc=${shq(join(root, 'proc'))} -- bash -c ${shq(inner)}`;
    const pid = spawnDetached('bash', ['-c', outer, mark]);
    await waitFor(
      () => argv0Of(pid) === mark && netnsInode(pid) !== netnsInode(process.pid),
      5000,
      `node ${node}: container`,
    );
    // The container's init is unshare's child: wait until it runs the command.
    await sleep(20);
    const starttime = starttimeOf(pid);
    const netns = netnsInode(pid);
    if (starttime === undefined || netns === undefined)
      throw new Error(`node ${node}: container exited at once`);
    const st: NodeState = { kind: 'container', pid, starttime, netns, cgroups };
    if (unpacked) st.unpacked = unpacked;
    return st;
  } catch (e) {
    for (const d of cgroups) rmdirQuiet(d);
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
    throw e;
  }
}

function rmdirQuiet(d: string): void {
  try {
    // cgroupfs directories go with rmdir(2) only (their control files cannot be unlinked).
    rmdirSync(d);
  } catch {
    /* still busy or gone */
  }
}

let docker: Promise<Docker> | undefined;
/** The Docker client, loaded on first use: dockerode costs ~90 ms to import and most labs never need it. */
export function dockerClient(): Promise<Docker> {
  docker ??= import('dockerode').then((m) => new m.default({ socketPath: DOCKER_SOCKET, timeout: 30000 }));
  return docker;
}

export async function startDockerNode(lab: string, node: string, decl: NodeDecl): Promise<NodeState> {
  const d = await dockerClient();
  const name = dockerName(lab, node);
  const cmd =
    decl.command === undefined
      ? undefined
      : Array.isArray(decl.command)
        ? decl.command
        : ['/bin/sh', '-c', decl.command];
  let c: Docker.Container;
  try {
    c = await d.createContainer({
      name,
      Image: decl.image,
      ...(cmd ? { Cmd: cmd } : {}),
      Hostname: node,
      Labels: { [LABEL_LAB]: lab, [LABEL_NODE]: node },
      HostConfig: { NetworkMode: 'none', CapAdd: ['NET_ADMIN'] },
    });
  } catch (e) {
    throw new Error(`node ${node}: docker create: ${dockerMessage(e)}`);
  }
  try {
    await c.start();
    const info = await c.inspect();
    const pid = info.State.Pid;
    const starttime = starttimeOf(pid);
    const netns = netnsInode(pid);
    if (!info.State.Running || !pid || starttime === undefined || netns === undefined)
      throw new Error(`container exited at once (${info.State.Status})`);
    return { kind: 'docker', pid, starttime, netns, containerId: info.Id };
  } catch (e) {
    await c.remove({ force: true }).catch(() => {});
    throw new Error(`node ${node}: docker start: ${dockerMessage(e)}`);
  }
}

function dockerMessage(e: unknown): string {
  const j = (e as { json?: { message?: string } }).json;
  return j?.message ?? (e as Error).message ?? String(e);
}

/** Stops a node and frees what it held; never throws for something already gone. */
export async function stopNode(node: string, s: NodeState): Promise<void> {
  if (s.kind === 'docker' && s.containerId) {
    try {
      await (await dockerClient()).getContainer(s.containerId).remove({ force: true });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404)
        throw new Error(`node ${node}: docker remove: ${dockerMessage(e)}`);
    }
  } else if (starttimeOf(s.pid) === s.starttime) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await waitFor(() => starttimeOf(s.pid) !== s.starttime, 5000, `node ${node}: stop`).catch(() => {});
  }
  for (const d of s.cgroups ?? []) {
    for (let i = 0; i < 50 && existsSync(d); i++) {
      rmdirQuiet(d);
      if (existsSync(d)) await sleep(20);
    }
  }
  if (s.unpacked) rmSync(s.unpacked, { recursive: true, force: true });
}
