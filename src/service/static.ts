/**
 * Serves the built web UI (web/dist) read-only. A request path is decoded
 * once, then must resolve inside the root folder: `..` segments, encoded
 * slashes/backslashes and NUL bytes are refused before the filesystem is
 * touched, and the resolved real path is checked again (symlinks).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/**
 * Maps a URL path to a path relative to the static root, or undefined when
 * the path is not acceptable. Pure: no filesystem access.
 */
export function safeRelativePath(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  // An encoded slash (%2f) would smuggle a separator past a router; refuse it.
  if (/%2f|%5c/i.test(urlPath)) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return undefined;
  if (segments.length === 0) return 'index.html';
  return segments.join('/');
}

export interface StaticFile {
  body: Buffer;
  type: string;
  immutable: boolean;
}

/** Reads a file of the static root for `urlPath`, or undefined (→ 404). */
export async function readStatic(root: string, urlPath: string): Promise<StaticFile | undefined> {
  const rel = safeRelativePath(urlPath);
  if (rel === undefined) return undefined;
  const base = resolve(root);
  const full = resolve(base, rel);
  if (!full.startsWith(base + sep)) return undefined;
  try {
    const real = await realpath(full);
    const realBase = await realpath(base);
    if (!real.startsWith(realBase + sep)) return undefined;
    const st = await stat(real);
    if (!st.isFile()) return undefined;
    return {
      body: await readFile(real),
      type: TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
      // Vite puts content-hashed files under assets/: they never change.
      immutable: rel.startsWith('assets/'),
    };
  } catch {
    return undefined;
  }
}
