/**
 * Facts about the host itself, for the model's `host` (and so the v1 `metadata`
 * Ghostwire's UI shows as "Host name", "Host OS", "Kernel version"): its host
 * name, operating system, kernel release and online CPUs. Read once per discovery
 * at this edge; formatting is the views' business.
 *
 * wirescope may run in a container (with the host's PID namespace, as it must to
 * see the host's processes), so its own /etc, UTS name and mount namespace may be
 * the container's. Each fact is taken from the host's side:
 *
 * - host name: the initial UTS namespace's (the scan's `initial.uts`, PID 1's, else
 *   kthreadd's), joined through a process in it (uts.ts). /proc/sys/kernel/hostname
 *   would answer for wirescope's own UTS namespace.
 * - OS: os-release(5) — /etc/os-release, else /usr/lib/os-release — of the host's root.
 *   That is PID 1's root (/proc/1/root) when PID 1 is the host's init, which it is
 *   when kthreadd (PID 2, parent 0) is visible: kernel threads exist only in the
 *   initial PID namespace, so seeing one means wirescope's PID namespace is the host's
 *   and PID 1 the host's init. In a PID namespace of its own, PID 1 is a container's
 *   entry point and its root a container image: then no OS is reported rather than
 *   the image's. When PID 1's root cannot be read (ptrace access is refused by a
 *   Yama or LSM policy even to root), wirescope's own root serves if wirescope is in
 *   the initial mount namespace, where it sees the same files.
 *   Symlinks below the root are resolved inside it (rootfs.ts); the read is bounded
 *   and never blocks (a FIFO planted there reads nothing).
 * - kernel release: /proc/sys/kernel/osrelease, what uname(2) returns; the kernel is
 *   one for all namespaces and UTS namespaces do not change it.
 * - CPUs: /sys/devices/system/cpu/online, the kernel's own list (sysfs is not
 *   namespaced; a container's nproc may be less through its affinity mask).
 */
import { readFileSync } from 'node:fs';
import { normalize } from 'node:path';
import { close, EACCES, EPERM, SyscallError } from '../kernel/libc.js';
import type { Draft } from '../model/types.js';

import { openRoot, type RootFile, readInRoot } from './rootfs.js';
import type { NamespaceScan } from './scan.js';
import { readUtsNames } from './uts.js';

/** os-release is a few hundred bytes; a larger file is not one. */
const OS_RELEASE_MAX = 64 * 1024;

/**
 * os-release(5) assignments: `KEY=value`, the value optionally in double or single
 * quotes, with `\` escaping `"`, `\`, `$` and `` ` `` in double quotes; `#` lines are
 * comments. Variables whose name is not `[A-Z0-9_]+` and malformed lines are skipped.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, key, rest] = m as unknown as [string, string, string];
    let value: string | undefined;
    if (rest.startsWith('"')) {
      const q = /^"((?:[^"\\]|\\.)*)"$/.exec(rest);
      value = q?.[1]?.replace(/\\([$"\\`])/g, '$1');
    } else if (rest.startsWith("'")) {
      value = /^'([^']*)'$/.exec(rest)?.[1];
    } else if (!/[\s"'$`\\]/.test(rest)) value = rest;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A kernel CPU list (`0-3,8,10-11`, cpulists in Documentation/admin-guide/cputopology.rst) as [from, to] ranges. */
export function parseCpuList(text: string): [number, number][] | undefined {
  const t = text.trim();
  if (t === '') return [];
  const out: [number, number][] = [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return undefined;
    out.push([from, to]);
  }
  return out;
}

export const cpuCount = (ranges: readonly (readonly [number, number])[]): number =>
  ranges.reduce((n, [from, to]) => n + to - from + 1, 0);

const code = (e: unknown): string | undefined =>
  e instanceof SyscallError
    ? e.errno === EACCES
      ? 'EACCES'
      : e.errno === EPERM
        ? 'EPERM'
        : undefined
    : (e as NodeJS.ErrnoException).code;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The os-release of the filesystem below `root`, or why not (read as tenants' /etc files are: rootfs.ts). */
function osReleaseIn(root: string): { os?: Draft.Host['os']; error?: string } {
  let rootFd: number;
  try {
    rootFd = openRoot(root);
  } catch (e) {
    return { error: message(e) };
  }
  let lastError: string | undefined;
  try {
    for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
      let got: RootFile;
      try {
        got = readInRoot(rootFd, file, { cap: OS_RELEASE_MAX });
      } catch (e) {
        lastError = message(e);
        if (code(e) === 'EACCES' || code(e) === 'EPERM') break; // the root itself is closed to us
        continue;
      }
      if (got.kind === 'missing') continue;
      if (got.kind === 'refused') {
        lastError = `${root}${file}: ${got.reason}`;
        continue;
      }
      if (got.truncated) {
        lastError = `${root}${file}: larger than ${OS_RELEASE_MAX} bytes`;
        continue;
      }
      const v = parseOsRelease(got.text);
      const os: NonNullable<Draft.Host['os']> = { source: normalize(`${root}${file}`) };
      if (v.PRETTY_NAME !== undefined) os.prettyName = v.PRETTY_NAME;
      if (v.NAME !== undefined) os.name = v.NAME;
      if (v.VERSION !== undefined) os.version = v.VERSION;
      if (v.ID !== undefined) os.id = v.ID;
      if (v.VERSION_ID !== undefined) os.versionId = v.VERSION_ID;
      return { os };
    }
  } finally {
    close(rootFd);
  }
  return lastError === undefined ? { error: `no os-release below ${root}` } : { error: lastError };
}

/** PID 1 is the host's init: kthreadd is visible, so wirescope's PID namespace is the initial one. */
function seesHostInit(scan: NamespaceScan): boolean {
  const k = scan.processes[2];
  return k !== undefined && k.ppid === 0 && k.comm === 'kthreadd';
}

export interface HostFacts {
  host: Draft.Host;
  warnings: Draft.Warning[];
}

export function readHost(scan: NamespaceScan, procRoot = '/proc', sysRoot = '/sys'): HostFacts {
  const host: Draft.Host = {};
  const warnings: Draft.Warning[] = [];
  const hostInit = seesHostInit(scan);

  // Host name: through a process in the initial UTS namespace (our own first: no setns then).
  const uts = scan.initial.uts;
  if (uts !== undefined) {
    const pids = [process.pid, 1, 2].filter((pid) => scan.processes[pid]?.namespaces.uts === uts);
    for (const pid of pids) {
      try {
        host.hostname = readUtsNames(`${procRoot}/${pid}/ns/uts`, uts).hostname;
        break;
      } catch {
        // denied or gone: the next process of the namespace
      }
    }
  }

  if (hostInit) {
    let found = osReleaseIn(`${procRoot}/1/root`);
    const ownMnt = scan.ownMntns;
    if (!found.os && ownMnt !== undefined && ownMnt === scan.initial.mnt) {
      const own = osReleaseIn('/');
      if (own.os) found = own;
    }
    if (found.os) host.os = found.os;
    else
      warnings.push({
        code: 'host-os-unreadable',
        message: `cannot read the host's os-release: ${found.error ?? 'not found'}`,
      });
  }

  try {
    host.kernelRelease = readFileSync(`${procRoot}/sys/kernel/osrelease`, 'utf8').trim();
  } catch (e) {
    warnings.push({
      code: 'host-kernel-unreadable',
      message: `cannot read the kernel release: ${message(e)}`,
    });
  }

  try {
    const online = readFileSync(`${sysRoot}/devices/system/cpu/online`, 'utf8').trim();
    const ranges = parseCpuList(online);
    if (ranges) host.cpus = { online: ranges, count: cpuCount(ranges) };
    else
      warnings.push({
        code: 'host-cpus-unreadable',
        message: `cannot parse the online CPU list "${online}"`,
      });
  } catch (e) {
    warnings.push({ code: 'host-cpus-unreadable', message: `cannot read the online CPUs: ${message(e)}` });
  }
  return { host, warnings };
}
