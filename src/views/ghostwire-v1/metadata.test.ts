/**
 * The v1 `metadata` of a real discovery of this machine, with the real dockerd running:
 * what Ghostwire's UI shows as host name, host OS, kernel version and container engines.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { discover } from '../../discover.js';
import { createEngineTracker } from '../../engines/index.js';
import { sh } from '../../engines/testing/image.js';
import type { Discovery } from '../../model/types.js';
import { closeNetworkDiscovery } from '../../network/discover.js';
import { poll } from '../../testing/eventually.js';
import type { DiscoveryResult } from './schema.js';
import { toGhostwireV1 } from './transform.js';
import { v1Errors } from './validate.js';

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const osRelease = (key: string): string => run('bash', '-c', `. /etc/os-release; echo "$${key}"`);

describe('Ghostwire v1 metadata of this host', () => {
  const tracker = createEngineTracker();
  let d: Discovery;
  let doc: DiscoveryResult;
  const dockerVersion = sh('docker', ['version', '--format', '{{.Server.Version}}']);

  before(async () => {
    // Engines report once their first sync is done, their version once asked: discover until
    // the Docker engine is there with its version (other tests' engines come and go meanwhile).
    ({ value: d } = await poll(
      () => discover({ containers: tracker }),
      (x) => Object.values(x.engines).some((e) => e.type === 'docker' && e.version === dockerVersion),
      { timeoutMs: 30_000, intervalMs: 250 },
    ));
    doc = toGhostwireV1(d);
  });
  after(async () => {
    tracker.close();
    await closeNetworkDiscovery();
  });

  it('validates against the v1 schema', () => {
    assert.deepEqual(v1Errors(doc), []);
  });

  it('names the host, its OS, kernel and CPUs as this machine does', () => {
    const md = doc.metadata ?? {};
    assert.equal(md.hostname, run('hostname'));
    assert.equal(md['osrel-name'], osRelease('NAME'));
    assert.equal(md['osrel-version'], osRelease('VERSION'));
    assert.equal(md['osrel-pretty-name'], osRelease('PRETTY_NAME'));
    // What Ghostwire's UI shows as "Host OS": NAME and VERSION joined.
    assert.equal(`${md['osrel-name']} ${md['osrel-version']}`, osRelease('PRETTY_NAME'));
    assert.equal(md['kernel-version'], run('uname', '-r'));
    assert.equal(md['cpu-count'], Number(run('nproc')));
    assert.equal(
      (md.cpus ?? []).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','),
      readFileSync('/sys/devices/system/cpu/online', 'utf8').trim(),
    );
  });

  it('lists the running dockerd among the container engines, with version, API path and pid', () => {
    const engines = doc.metadata?.['container-engines'] ?? [];
    const docker = engines.filter((e) => e.type === 'docker' && e.version === dockerVersion);
    assert.ok(docker.length >= 1, `a docker ${dockerVersion} engine in ${JSON.stringify(engines)}`);
    for (const e of docker) {
      assert.equal(readFileSync(`/proc/${e.pid}/comm`, 'utf8').trim(), 'dockerd');
      assert.match(e.api ?? '', /docker\.sock$/);
      assert.equal(d.engines[e.id]?.pid, e.pid);
    }
    // Every engine of the discovery, each once.
    assert.deepEqual(engines.map((e) => e.id).sort(), Object.keys(d.engines).sort());
  });
});
