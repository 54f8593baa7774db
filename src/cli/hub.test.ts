/**
 * `wirescope hub`'s choice of agents on the command line: a fixed --agent list
 * or --kubernetes, whose EndpointSlices come from a fake API server (there is no
 * cluster on the test machine; the Kubernetes path is tested only against
 * src/hub/agents/testing/apiserver.ts). hub.test.ts covers following real agents.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeApiServer } from '../hub/agents/testing/apiserver.js';
import type { NodesAnswer } from '../hub/contract.js';
import { startServe, stopServe } from '../service/testing/serve.js';
import { eventually } from '../testing/eventually.js';
import { podNamespace } from './hub.js';

const BIN = fileURLToPath(new URL('../../bin/wirescope.js', import.meta.url));
const WAIT = { timeoutMs: 60_000, intervalMs: 200 };

/** Runs the CLI to its end: exit status and stderr. */
function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

/** A refusal: non-zero, one line, no stack trace, no raw control characters. */
function refused(args: string[], message: RegExp): void {
  const { status, stderr } = cli(args);
  assert.notEqual(status, 0, `${args.join(' ')} must fail`);
  assert.match(stderr, message);
  assert.equal(stderr.trimEnd().split('\n').length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /\bat .*\.js:\d+/, 'no stack trace');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding unescaped control characters is the point
  assert.doesNotMatch(stderr.trimEnd(), /[\u0000-\u0008\u000b-\u001f\u007f]/, 'control characters escaped');
}

describe('wirescope hub: where the agents come from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wirescope-hubcli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('wants agents, and either --agent or --kubernetes', () => {
    refused(['hub', '--listen', '127.0.0.1:0'], /--agent \[NAME=\]URL .* or --kubernetes/);
    refused(
      ['hub', '--agent', 'http://127.0.0.1:1', '--kubernetes', 'wirescope'],
      /--agent or --kubernetes, not both/,
    );
  });

  it('refuses a Service reference or port name that is not a Kubernetes name, escaped', () => {
    refused(['hub', '--kubernetes', 'a/b/c'], /--kubernetes: .* is not \[NAMESPACE\/\]SERVICE/);
    refused(['hub', '--kubernetes', 'ns/Evil\u001b[2J'], /--kubernetes: .* is not a Service name/);
    refused(['hub', '--kubernetes', 'NS_/svc'], /is not a namespace name/);
    refused(
      ['hub', '--kubernetes', 'svc', '--kubernetes-port', 'HTTP!\u0007'],
      /--kubernetes-port: .* is not a port name/,
    );
  });

  it("takes the pod's namespace from the service account file, read bounded and never blocking", () => {
    const good = join(dir, 'ns-good');
    writeFileSync(good, 'team-a\n');
    assert.equal(podNamespace(good), 'team-a');
    const bad = join(dir, 'ns-bad');
    writeFileSync(bad, 'Team_A');
    assert.equal(podNamespace(bad), undefined, 'not an RFC 1123 label');
    const huge = join(dir, 'ns-huge');
    writeFileSync(huge, 'a'.repeat(1 << 20));
    assert.equal(podNamespace(huge), undefined, 'only the first bytes are read; too long for a name');
    assert.equal(podNamespace(join(dir, 'missing')), undefined);
    // A FIFO with no writer: an open without O_NONBLOCK would hang the hub's start.
    const fifo = join(dir, 'ns-fifo');
    execFileSync('mkfifo', [fifo]);
    assert.equal(podNamespace(fifo), undefined);
  });

  it('follows the ready endpoints of the agents’ Service through the Kubernetes API', async () => {
    const api = new FakeApiServer('wshubcli', 'agents');
    await api.up();
    const ep = (address: string, node: string) => ({
      addresses: [address],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: node,
    });
    // TEST-NET-1 (RFC 5737): nothing answers there, so the agents stay unreachable;
    // what is tested is that the hub learned them from the API.
    api.apply('ADDED', api.slice('agents-a', [ep('192.0.2.10', 'node-a')]));
    const hub = await startServe(['hub', '--kubernetes', 'wshubcli/agents', '--listen', '127.0.0.1:0'], {
      KUBECONFIG: api.kubeconfig,
    });
    try {
      assert.ok(hub.url, `the hub serves: ${hub.stderr}`);
      assert.match(hub.stderr, /kubernetes/i, 'it says where its agents come from');
      const urls = async (): Promise<string[]> => {
        const answer = (await (await fetch(`${hub.url}/api/nodes`)).json()) as NodesAnswer;
        return [...answer.nodes.map((n) => n.url), ...answer.agents.map((a) => a.url)].sort();
      };
      await eventually(
        'the hub follows the endpoint of agents-a',
        urls,
        (u) => JSON.stringify(u) === JSON.stringify(['http://192.0.2.10:5000']),
        WAIT,
      );
      api.apply('ADDED', api.slice('agents-b', [ep('192.0.2.11', 'node-b')]));
      await eventually(
        'the hub follows the endpoint added by the watch',
        urls,
        (u) => JSON.stringify(u) === JSON.stringify(['http://192.0.2.10:5000', 'http://192.0.2.11:5000']),
        WAIT,
      );
    } finally {
      if (hub.proc) assert.equal(await stopServe(hub.proc), 0, 'SIGTERM ends the hub cleanly');
      await api.close();
    }
  });
});
