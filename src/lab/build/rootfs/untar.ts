/**
 * Unpacking a container's rootfs tarball, in-process, confined to its
 * directory.
 *
 * The archive comes from a lab file, so from anyone: GNU tar run as root
 * would create the device nodes it holds (mknod), and its protection against
 * links and ".." depends on how it was built and invoked. Here the archive is
 * parsed (POSIX ustar, pax extended headers, GNU long names; gzip in-process,
 * xz, bzip2 and zstd through their own decompressor, which writes no file)
 * and every entry is created through RootDir (confined.ts): paths resolve
 * with RESOLVE_IN_ROOT, so a symlink the archive made earlier — "etc ->
 * /etc" — leads back into the rootfs, never out of it. On top of that:
 *  - an absolute name or a ".." component refuses the whole archive (a
 *    well-formed rootfs has neither: tar(1) strips them when writing);
 *  - a hard link must name an entry inside the rootfs by the same rules, and
 *    its source is looked up inside the rootfs (linkat without
 *    AT_SYMLINK_FOLLOW links a final symlink itself);
 *  - device nodes and FIFOs are skipped (counted in the result), never made;
 *  - regular files are created with O_EXCL|O_NOFOLLOW after removing what is
 *    in their place, so a file never writes through an older entry.
 * Owner and mode (set-id bits included, as tar does for root) are kept;
 * modification times are not.
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, fchmodSync, fchownSync, openSync, readSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  EEXIST,
  EISDIR,
  fchownat,
  linkat,
  mkdirat,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_WRONLY,
  openat2,
  symlinkat,
  unlinkat,
} from '../../../kernel/inroot.js';
import { ENOENT, SyscallError } from '../../../kernel/libc.js';
import { shown } from '../../file/names.js';
import { IN_ROOT, RootDir, segments } from './confined.js';

const BLOCK = 512;
/** Bound on pax and GNU long-name data held in memory. */
const MAX_META = 1 << 20;
const O_RDONLY = 0;

export interface UntarResult {
  entries: number;
  /** Device nodes and FIFOs left out. */
  skipped: string[];
}

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  type: string;
  linkname: string;
}

class TarError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(b: Buffer, what: string): string {
  const end = b.indexOf(0);
  try {
    return utf8.decode(end < 0 ? b : b.subarray(0, end));
  } catch {
    throw new TarError(`${what} is not UTF-8`);
  }
}

/** A numeric header field: octal text, or base-256 when the high bit of the first byte is set. */
function num(h: Buffer, off: number, len: number, what: string): number {
  const f = h.subarray(off, off + len);
  if ((f[0] ?? 0) & 0x80) {
    if ((f[0] ?? 0) & 0x40) throw new TarError(`negative ${what}`);
    let v = (f[0] ?? 0) & 0x3f;
    for (const b of f.subarray(1)) {
      v = v * 256 + b;
      if (v > Number.MAX_SAFE_INTEGER) throw new TarError(`${what} out of range`);
    }
    return v;
  }
  const s = f
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (!/^[0-7]*$/.test(s)) throw new TarError(`bad ${what} field`);
  return s === '' ? 0 : Number.parseInt(s, 8);
}

/** A header block, or undefined for the all-zero block that ends the archive. */
function parseHeader(h: Buffer): Header | undefined {
  if (h.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  let stored: number | undefined;
  try {
    stored = num(h, 148, 8, 'checksum');
  } catch {
    /* not even a number: not a header */
  }
  if (stored !== sum) throw new TarError('not a tar archive (header checksum)');
  let name = text(h.subarray(0, 100), 'an entry name');
  // POSIX ustar splits long names into prefix/name; GNU's "ustar  " uses that area otherwise.
  if (h.toString('latin1', 257, 263) === 'ustar\0') {
    const prefix = text(h.subarray(345, 500), 'an entry name');
    if (prefix) name = `${prefix}/${name}`;
  }
  const t = String.fromCharCode(h[156] as number);
  return {
    name,
    mode: num(h, 100, 8, 'mode'),
    uid: num(h, 108, 8, 'uid'),
    gid: num(h, 116, 8, 'gid'),
    size: num(h, 124, 12, 'size'),
    type: t === '\0' ? '0' : t,
    linkname: text(h.subarray(157, 257), 'a link name'),
  };
}

/** pax extended header records: "LEN key=value\n". */
function parsePax(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < b.length) {
    const sp = b.indexOf(0x20, off);
    const len = sp < 0 ? Number.NaN : Number(b.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= 0 || off + len > b.length || b[off + len - 1] !== 0x0a)
      throw new TarError('bad pax header');
    const rec = text(b.subarray(sp + 1, off + len - 1), 'a pax record');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}

/** Exact reads over a stream of chunks. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Whether the stream ended exactly here. */
  async atEnd(): Promise<boolean> {
    while (this.buf.length === 0) {
      const r = await this.it.next();
      if (r.done) return true;
      this.buf = Buffer.from(r.value as Buffer);
    }
    return false;
  }

  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.buf.length === 0) {
        const r = await this.it.next();
        if (r.done) throw new TarError('archive is truncated');
        this.buf = Buffer.from(r.value as Buffer);
        continue;
      }
      const take = Math.min(n - have, this.buf.length);
      parts.push(this.buf.subarray(0, take));
      this.buf = this.buf.subarray(take);
      have += take;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }

  /** Reads `n` bytes (plus padding to the block) in pieces. */
  async *data(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0; ) {
      const b = await this.read(Math.min(left, 1 << 20));
      left -= b.length;
      yield b;
    }
    const pad = (BLOCK - (n % BLOCK)) % BLOCK;
    if (pad) await this.read(pad);
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.data(n)) {
      /* discard */
    }
  }
}

const DECOMPRESSORS: [Buffer, string][] = [
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
];

interface Archive {
  stream: Readable;
  /** Why the decompressor failed, if it did (asked after the stream ended early). */
  failure: () => Promise<string | undefined>;
  close: () => void;
}

/** The archive's tar bytes: decompressed by magic number. */
function openArchive(file: string): Archive {
  const fd = openSync(file, O_RDONLY | O_NOFOLLOW);
  const magic = Buffer.alloc(6);
  const got = readSync(fd, magic, 0, 6, 0);
  const head = magic.subarray(0, got);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const raw = createReadStream('', { fd });
    const s = raw.pipe(createGunzip());
    return { stream: s, failure: async () => undefined, close: () => raw.destroy() };
  }
  const tool = DECOMPRESSORS.find(([m]) => head.subarray(0, m.length).equals(m))?.[1];
  if (!tool) {
    const raw = createReadStream('', { fd });
    return { stream: raw, failure: async () => undefined, close: () => raw.destroy() };
  }
  const c = spawn(tool, ['-dc'], { stdio: [fd, 'pipe', 'pipe'] });
  closeSync(fd);
  let err = '';
  c.stderr?.on('data', (d: Buffer) => {
    if (err.length < 4096) err += d.toString();
  });
  const exit = new Promise<string | undefined>((resolve) => {
    c.on('error', (e) => resolve(`${tool}: ${e.message}`));
    c.on('close', (code) =>
      resolve(code === 0 ? undefined : `${tool}: ${err.trim().split('\n')[0] ?? `exit ${code}`}`),
    );
  });
  return {
    stream: c.stdout as Readable,
    failure: () =>
      Promise.race([
        exit,
        new Promise<undefined>((r) => {
          setTimeout(() => r(undefined), 1000).unref();
        }),
      ]),
    close: () => {
      c.stdout?.destroy();
      if (c.exitCode === null) c.kill();
    },
  };
}

/** Removes whatever is at `base` in `dir` (an empty directory too), so a new entry takes its place. */
function clear(dir: number, base: string): void {
  try {
    unlinkat(dir, base);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.errno === ENOENT) return;
    if (e.errno === EISDIR) unlinkat(dir, base, AT_REMOVEDIR);
    else throw e;
  }
}

/** One entry to create: where (`parent` fd, `base` name), what, and its data still in `reader`. */
interface Entry {
  root: RootDir;
  reader: Reader;
  parent: number;
  base: string;
  type: string;
  mode: number;
  size: number;
  link: string;
  uid: number;
  gid: number;
}

async function writeEntry(e: Entry): Promise<void> {
  switch (e.type) {
    case '5':
      makeDir(e);
      break;
    case '0':
    case '7':
      await writeFile(e);
      return;
    case '2':
      makeSymlink(e);
      break;
    case '1':
      makeHardLink(e);
      break;
    default:
      throw new TarError(`unsupported entry type "${e.type}"`);
  }
  await e.reader.skip(e.size);
}

/** A directory; one already there (or a link to one) stays, anything else is replaced. */
function makeDir({ parent, base, uid, gid, mode }: Entry): void {
  try {
    mkdirat(parent, base, 0o700);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.errno !== EEXIST) throw e;
    // Something is there: a directory (or a link to one) stays; anything else is replaced.
    try {
      closeSync(openat2(parent, base, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT));
    } catch {
      clear(parent, base);
      mkdirat(parent, base, 0o700);
    }
  }
  let fd: number | undefined;
  try {
    fd = openat2(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, IN_ROOT);
  } catch {
    /* a kept link to a directory: its target keeps its own owner and mode */
  }
  if (fd !== undefined) {
    try {
      fchownSync(fd, uid, gid);
      fchmodSync(fd, mode & 0o7777);
    } finally {
      closeSync(fd);
    }
  }
}

/** A regular file, written through a new entry (never through what was there). */
async function writeFile({ reader, parent, base, size, uid, gid, mode }: Entry): Promise<void> {
  clear(parent, base);
  const fd = openat2(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, IN_ROOT, 0o600);
  try {
    for await (const b of reader.data(size)) {
      for (let off = 0; off < b.length; ) off += writeSync(fd, b, off);
    }
    // Owner before mode: chown(2) clears the set-id bits.
    fchownSync(fd, uid, gid);
    fchmodSync(fd, mode & 0o7777);
  } finally {
    closeSync(fd);
  }
}

function makeSymlink({ parent, base, link, uid, gid }: Entry): void {
  clear(parent, base);
  // The target is stored as is: it means something inside the container, and on the
  // host it is only ever resolved inside the rootfs.
  symlinkat(link, parent, base);
  fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW);
}

/** A hard link to an earlier entry, both ends resolved inside the rootfs. */
function makeHardLink({ root, parent, base, link }: Entry): void {
  if (link.startsWith('/')) throw new TarError(`hard link to an absolute name ${shown(link)}`);
  const from = segments(link);
  const fromBase = from.pop();
  if (fromBase === undefined) throw new TarError('hard link to the root');
  const fromDir = root.dir(from, false);
  try {
    clear(parent, base);
    linkat(fromDir, fromBase, parent, base, 0);
  } finally {
    closeSync(fromDir);
  }
}

/** Unpacks `archive` into the (empty) directory `dest`. */
export async function untar(archive: string, dest: string): Promise<UntarResult> {
  const root = RootDir.open(dest);
  let src: Archive | undefined;
  let current = '';
  const result: UntarResult = { entries: 0, skipped: [] };
  try {
    src = openArchive(archive);
    const reader = new Reader(src.stream[Symbol.asyncIterator]());
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      current = '';
      if (await reader.atEnd()) break;
      const h = parseHeader(await reader.read(BLOCK));
      if (!h) break;
      const size = pax.has('size') ? Number(pax.get('size')) : h.size;
      if (!Number.isSafeInteger(size) || size < 0) throw new TarError('bad entry size');
      // Meta entries describe the next one.
      if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
        if (size > MAX_META) throw new TarError('extended header too large');
        const data = await reader.read(size);
        await reader.read((BLOCK - (size % BLOCK)) % BLOCK);
        if (h.type === 'x') pax = parsePax(data);
        else if (h.type === 'L') longName = text(data, 'a long name');
        else if (h.type === 'K') longLink = text(data, 'a long link name');
        continue;
      }
      const name = pax.get('path') ?? longName ?? h.name;
      const link = pax.get('linkpath') ?? longLink ?? h.linkname;
      const uid = pax.has('uid') ? Number(pax.get('uid')) : h.uid;
      const gid = pax.has('gid') ? Number(pax.get('gid')) : h.gid;
      pax = new Map();
      longName = undefined;
      longLink = undefined;
      current = name;
      if (name.startsWith('/')) throw new TarError('absolute name');
      const segs = segments(name);
      result.entries++;
      const base = segs.pop();
      if (h.type === '3' || h.type === '4' || h.type === '6') {
        result.skipped.push(name);
        await reader.skip(size);
        continue;
      }
      if (base === undefined) {
        // "./": the root itself, which is ours.
        await reader.skip(size);
        continue;
      }
      const parent = root.dir(segs, true);
      try {
        await writeEntry({ root, reader, parent, base, type: h.type, mode: h.mode, size, link, uid, gid });
      } finally {
        closeSync(parent);
      }
    }
    return result;
  } catch (e) {
    // A stream that ended early may be a decompressor that failed: its message says more.
    const failed = src && e instanceof TarError ? await src.failure() : undefined;
    const msg = e instanceof SyscallError ? e.message.replace(/^\w+ [^:]*: /, '') : (e as Error).message;
    throw new Error(
      `rootfs tarball ${shown(archive)}: ${current ? `entry ${shown(current)}: ` : ''}${failed ?? msg}`,
    );
  } finally {
    src?.close();
    root.close();
  }
}
