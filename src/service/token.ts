/**
 * The bearer token: compared in constant time, and read from a file so it
 * never shows in `ps` (a command line is world-readable in /proc/PID/cmdline).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** A token longer than this is not a token file (and is not read on). */
const MAX_TOKEN_FILE_BYTES = 4096;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * A checker for `expected`. Both sides are hashed first, so the comparison
 * takes the same time whatever the given token's length (timingSafeEqual
 * alone needs equal lengths, and an early length check tells the length).
 */
export function tokenChecker(expected: string): (given: string | undefined) => boolean {
  const want = digest(expected);
  return (given) => given !== undefined && timingSafeEqual(want, digest(given));
}

/**
 * RFC 6750 §2.1 b64token, the syntax of a bearer token in an Authorization
 * header; anything else (spaces, a second line) is a mistake in the file.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads a token file once: a regular file (a FIFO or device would block or
 * never end), at most 4 KiB, not readable or writable by every user (then
 * the token is no secret: chmod o-rw), one b64token after trimming
 * surrounding white space. Throws one-line errors.
 */
export function readTokenFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`--token-file: cannot open ${path}: ${e.code ?? e.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`--token-file: ${path} is not a regular file`);
    if ((st.mode & 0o006) !== 0)
      throw new Error(
        `--token-file: ${path} is ${st.mode & 0o004 ? 'readable' : 'writable'} by every user (mode ${(st.mode & 0o777).toString(8)}): chmod o-rw ${path}`,
      );
    if (st.size > MAX_TOKEN_FILE_BYTES)
      throw new Error(`--token-file: ${path} is larger than ${MAX_TOKEN_FILE_BYTES} bytes: not a token`);
    const buf = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_TOKEN_FILE_BYTES)
        throw new Error(`--token-file: ${path} is larger than ${MAX_TOKEN_FILE_BYTES} bytes: not a token`);
    }
    const token = buf.subarray(0, n).toString('utf8').trim();
    if (token === '') throw new Error(`--token-file: ${path} is empty`);
    if (!B64TOKEN.test(token))
      throw new Error(
        `--token-file: ${path} must hold one token of letters, digits and -._~+/ (RFC 6750), nothing else`,
      );
    return token;
  } finally {
    closeSync(fd);
  }
}
