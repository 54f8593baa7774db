/**
 * A container node's rootfs made from the host's static busybox, for
 * `rootfs: { busybox: true }`: a lab that needs no hand-made rootfs. The tree
 * is built in the node's own directory under the lab state directory (where a
 * tarball is unpacked too), so it is new for every start and goes with
 * `down`; nothing is cached or shared between labs.
 *
 * Layout: /bin/busybox (a copy: after pivot_root(2) or chroot(2) no host path
 * is visible) and one relative symlink per applet at the place
 * `busybox --list-full` names (bin, sbin, usr/bin, usr/sbin), so both PATH
 * lookups and absolute paths such as /usr/bin/env work; /etc/passwd and
 * /etc/group with root; empty /proc, /sys, /dev, /tmp, /run, /root.
 * nodes.ts writes hostname, hosts and resolv.conf as for any rootfs.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Where Debian's busybox-static (and most distributions' busybox) installs the binary. */
export const BUSYBOX_PATHS = [
  '/bin/busybox',
  '/usr/bin/busybox',
  '/sbin/busybox',
  '/usr/sbin/busybox',
] as const;

/** Directories an applet link may go to (what `--list-full` prints on every busybox build). */
const APPLET_DIRS = new Set(['bin', 'sbin', 'usr/bin', 'usr/sbin']);

/** An applet name as a path segment: no "/", not "." or "..", no control characters. */
const APPLET = /^(?!\.\.?$)[A-Za-z0-9_.+[\]-]{1,64}$/;

export type ElfLinkage =
  | { kind: 'static' }
  | { kind: 'dynamic'; interpreter: string }
  | { kind: 'invalid'; why: string };

const PT_INTERP = 3;

/**
 * Whether an ELF executable needs a program interpreter (PT_INTERP, e.g.
 * /lib64/ld-linux-x86-64.so.2; see elf(5)): such a binary cannot start in a
 * rootfs that holds no ld.so and libc, where execve(2) fails with ENOENT. A
 * static or static-pie busybox has no PT_INTERP. `head` is the file's start;
 * program headers beyond it count as invalid (the caller reads enough).
 */
export function elfLinkage(head: Buffer): ElfLinkage {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46)
    return { kind: 'invalid', why: 'not an ELF file' };
  const cls = head[4];
  const data = head[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2))
    return { kind: 'invalid', why: 'unknown ELF class or byte order' };
  const le = data === 1;
  const u16 = (o: number): number => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number): number => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const u64 = (o: number): number => Number(le ? head.readBigUInt64LE(o) : head.readBigUInt64BE(o));
  const is64 = cls === 2;
  if (is64 && head.length < 64) return { kind: 'invalid', why: 'truncated ELF header' };
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  if (phentsize < (is64 ? 56 : 32)) return { kind: 'invalid', why: 'bad program header size' };
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + phentsize > head.length) return { kind: 'invalid', why: 'program headers out of reach' };
    if (u32(at) !== PT_INTERP) continue;
    const off = is64 ? u64(at + 8) : u32(at + 4);
    const size = is64 ? u64(at + 32) : u32(at + 16);
    const end = Math.min(off + size, head.length);
    const interpreter = off < end ? head.subarray(off, end).toString('latin1').replace(/\0.*$/s, '') : '';
    return { kind: 'dynamic', interpreter: interpreter || '(unknown)' };
  }
  return { kind: 'static' };
}

/** The first 64 KiB of a file: enough for the ELF and program headers of any real executable. */
function readHead(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(65536);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** The host's busybox, checked to run without a libc: a clear reason when there is none. */
export function findBusybox(candidates: readonly string[] = BUSYBOX_PATHS): string {
  const path = candidates.find((p) => existsSync(p));
  if (!path)
    throw new Error(`no busybox on this host (looked for ${candidates.join(', ')}); install busybox-static`);
  const l = elfLinkage(readHead(path));
  if (l.kind === 'dynamic')
    throw new Error(
      `${path} is dynamically linked (it needs ${l.interpreter}), so it cannot run inside the rootfs; install busybox-static`,
    );
  if (l.kind === 'invalid') throw new Error(`${path} is not a busybox executable: ${l.why}`);
  return path;
}

/**
 * `busybox --list-full` output → applet link paths relative to the rootfs.
 * Lines that are not "<dir>/<applet>" in a known directory are skipped: the
 * output names files to create, so nothing else may become a path.
 */
export function appletPaths(listFull: string): string[] {
  const out = new Set<string>();
  for (const line of listFull.split('\n')) {
    const p = line.trim();
    const slash = p.lastIndexOf('/');
    const dir = p.slice(0, slash);
    const name = p.slice(slash + 1);
    if (slash <= 0 || !APPLET_DIRS.has(dir) || !APPLET.test(name) || p === 'bin/busybox') continue;
    out.add(p);
  }
  return [...out].sort();
}

function listApplets(busybox: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(busybox, ['--list-full'], { timeout: 10000, maxBuffer: 1 << 20 }, (e, stdout) =>
      e ? reject(new Error(`${busybox} --list-full: ${e.message.split('\n')[0]}`)) : resolve(stdout),
    );
  });
}

/**
 * Builds a busybox rootfs in `dir` (replacing whatever is there) and returns
 * `dir`. On failure nothing is left at `dir`.
 */
export async function buildBusyboxRootfs(dir: string, binary?: string): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  try {
    const busybox = binary ?? findBusybox();
    const applets = appletPaths(await listApplets(busybox));
    if (!applets.some((a) => a === 'bin/sh')) throw new Error(`${busybox} has no "sh" applet`);
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'run', 'root'])
      mkdirSync(join(dir, d), { recursive: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    chmodSync(join(dir, 'tmp'), 0o1777);
    copyFileSync(busybox, join(dir, 'bin/busybox'));
    chmodSync(join(dir, 'bin/busybox'), 0o755);
    for (const a of applets)
      symlinkSync(relative(dirname(join(dir, a)), join(dir, 'bin/busybox')), join(dir, a));
    writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
    return dir;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`rootfs busybox: ${(e as Error).message}`);
  }
}
