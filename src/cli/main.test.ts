import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SUMMARIES } from './summaries.js';

const bin = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));
const root = new URL('../../', import.meta.url).href;

/**
 * The CLI runs from the bundle (scripts/bundle.mjs): each file of dist/bundle/ stands for the
 * modules bundled into it, as its manifest lists them (paths from the repository root).
 */
const manifest = JSON.parse(
  readFileSync(new URL('../bundle/manifest.json', import.meta.url), 'utf8'),
) as Record<string, string[]>;
const BUNDLED = /\/dist\/bundle\/([^/]+\.c?js)$/;

/** The modules behind the URLs a run resolved: a bundle file becomes the modules it holds. */
function unbundle(urls: string[]): string[] {
  return urls.flatMap((u) => {
    const file = BUNDLED.exec(u)?.[1];
    if (file === undefined) return [u];
    const held = manifest[file];
    assert.ok(held, `${file} is in the bundle's manifest`);
    return held.map((m) => root + m);
  });
}

/**
 * Runs the CLI with hooks that log every module it resolves: ES modules through module.register
 * (Node ≥ 20.6), CommonJS ones (the launcher's top-level entry) through a preloaded require hook.
 */
function runLogged(args: string[]): ReturnType<typeof runLoggedNode> {
  return runLoggedNode([bin, ...args]);
}

/** Runs node with `args` under the module-logging hook of runLogged. */
function runLoggedNode(args: string[]): {
  stdout: string;
  status: number | null;
  modules: string[];
  files: string[];
} {
  const dir = mkdtempSync(join(tmpdir(), 'wst-modules-'));
  try {
    const log = join(dir, 'modules');
    const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) {
  const r = await next(s, c);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`;
    const hookUrl = `data:text/javascript,${encodeURIComponent(hook)}`;
    const preload = join(dir, 'require-hook.cjs');
    writeFileSync(
      preload,
      `const M = require('node:module'); const { appendFileSync } = require('node:fs');
const resolve = M._resolveFilename;
M._resolveFilename = function (...a) {
  const f = resolve.apply(this, a);
  if (f.startsWith('/')) appendFileSync(${JSON.stringify(log)}, 'file://' + f + '\\n');
  return f;
};`,
    );
    const register = `import { register } from 'node:module'; register(${JSON.stringify(hookUrl)});`;
    const r = spawnSync(
      process.execPath,
      ['--require', preload, '--import', `data:text/javascript,${encodeURIComponent(register)}`, ...args],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    let files: string[] = [];
    try {
      files = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      // no module resolved through the hook: the assertions below say what is missing
    }
    return { stdout: r.stdout, status: r.status, modules: unbundle(files), files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ownModules = (modules: string[]) =>
  modules.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 6));

/** Files of dist/ a run loaded, from the package root, in order, each once. */
const ownFiles = (files: string[]) => [
  ...new Set(files.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 1))),
];

/** Files of dist/ that a run loaded outside the bundle. */
const unbundled = (files: string[]) => files.filter((u) => u.includes('/dist/') && !BUNDLED.test(u));

describe('wirescope, the command line', () => {
  it('prints the top-level help without loading any command, the same as with every command loaded', () => {
    const fast = runLogged(['--help']);
    assert.equal(fast.status, 0);
    assert.deepEqual(
      ownFiles(fast.files),
      ['dist/bundle/cli-top.cjs'],
      'the launcher runs the top-level entry alone, not the CLI',
    );
    assert.deepEqual(ownModules(fast.modules), [
      'cli/summaries.js',
      'cli/top-level-main.js',
      'cli/top-level.js',
    ]);

    // `help` (a word, not an option) registers every command: the same text proves the summaries true.
    const full = runLogged(['help']);
    assert.equal(full.status, 0);
    assert.ok(ownModules(full.modules).includes('cli/discover.js'), 'help loaded the commands');
    assert.equal(fast.stdout, full.stdout);
    for (const s of Object.values(SUMMARIES)) assert.ok(fast.stdout.includes(s.term), s.term);
  });

  it("prints its version, the package's, without loading any command", () => {
    const r = runLogged(['--version']);
    assert.equal(r.status, 0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(r.stdout, `${pkg.version}\n`);
    assert.deepEqual(ownFiles(r.files), ['dist/bundle/cli-top.cjs']);
    // -V and -h together, in either order, are still the top-level entry's
    assert.deepEqual(ownFiles(runLogged(['-V', '-h']).files), ['dist/bundle/cli-top.cjs']);
  });

  it('loads only the command it runs', () => {
    const r = runLogged(['discover', '--help']);
    assert.equal(r.status, 0);
    const own = ownModules(r.modules);
    assert.ok(own.includes('cli/discover.js'), own.join(' '));
    for (const other of ['namespaces', 'serve', 'lab', 'watch', 'verify'])
      assert.ok(!own.includes(`cli/${other}.js`), `discover loaded cli/${other}.js`);
  });
});

/** Modules a command must load only when it uses them (ARCHITECTURE.md "Start-up cost"). */
const isTypebox = (u: string) => u.includes('/node_modules/@sinclair/typebox/');
const isGrpc = (u: string) => u.includes('/node_modules/@grpc/') || u.includes('/node_modules/protobufjs/');

describe('wirescope loads only what a command uses', () => {
  it('discover --no-engines --json: no engine code, no gRPC, no schema library, no other view', () => {
    const r = runLogged(['discover', '--no-engines', '--json']);
    assert.equal(r.status, 0);
    assert.deepEqual(unbundled(r.files), [], 'modules loaded one by one');
    assert.ok(JSON.parse(r.stdout)['network-namespaces'].length > 0);
    const own = ownModules(r.modules);
    assert.ok(own.includes('discover.js') && own.includes('views/ghostwire-v1/transform.js'), own.join(' '));
    // lab-nodes.js (lab nodes are containers of no engine) and what it uses may load; the engine stage may not.
    const stage = [
      'tracker',
      'detect',
      'activated',
      'trust',
      'docker',
      'podman',
      'http',
      'containerd',
      'cri',
      'grpc',
    ];
    for (const m of stage) assert.ok(!own.includes(`engines/${m}.js`), `loaded engines/${m}.js`);
    assert.deepEqual(r.modules.filter(isGrpc), [], 'gRPC modules');
    assert.deepEqual(r.modules.filter(isTypebox), [], 'TypeBox modules');
    for (const view of [
      'views/native.js',
      'views/text-tree.js',
      'views/graph.js',
      'views/ghostwire-v1/validate.js',
    ])
      assert.ok(!own.includes(view), `loaded ${view}`);
  });

  it('discover --json loads the client of each engine it found, and no other', () => {
    const r = runLogged(['discover', '--json']);
    assert.equal(r.status, 0);
    const own = ownModules(r.modules);
    const types = new Set(
      (JSON.parse(r.stdout) as { 'network-namespaces': { containers?: { type: string }[] }[] })[
        'network-namespaces'
      ].flatMap((n) => (n.containers ?? []).map((c) => c.type)),
    );
    // Which engines run is the host's business: found by the native view of the same host.
    const native = spawnSync(process.execPath, [bin, 'discover', '--format', 'native'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    assert.equal(native.status, 0, native.stderr);
    const found = new Set(
      Object.values((JSON.parse(native.stdout) as { engines: Record<string, { type: string }> }).engines).map(
        (e) => e.type,
      ),
    );
    if (!found.has('containerd') && !found.has('crio')) {
      // Engines come and go between the two runs only on a host that starts them meanwhile.
      assert.ok(!own.includes('engines/containerd.js') && !own.includes('engines/cri.js'), own.join(' '));
      assert.deepEqual(r.modules.filter(isGrpc), [], `gRPC without a gRPC engine (${[...types]})`);
    }
    if (!found.has('docker') && !found.has('podman')) assert.ok(!own.includes('engines/docker.js'));
    assert.deepEqual(r.modules.filter(isTypebox), [], 'TypeBox modules');
  });

  it('the engine stage loads a client only for an engine it finds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wst-engine-'));
    try {
      const tracker = new URL('../engines/tracker.js', import.meta.url).href;
      // The child plays a dockerd (its own process, renamed in a synthetic scan) with a minimal
      // Docker API on docker.sock, next to a "containerd" process that listens on nothing.
      const script = `
        import { createServer } from 'node:http';
        const { createEngineTracker } = await import(${JSON.stringify(tracker)});
        const server = createServer((req, res) => {
          res.setHeader('Server', 'Docker/99.1.2 (linux)');
          if (req.url.startsWith('/events')) { res.writeHead(200); res.flushHeaders(); return; }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(req.url === '/version' ? '{"Version":"from-version"}' : '[]');
        });
        await new Promise((r) => server.listen(${JSON.stringify(join(dir, 'docker.sock'))}, r));
        const self = { pid: process.pid, ppid: 1, starttime: 1, comm: 'dockerd', cmdline: ['dockerd'], uid: 0, namespaces: {} };
        const idle = { ...self, pid: 1, comm: 'containerd', cmdline: ['containerd'] };
        const scan = { namespaces: {}, processes: { 1: idle, [process.pid]: self }, initial: {}, warnings: [], missingPrivileges: [] };
        const t = createEngineTracker({ syncBudgetMs: 20000, requestTimeoutMs: 20000 });
        const w = await t.snapshot(scan);
        t.close();
        server.close();
        process.stdout.write(JSON.stringify({ engines: w.engines, warnings: w.warnings.map((x) => x.code) }));
        process.exit(0);
      `;
      const r = runLoggedNode(['--input-type=module', '-e', script]);
      assert.equal(r.status, 0);
      const out = JSON.parse(r.stdout) as {
        engines: Record<string, { type: string; version?: string }>;
        warnings: string[];
      };
      const engines = Object.values(out.engines);
      assert.deepEqual(
        engines.map((e) => [e.type, e.version]),
        [['docker', '99.1.2']],
        `the version from the Server header, no /version asked (${r.stdout})`,
      );
      assert.ok(
        out.warnings.includes('engine-no-api-socket') || out.warnings.includes('engine-sockets-unreadable'),
      );
      const own = ownModules(r.modules);
      assert.ok(own.includes('engines/docker.js'), own.join(' '));
      for (const m of ['engines/podman.js', 'engines/containerd.js', 'engines/cri.js', 'engines/grpc.js'])
        assert.ok(!own.includes(m), `loaded ${m}`);
      assert.deepEqual(r.modules.filter(isGrpc), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The bundle files a file of dist/bundle/ imports statically (they load before its code runs), itself included. */
function staticClosure(file: string): string[] {
  const dir = new URL('../bundle/', import.meta.url);
  const seen = new Set<string>();
  const todo = [file];
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (seen.has(f)) continue;
    seen.add(f);
    const text = readFileSync(new URL(f, dir), 'utf8');
    for (const m of text.matchAll(/^import\s(?:[^;'"]*?\sfrom\s)?"\.\/([^"]+)";/gm)) todo.push(m[1]!);
  }
  return [...seen];
}

describe('wirescope serve, before it listens', () => {
  it('loads no capture, check, pipeline, engine, websocket or YAML code: those load when first used', () => {
    const cli = readFileSync(new URL('../bundle/cli.js', import.meta.url), 'utf8');
    const serveChunk = /serve: async \(\) => \(await import\("\.\/([^"]+)"\)\)/.exec(cli)?.[1];
    assert.ok(serveChunk, 'the CLI imports the serve command lazily');
    const modules = staticClosure(serveChunk).flatMap((f) => manifest[f] ?? []);
    assert.ok(modules.includes('dist/service/server.js'), modules.join(' '));
    const early = modules.filter(
      (m) =>
        /^dist\/(capture\/session|capture\/targets|check\/run|discover|engines\/tracker|views\/ghostwire-v1\/transform)\.js$/.test(
          m,
        ) || /node_modules\/(ws|yaml)\//.test(m),
    );
    assert.deepEqual(early, []);
  });
});
