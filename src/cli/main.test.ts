import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SUMMARIES } from './summaries.js';

const bin = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

/** Runs the CLI with a module hook that logs every module URL it resolves (module.register, Node ≥ 20.6). */
function runLogged(args: string[]): { stdout: string; status: number | null; modules: string[] } {
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
    const register = `import { register } from 'node:module'; register(${JSON.stringify(hookUrl)});`;
    const r = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, bin, ...args],
      { encoding: 'utf8' },
    );
    let modules: string[] = [];
    try {
      modules = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      // no module resolved through the hook: the assertions below say what is missing
    }
    return { stdout: r.stdout, status: r.status, modules };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ownModules = (modules: string[]) =>
  modules.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 6));

describe('wirescope, the command line', () => {
  it('prints the top-level help without loading any command, the same as with every command loaded', () => {
    const fast = runLogged(['--help']);
    assert.equal(fast.status, 0);
    const own = ownModules(fast.modules);
    assert.ok(own.includes('cli/main.js'), `the hook saw the CLI load: ${own.join(' ')}`);
    for (const name of Object.keys(SUMMARIES))
      assert.ok(!own.includes(`cli/${name}.js`), `--help loaded cli/${name}.js`);
    assert.ok(!own.some((m) => m.startsWith('discovery/') || m.startsWith('engines/')), own.join(' '));

    // `help` (a word, not an option) registers every command: the same text proves the summaries true.
    const full = runLogged(['help']);
    assert.equal(full.status, 0);
    assert.ok(ownModules(full.modules).includes('cli/discover.js'), 'help loaded the commands');
    assert.equal(fast.stdout, full.stdout);
    for (const s of Object.values(SUMMARIES)) assert.ok(fast.stdout.includes(s.term), s.term);
  });

  it('prints its version without loading any command', () => {
    const r = runLogged(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
    const cli = ownModules(r.modules).filter((m) => m.startsWith('cli/'));
    const launcher = new Set(['cli/main.js', 'cli/errors.js', 'cli/heap.js', 'cli/summaries.js']);
    assert.deepEqual(
      cli.filter((m) => !launcher.has(m)),
      [],
    );
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
