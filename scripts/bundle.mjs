// Bundles the compiled CLI (dist/) into a few files in dist/bundle/, so that a
// one-shot command loads a handful of files instead of resolving and reading
// hundreds of modules (ARCHITECTURE.md "Start-up cost"). Runs after tsc, on its
// output: the bundle holds exactly the JavaScript the tests run per file.
//
// Rolldown (vite's bundler, already in the lockfile through vite) splits the
// code at every dynamic import, so commands and engine clients still load only
// when used; each chunk is one file. Threads and child processes are started
// from files (`new Worker(new URL('./worker.js', import.meta.url))`): every
// such entry is bundled as an entry of its own, and the URL in the code is
// rewritten to that entry's file. A `new URL(…, import.meta.url)` this script
// does not know fails the build rather than a thread at run time.
//
// dist/bundle/manifest.json lists the source modules of each chunk, so tests
// can still tell which of our modules a command loads (src/cli/main.test.ts).
//
// Usage: node scripts/bundle.mjs [ROOT]   (ROOT: the package root, default ..)
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const dist = join(root, 'dist');
const out = join(dist, 'bundle');

/** Entry name → compiled module. Thread and child entries are named after their path. */
const ENTRIES = {
  cli: 'cli/main.js',
  'network-worker': 'network/worker.js',
  'namespaces-scan-worker': 'namespaces/scan-worker.js',
  'namespaces-etc-reader-child': 'namespaces/etc-reader-child.js',
  'service-worker': 'service/worker.js',
  'watch-worker': 'watch/worker.js',
  'capture-worker': 'capture/worker.js',
  'check-worker': 'check/worker.js',
};
const entryOf = new Map(Object.entries(ENTRIES).map(([name, file]) => [join(dist, file), name]));

/**
 * Not bundled: koffi finds its native addon relative to its own files; gRPC and
 * protobufjs are test-only (the reference peer of src/engines/grpc.ts), and
 * protobufjs reaches Node's modules through an eval'd require that a bundle
 * does not keep;
 * dockerode (only `lab` builds Docker nodes with it) reaches native addons too.
 */
const EXTERNAL = [/^node:/, /^koffi$/, /^@grpc\//, /^protobufjs(\/|$)/, /^dockerode$/];

const URL_RE = /new URL\((['"])(\.{1,2}\/[^'"]+)\1,\s*import\.meta\.url\)/g;

/** Rewrites `new URL('./x.js', import.meta.url)` in a dist module to the bundled entry of x.js. */
const workerUrls = {
  name: 'wirescope-worker-urls',
  transform(code, id) {
    if (!id.startsWith(dist) || !code.includes('import.meta.url')) return null;
    let changed = false;
    const next = code.replace(URL_RE, (whole, _q, rel) => {
      const target = resolve(dirname(id), rel);
      const name = entryOf.get(target);
      if (name === undefined) {
        // Paths that leave dist/ at the same depth (../../web/dist) resolve alike from dist/bundle/.
        if (!target.startsWith(`${dist}/`)) return whole;
        throw new Error(`${relative(root, id)}: ${rel} is started from a file but is no bundle entry`);
      }
      changed = true;
      return `new URL('./${name}.js', import.meta.url)`;
    });
    return changed ? { code: next, map: null } : null;
  },
};

rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, join(dist, file)])),
  platform: 'node',
  external: EXTERNAL,
  plugins: [workerUrls],
  logLevel: 'warn',
});
const { output } = await bundle.write({
  dir: out,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: 'chunk-[hash].js',
  sourcemap: false,
  // Less to read and parse at every start; licence comments of bundled packages stay.
  comments: { legal: true, annotation: false, jsdoc: false },
});
await bundle.close();

// `--help` and `--version` alone (bin/wirescope.js): one CommonJS file with commander inside, so
// they start neither Node's ES module loader nor anything of the commands.
const top = await rolldown({
  input: { 'cli-top': join(dist, 'cli/top-level-main.js') },
  platform: 'node',
  external: [/^node:/],
  logLevel: 'warn',
});
const { output: topOutput } = await top.write({
  dir: out,
  format: 'cjs',
  entryFileNames: '[name].cjs',
  sourcemap: false,
  comments: { legal: true, annotation: false, jsdoc: false },
});
await top.close();

const manifest = {};
for (const o of [...output, ...topOutput]) {
  if (o.type !== 'chunk') continue;
  manifest[o.fileName] = o.moduleIds
    .filter((m) => m.startsWith('/'))
    .map((m) => relative(root, m))
    .sort();
}
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
