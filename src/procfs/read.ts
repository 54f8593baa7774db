/**
 * Side-effecting procfs access, kept minimal because the scan calls it tens of
 * thousands of times: one shared buffer, open/read/close and nothing else (no
 * fstat: procfs reports size 0 for its files, so readFileSync's size hint is
 * useless there), and errors classified into "vanished" and "denied".
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';

let buf = Buffer.allocUnsafe(64 * 1024);

/** Reads a whole procfs file as UTF-8; throws the fs error (see `classify`). */
export function readProcFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

export function readLink(path: string): string {
  return readlinkSync(path);
}

export function listDir(path: string): string[] {
  return readdirSync(path);
}

export type FsFault = 'vanished' | 'denied' | 'other';

/**
 * ENOENT/ESRCH: the process or task exited (procfs removes its directory);
 * EACCES/EPERM: ptrace access mode checks failed (see proc(5), "ptrace access
 * mode"), which even root hits for PID 1 in this sandbox.
 */
export function classify(err: unknown): FsFault {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'vanished';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'other';
}

export function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}
