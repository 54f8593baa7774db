/**
 * The project's documents stay true to its tree: nothing cites a document the
 * repository does not contain, every link and path README.md and
 * ARCHITECTURE.md name exists, every folder under src/ is on ARCHITECTURE.md's
 * map, and every section of ARCHITECTURE.md that a file cites by its heading
 * exists. Folders, not files, are checked for coverage, so adding a file to a
 * described folder needs no change here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/docs.test.js → the repository root. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Build output, dependencies and local artefacts (see .gitignore): not the project's files. */
const SKIP_DIRS = new Set(['.git', 'node_modules', 'dist', 'screenshots', '.bench']);
const MAX_TEXT = 4 << 20;

/** Every text file of the project, as repository-relative paths with "/". */
function projectFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...projectFiles(full));
    } else if (e.isFile() && !e.name.endsWith('.log') && statSync(full).size <= MAX_TEXT) {
      const bytes = readFileSync(full);
      if (!bytes.subarray(0, 8192).includes(0)) out.push(relative(ROOT, full).split(sep).join('/'));
    }
  }
  return out;
}

const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

/** The folders under src/, repository-relative, e.g. "src/network/kinds". */
function srcFolders(dir = join(ROOT, 'src')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const full = join(dir, e.name);
    out.push(relative(ROOT, full).split(sep).join('/'), ...srcFolders(full));
  }
  return out;
}

/** Targets of Markdown links that point into the repository (no scheme, not a bare #anchor). */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  // Fenced code blocks hold command output (`runc:[2:INIT](812)`), not links.
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1] as string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    out.push(target.replace(/#.*$/, ''));
  }
  return out;
}

/**
 * Repository paths a document names in code spans (`src/…`, `web/…`, …);
 * placeholders (<name>, globs, braces) and build output are not paths.
 */
function namedPaths(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/`((?:src|web|scripts|bin|examples)\/[^`\s]*)`/g)) {
    const p = m[1] as string;
    if (/[<>*{}]/.test(p) || p.startsWith('web/dist')) continue;
    out.push(p);
  }
  return out;
}

const DOCS = ['README.md', 'ARCHITECTURE.md'];
// Spelled in pieces so that this file does not match itself.
const FORBIDDEN: { what: string; re: RegExp }[] = [
  { what: 'a design document outside the repository', re: new RegExp(['DESIGN', 'md'].join('\\.')) },
  { what: 'a seed number', re: new RegExp(`\\b${'se'}ed 0\\d`, 'i') },
  { what: 'a folder outside the repository', re: new RegExp(['', 'work', 'shared'].join('/')) },
];

describe('the project documents itself from within the repository', () => {
  it('has ARCHITECTURE.md at its root', () => {
    assert.ok(existsSync(join(ROOT, 'ARCHITECTURE.md')), `no ARCHITECTURE.md in ${ROOT}`);
  });

  it('cites no design document outside the repository, no seed and no outside folder', () => {
    const found: string[] = [];
    for (const rel of projectFiles()) {
      const lines = read(rel).split('\n');
      lines.forEach((line, i) => {
        for (const f of FORBIDDEN)
          if (f.re.test(line)) found.push(`${rel}:${i + 1}: ${f.what}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, []);
  });

  it('links README.md and ARCHITECTURE.md only to files that exist', () => {
    const broken: string[] = [];
    for (const doc of DOCS.filter((d) => existsSync(join(ROOT, d)))) {
      const text = read(doc);
      for (const link of relativeLinks(text)) {
        if (!existsSync(resolve(ROOT, dirname(doc), link))) broken.push(`${doc}: link ${link}`);
      }
      for (const path of namedPaths(text)) {
        if (!existsSync(join(ROOT, path))) broken.push(`${doc}: path ${path}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('describes every folder under src/ in ARCHITECTURE.md', () => {
    const map = existsSync(join(ROOT, 'ARCHITECTURE.md')) ? read('ARCHITECTURE.md') : '';
    const missing = srcFolders().filter((f) => !map.includes(`${f}/`));
    assert.deepEqual(missing, [], 'folders ARCHITECTURE.md does not name (as `src/…/`)');
  });

  it('names only sections ARCHITECTURE.md has when a file cites one by its heading', () => {
    const map = existsSync(join(ROOT, 'ARCHITECTURE.md')) ? read('ARCHITECTURE.md') : '';
    const headings = new Set([...map.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((m) => m[1]));
    const cited = /ARCHITECTURE\.md,?(?:\s|\*|\/\/)*"([^"\n]+)"/g;
    const unknown: string[] = [];
    let citations = 0;
    for (const rel of projectFiles()) {
      for (const m of read(rel).matchAll(cited)) {
        citations++;
        if (!headings.has(m[1] as string)) unknown.push(`${rel}: "${m[1]}"`);
      }
    }
    assert.deepEqual(unknown, []);
    assert.ok(citations > 0, 'the code cites ARCHITECTURE.md sections (e.g. src/model/ids.ts)');
  });
});
