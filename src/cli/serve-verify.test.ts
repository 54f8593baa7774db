/**
 * `wirescope serve --verify FILE` from the command line: the file is loaded
 * and validated before the service starts (a bad one is a one-line error
 * with line and column, exit 2); a good one is verified by the running
 * service (GET /api/verify).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DriftLab, driftLab, dropDriftLab } from '../service/testing/lab.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));

function run(
  args: string[],
  onServing?: (url: string) => Promise<void>,
): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let started = false;
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /serving on (http:\/\/\S+?)\/ /.exec(stderr);
      if (m?.[1] && onServing && !started) {
        started = true;
        onServing(m[1]).then(
          () => proc.kill('SIGTERM'),
          (err: unknown) => {
            proc.kill('SIGTERM');
            reject(err);
          },
        );
      }
    });
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('wirescope serve --verify FILE', () => {
  let dir = '';
  let lab: DriftLab | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wst-serve-verify-'));
    lab = await driftLab();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropDriftLab(lab);
  });

  it('refuses an invalid lab file before serving: one line with line and column, exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: x\nnodes:\n  a: { kind: netns }\nlinks:\n  - endpoints: ["a:eth1", "zz:eth1"]\n',
    );
    const r = await run(['serve', '--listen', '127.0.0.1:0', '--no-watch', '--verify', bad]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `wirescope: ${bad}:5:27: unknown node "zz" in endpoint\n`);
    const missing = await run(['serve', '--listen', '127.0.0.1:0', '--verify', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^wirescope: .*nope\.yaml: cannot read: ENOENT\n$/);
  });

  it('serves the drift of a good one at /api/verify', async () => {
    let body: { clean: boolean; labs: { lab: string; clean: boolean }[] } | undefined;
    const r = await run(
      ['serve', '--listen', '127.0.0.1:0', '--no-watch', '--verify', lab!.file],
      async (url) => {
        const res = await fetch(`${url}/api/verify`);
        assert.equal(res.status, 200);
        body = (await res.json()) as typeof body;
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(body?.clean, true);
    assert.deepEqual(
      body?.labs.map((l) => [l.lab, l.clean]),
      [[lab!.name, true]],
    );
  });
});
