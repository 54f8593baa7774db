import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deepFreeze } from '../model/freeze.js';
import type { Discovery } from '../model/types.js';
import { eventually } from '../testing/eventually.js';
import { ip } from '../testing/ip.js';
import { uniquePrefix } from '../testing/names.js';
import { sampleDiscovery } from '../views/fixtures.js';
import { v1Errors } from '../views/ghostwire-v1/validate.js';
import { render, resolveFormat, schemaFor } from './discover.js';
import { CliError } from './errors.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, 'discover', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('wirescope discover options', () => {
  it('reads --json as the Ghostwire v1 format and defaults to the text tree', () => {
    assert.equal(resolveFormat({}), 'text');
    assert.equal(resolveFormat({ json: true }), 'v1');
    assert.equal(resolveFormat({ json: true, format: 'v1' }), 'v1');
    assert.equal(resolveFormat({ format: 'NATIVE' }), 'native');
    assert.equal(resolveFormat({ format: 'mobyshark' }), 'mobyshark');
  });

  it('refuses unknown and contradictory formats instead of guessing', () => {
    assert.throws(
      () => resolveFormat({ format: 'yaml' }),
      (e: unknown) => e instanceof CliError && /"yaml" is not one of/.test(e.message),
    );
    assert.throws(() => resolveFormat({ json: true, format: 'native' }), /--json means --format v1/);
  });

  it('renders each format from one discovery', async () => {
    const d = deepFreeze(sampleDiscovery()) as Discovery;
    const v1 = JSON.parse(await render(d, 'v1', { color: false, pretty: false })) as unknown;
    assert.deepEqual(v1Errors(v1), []);
    const native = JSON.parse(await render(d, 'native', { color: false, pretty: true })) as {
      schema: string;
    };
    assert.equal(native.schema, 'wirescope/native/v1');
    const targets = JSON.parse(await render(d, 'mobyshark', { color: false, pretty: false })) as {
      containers: unknown[];
    };
    assert.equal(targets.containers.length, 4);
    assert.match(await render(d, 'text', { color: false, pretty: false }), /^netns 4026531840 \(host\)$/m);
  });

  it('names the schema of each JSON format', async () => {
    assert.ok(((await schemaFor('native')) as { $defs: Record<string, unknown> }).$defs.NetworkNamespace);
    assert.ok(((await schemaFor('v1')) as { $defs: Record<string, unknown> }).$defs.Pidns);
    assert.ok(((await schemaFor('mobyshark')) as { $defs: Record<string, unknown> }).$defs['Capture-Target']);
  });

  it('prints the native JSON schema with --schema, the v1 one with --json --schema', () => {
    const native = run('--schema');
    assert.equal(native.status, 0, native.stderr);
    assert.equal((JSON.parse(native.stdout) as { title: string }).title, 'wirescope native discovery');
    const v1 = run('--json', '--schema');
    assert.equal(v1.status, 0, v1.stderr);
    assert.ok((JSON.parse(v1.stdout) as { $defs: Record<string, unknown> }).$defs.Netns);
  });

  it('fails with one line and exit code 2 on bad options', () => {
    for (const [args, msg] of [
      [['--format', 'yaml'], /--format: "yaml" is not one of text, v1, native, mobyshark, dot, mermaid/],
      [['--schema', '--format', 'text'], /--schema describes a JSON format/],
      [['--json', '--netns', '1'], /--netns filters the text, dot and mermaid views/],
      [['--engine-budget', 'soon'], /--engine-budget: "soon" is not a number/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
      assert.equal(r.stdout, '');
    }
  });
});

describe('wirescope discover on a terminal', () => {
  // What an unprivileged tenant controls: an interface alias and its own command line.
  const ALIAS = '\x1b]0;pwned\x07\x1b[2J';
  const ARGV0 = '\x1b[31mevil';
  const ESC = '\x1b';
  const ns = `${uniquePrefix('wst', 4)}e`;
  let sleeper: ChildProcess | undefined;
  before(async () => {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    ip('-n', ns, 'link', 'set', 'eth0', 'alias', ALIAS);
    sleeper = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', `exec -a $'\\e[31mevil' sleep 100`], {
      stdio: 'ignore',
    });
    // Wait for the exec: the process carries the forged argv[0] once bash has replaced itself.
    const pid: number | undefined = sleeper.pid;
    await eventually(
      `process ${pid} to exec with argv[0] ${JSON.stringify(ARGV0)}`,
      () => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
        } catch {
          return ''; // not there yet
        }
      },
      (argv0) => argv0 === ARGV0,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  });
  after(() => {
    sleeper?.kill('SIGKILL');
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  });

  for (const color of ['--no-color', '--color']) {
    it(`prints aliases and command lines escaped, never their control bytes (${color})`, () => {
      const r = run('--no-engines', color, '--netns', ns);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.includes('alias "\\x1b]0;pwned\\x07\\x1b[2J"'), r.stdout);
      assert.ok(r.stdout.includes(`process sleep(${sleeper?.pid})`), r.stdout);
      assert.ok(r.stdout.includes('\\x1b[31mevil 100'), r.stdout);
      assert.ok(!r.stdout.includes('\x07'), 'no BEL byte');
      // With colour, our own SGR sequences are the only escapes; without, there are none.
      const escapes = r.stdout.match(new RegExp(`${ESC}\\[[0-9;]*m|${ESC}`, 'g')) ?? [];
      const ours = new Set([
        '\x1b[0m',
        '\x1b[1m',
        '\x1b[2m',
        '\x1b[31m',
        '\x1b[32m',
        '\x1b[33m',
        '\x1b[35m',
        '\x1b[36m',
      ]);
      if (color === '--no-color') assert.deepEqual(escapes, []);
      else {
        assert.ok(escapes.length > 0, 'coloured');
        assert.deepEqual(
          escapes.filter((e) => !ours.has(e)),
          [],
        );
        // The tenant's own "\e[31m" is shown as text, not as red: the evil text follows the escaped form.
        assert.ok(!r.stdout.includes('\x1b[31mevil'), 'the forged colour is not a colour');
      }
    });
  }
});
