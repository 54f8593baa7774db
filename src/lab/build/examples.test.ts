/**
 * Every file in examples/ comes up on a fresh machine after the README's
 * setup: its `# prepare: COMMAND` first line, if it has one, is run exactly as
 * written (bash -c, from the repository root, as a user would), then a
 * uniquely named copy goes up with the real CLI, `verify` is clean, and `down`
 * leaves nothing behind.
 *
 * A fresh machine has none of what an example needs from outside: the Docker
 * images its nodes name are removed first (the prepare line must make them;
 * they may stay afterwards, a prepare line is idempotent), and a container
 * rootfs path it names is moved aside for the test and put back after.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { eventually } from '../../testing/eventually.js';
import { uniquePrefix } from '../../testing/names.js';
import type { LabDecl } from '../file/schema.js';
import { cleanup, cli, driftOf, EXAMPLES, footprint, type TestLab, uniqueLab } from '../testing/fixtures.js';

const ROOT = join(EXAMPLES, '..');

/** The command of an example's first line `# prepare: COMMAND`, if it has one. */
export function prepareLine(text: string): string | undefined {
  const first = text.split('\n', 1)[0] ?? '';
  return /^#\s*prepare:\s*(\S.*?)\s*$/.exec(first)?.[1];
}

function bash(cmd: string, timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('bash', ['-c', cmd], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.on('close', (code, signal) =>
      resolve({ code: code ?? -1, out: signal ? `${out}killed by ${signal}` : out }),
    );
  });
}

/**
 * Removes a Docker image tag as a fresh machine lacks it. Without force: a
 * container that uses it (another run of this test) makes docker refuse, and
 * then we wait for it to go rather than pull the image from under it.
 */
async function removeImage(ref: string): Promise<void> {
  await eventually(
    `image ${ref} removed, to simulate a fresh machine`,
    () => bash(`docker image rm ${JSON.stringify(ref)}`, 60_000),
    (r) => r.code === 0 || /No such image/i.test(r.out),
    { timeoutMs: 180_000, intervalMs: 2000, show: (r) => r.out.trim() },
  );
}

const files = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('examples: each comes up on a fresh machine after its prepare line', () => {
  it('covers every example file', () => {
    assert.ok(files.length >= 5, files.join(' '));
  });

  for (const f of files) {
    it(`${f}: prepare, up, verify clean, down leaves nothing`, async () => {
      const text = readFileSync(join(EXAMPLES, f), 'utf8');
      const decl = parse(text) as LabDecl;
      const nodes = Object.values(decl.nodes);
      for (const n of nodes) if (n.kind === 'docker' && n.image) await removeImage(n.image);
      const aside: [string, string][] = [];
      let t: TestLab | undefined;
      try {
        for (const n of nodes) {
          const p = n.kind === 'container' ? n.rootfs : undefined;
          if (typeof p === 'string' && existsSync(p)) {
            const moved = `${p}.wst-aside-${uniquePrefix('', 5)}`;
            renameSync(p, moved);
            aside.push([p, moved]);
          }
        }
        const prep = prepareLine(text);
        if (prep !== undefined) {
          const r = await bash(prep, 300_000);
          assert.equal(r.code, 0, `prepare: ${prep}\n${r.out}`);
        }
        t = uniqueLab(f);
        assert.deepEqual(await footprint(t.name), [], 'a fresh lab name has no footprint');
        const up = await cli('lab', 'up', t.file);
        assert.equal(up.code, 0, `lab up ${f}: ${up.stderr}`);
        const v = await cli('verify', '--json', t.file);
        assert.equal(v.code, 0, `verify ${f}: ${v.stdout}${v.stderr}`);
        assert.deepEqual(driftOf(v), []);
        const down = await cli('lab', 'down', t.file);
        assert.equal(down.code, 0, `lab down ${f}: ${down.stderr}`);
        assert.deepEqual(await footprint(t.name), [], `after down, ${f} leaves nothing`);
      } finally {
        await cleanup(t);
        for (const [p, moved] of aside) {
          rmSync(p, { recursive: true, force: true });
          renameSync(moved, p);
        }
      }
    });
  }
});
