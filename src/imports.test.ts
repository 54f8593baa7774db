/**
 * Imports run down the stack only (ARCHITECTURE.md "The pipeline"): read
 * from the real import graph of src/ — every static `from '…'` and dynamic
 * `import('…')` of every non-test file — each import from one folder into
 * another must reach a lower layer. So no pipeline stage can come to depend
 * on the lab, the service or the CLI, and the web UI takes only pure parts
 * (the model, the views, the service's contract types).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/imports.test.js → the repository root. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The stack, bottom up: a folder (or top-level file, without ".ts") may
 * import only from a lower rank. Siblings of one rank stay independent: the
 * lab, beside `discover`, is handed a discovery and never runs one.
 */
const RANK: Record<string, number> = {
  model: 0,
  kernel: 1,
  procfs: 2,
  namespaces: 3,
  engines: 4,
  network: 4,
  decorators: 5,
  views: 6,
  discover: 7,
  watch: 7,
  check: 7,
  capture: 8,
  lab: 7,
  service: 9,
  hub: 10,
  cli: 11,
  bench: 12,
  index: 12,
};

/** What the web UI may import from src/: pure modules it bundles. */
const WEB_ALLOWED = [
  /^src\/model\//,
  /^src\/views\//,
  /^src\/service\/contract\.ts$/,
  /^src\/hub\/contract\.ts$/,
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(full));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts'))
      out.push(full);
  }
  return out;
}

/** Repository-relative paths ("src/lab/check/verify.ts") a file imports from the repository. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'));
    out.push(relative(ROOT, target).split(sep).join('/'));
  }
  return out;
}

/** The layer of a src/ path: its first folder, or its file name for a top-level file. */
function layerOf(path: string): string {
  const [, first = ''] = path.split('/');
  return first.replace(/\.ts$/, '');
}

describe('imports run down the stack', () => {
  const files = tsFiles(join(ROOT, 'src')).filter((f) => !f.split(sep).includes('testing'));

  it('reads a real import graph', () => {
    const edges = files.flatMap((f) => importsOf(f));
    assert.ok(edges.length > 500, `only ${edges.length} imports found`);
    assert.ok(edges.includes('src/model/types.ts'));
  });

  it('every folder of src/ with code has a rank', () => {
    const layers = new Set(files.map((f) => layerOf(relative(ROOT, f).split(sep).join('/'))));
    layers.delete('deploy'); // tests only
    assert.deepEqual([...layers].filter((l) => RANK[l] === undefined).sort(), []);
  });

  it('each import between folders reaches a lower rank', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = relative(ROOT, f).split(sep).join('/');
      const a = layerOf(from);
      for (const to of importsOf(f)) {
        const b = layerOf(to);
        if (a === b || !to.startsWith('src/')) continue;
        // The benchmarks build fixtures as tests do; both stay out of the package.
        if (a === 'bench' && b === 'testing') continue;
        const [ra, rb] = [RANK[a], RANK[b]];
        if (ra === undefined || rb === undefined || rb >= ra) bad.push(`${from} → ${to}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the Kubernetes client library loads only through import() of src/hub/agents/kubernetes.ts', () => {
    // @kubernetes/client-node takes ~0.8 s to load: only `hub --kubernetes` may pay for it.
    const bad: string[] = [];
    for (const f of files) {
      const from = relative(ROOT, f).split(sep).join('/');
      const text = readFileSync(f, 'utf8');
      if (from !== 'src/hub/agents/kubernetes.ts' && /['"]@kubernetes\/client-node['"]/.test(text))
        bad.push(`${from} → @kubernetes/client-node`);
      for (const m of text.matchAll(/\bfrom\s+'(\.{1,2}\/[^']*kubernetes\.js)'/g)) {
        const to = relative(ROOT, resolve(dirname(f), (m[1] as string).replace(/\.js$/, '.ts')));
        if (to.split(sep).join('/') === 'src/hub/agents/kubernetes.ts') bad.push(`${from} → ${to} (static)`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the web UI imports only pure modules of src/', () => {
    const bad: string[] = [];
    for (const f of tsFiles(join(ROOT, 'web', 'src'))) {
      for (const to of importsOf(f)) {
        if (to.startsWith('src/') && !WEB_ALLOWED.some((re) => re.test(to)))
          bad.push(`${relative(ROOT, f).split(sep).join('/')} → ${to}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
