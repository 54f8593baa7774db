/**
 * The published package holds what runs, not what tests it: no test files, no
 * test helpers (`testing/` folders), no recorded kernel replies or fixtures, no
 * benchmarks (package.json `files`); and every relative import of a packed file
 * is packed too. Asks `npm pack --dry-run` after a build (dist/ must be there).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/testing/package.test.js → the repository root. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const TEST_ONLY = [
  /\.test\.(js|d\.ts|js\.map)$/,
  /(^|\/)testing\//,
  /\.recorded\./,
  /(^|\/)recorded(-[^/]*)?\.(js|d\.ts|js\.map)$/,
  /(^|\/)testdata\./,
  /^dist\/views\/fixtures\./,
  /^dist\/bench\//,
];

describe('the published package', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path));

  it('has the CLI and the library', () => {
    for (const f of [
      'bin/wirescope.js',
      'dist/bundle/cli.js',
      'dist/index.js',
      'dist/index.d.ts',
      'package.json',
    ]) {
      assert.ok(files.has(f), `${f} is packed`);
    }
  });

  it('holds no tests, test helpers, fixtures, recorded kernel replies or benchmarks', () => {
    assert.deepEqual(
      [...files].filter((f) => TEST_ONLY.some((re) => re.test(f))),
      [],
    );
  });

  it('packs every file a packed module imports', () => {
    const missing: string[] = [];
    for (const f of files) {
      if (!f.endsWith('.js')) continue;
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = normalize(join(dirname(f), m[1] as string));
        if (!files.has(target)) missing.push(`${f} → ${target}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
