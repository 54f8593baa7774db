/**
 * The Kubernetes agent source against a fake API server (testing/apiserver.ts):
 * there is no cluster on the test machine, so the Kubernetes path is tested ONLY
 * against that fake — node:http on 127.0.0.1 speaking the real wire format (lists
 * with resourceVersion and continue pages, a chunked watch stream of JSON lines with
 * ADDED/MODIFIED/DELETED/BOOKMARK/ERROR events, 410 for an expired version), reached
 * through the client library with a kubeconfig the test writes (KUBECONFIG), a
 * bearer token checked on every request. What is covered: the first list (paged,
 * several slices), endpoints added, removed, not ready; a watch dropped and resumed
 * from its resourceVersion; 410 → a new list (as an event and as an HTTP status);
 * the API server down (one-line errors, retries); hostile slices; stop() leaving
 * nothing open.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { eventually } from '../../testing/eventually.js';
import { MAX_ENDPOINTS_PER_SLICE, MAX_TARGETS } from './endpointslice.js';
import { createKubernetesAgentSource } from './kubernetes.js';
import type { AgentSource, AgentTarget } from './source.js';
import { FakeApiServer } from './testing/apiserver.js';

const NS = 'wirescope';
const SVC = 'wirescope';
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

/** A ready (or not) endpoint of the DaemonSet's pod on `node`, as the controller writes it. */
function ep(address: string, node: string, ready: boolean | undefined = true): Record<string, unknown> {
  return {
    addresses: [address],
    conditions: ready === undefined ? {} : { ready, serving: ready, terminating: false },
    nodeName: node,
    targetRef: { kind: 'Pod', namespace: NS, name: `wirescope-${node}` },
  };
}

interface Followed {
  source: AgentSource;
  changes: AgentTarget[][];
  errors: string[];
  last(): AgentTarget[] | undefined;
}

function follow(server: FakeApiServer, portName?: string): Followed {
  // The only way in for the test: the public signature reads KUBECONFIG like kubectl.
  process.env.KUBECONFIG = server.kubeconfig;
  const source = createKubernetesAgentSource({ namespace: NS, service: SVC, portName });
  const f: Followed = {
    source,
    changes: [],
    errors: [],
    last: () => f.changes.at(-1),
  };
  source.start(
    (t) => f.changes.push([...t]),
    (e) => f.errors.push(e),
  );
  return f;
}

const urls = (t: readonly AgentTarget[] | undefined): string[] =>
  (t ?? []).map((x) => `${x.name ?? '?'}=${x.url}`);

/** Waits until the last set given is exactly `want` (NAME=URL strings, in order). */
const until = (f: Followed, want: string[], what: string): Promise<unknown> =>
  eventually(
    what,
    () => urls(f.last()),
    (v) => JSON.stringify(v) === JSON.stringify(want),
    WAIT,
  );

const oneLine = (errors: string[]): void => {
  for (const e of errors) {
    assert.ok(!/[\n\r]/.test(e), `an error of one line: ${JSON.stringify(e)}`);
    assert.ok(!/\bat .+:\d+:\d+/.test(e), `no stack trace: ${e}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking control characters are escaped
    assert.ok(!/[\u0000-\u001f\u007f]/.test(e), `control characters escaped: ${JSON.stringify(e)}`);
  }
};

const BASE = ['node-a=http://10.0.0.1:5000', 'node-b=http://10.0.0.2:5000', 'node-c=http://10.0.0.3:5000'];

describe('Kubernetes agent source (fake API server only: no cluster here)', () => {
  let server: FakeApiServer;
  let started: Followed[] = [];
  const run = (portName?: string): Followed => {
    const f = follow(server, portName);
    started.push(f);
    return f;
  };

  // Each test: a fresh API server holding two slices of the Service (three ready agents).
  beforeEach(async () => {
    server = new FakeApiServer(NS, SVC);
    await server.up();
    server.apply('ADDED', server.slice('wirescope-a', [ep('10.0.0.3', 'node-c'), ep('10.0.0.1', 'node-a')]));
    server.apply(
      'ADDED',
      server.slice('wirescope-b', [ep('10.0.0.2', 'node-b'), ep('10.0.0.9', 'node-x', false)]),
    );
  });
  afterEach(async () => {
    for (const f of started) f.source.stop();
    started = [];
    await server.close();
  });

  test('refuses option values that are not Kubernetes names', () => {
    assert.throws(() => createKubernetesAgentSource({ namespace: 'Bad NS', service: SVC }), /namespace/);
    assert.throws(() => createKubernetesAgentSource({ namespace: NS, service: 'a/b' }), /Service/);
    assert.throws(() =>
      createKubernetesAgentSource({ namespace: NS, service: SVC, portName: 'x'.repeat(16) }),
    );
    const s = createKubernetesAgentSource({ namespace: NS, service: SVC });
    assert.match(s.description, /wirescope\/wirescope/);
  });

  test('no usable Kubernetes configuration: one line, retried, nothing given', async () => {
    process.env.KUBECONFIG = `${server.kubeconfig}.missing`;
    const source = createKubernetesAgentSource({ namespace: NS, service: SVC });
    const errors: string[] = [];
    const changes: unknown[] = [];
    source.start(
      (t) => changes.push(t),
      (e) => errors.push(e),
    );
    try {
      await eventually('two attempts said', () => errors.length >= 2, WAIT);
      assert.match(errors[0] ?? '', /^Kubernetes configuration: .*missing/);
      oneLine(errors);
      assert.deepEqual(changes, []);
    } finally {
      source.stop();
    }
    // Nothing at all (no KUBECONFIG, no ~/.kube/config, not in a pod): said as such,
    // not as the library's fallback to an anonymous http://localhost:8080.
    const home = process.env.HOME;
    delete process.env.KUBECONFIG;
    process.env.HOME = server.emptyDir;
    const none = createKubernetesAgentSource({ namespace: NS, service: SVC });
    const said: string[] = [];
    try {
      none.start(
        () => {},
        (e) => said.push(e),
      );
      await eventually('the missing configuration said', () => said[0], WAIT);
      assert.match(said[0] ?? '', /^Kubernetes configuration: none found/);
    } finally {
      none.stop();
      process.env.HOME = home;
    }
  });

  test('the first list, in pages over several slices: ready endpoints only, named by node, sorted', async () => {
    server.apply(
      'ADDED',
      server.slice('wirescope-c', [ep('fd00::5', 'node-v6', undefined)], { addressType: 'IPv6' }),
    );
    // The controller moving an endpoint between slices lists it twice for a moment: one agent.
    server.apply('ADDED', server.slice('wirescope-d', [ep('10.0.0.1', 'node-a')]));
    const f = run();
    await until(f, [...BASE, 'node-v6=http://[fd00::5]:5000'], 'the four ready agents of four slices');
    assert.equal(f.changes.length, 1, 'one onChange for the first list');
    const lists = server.requests.filter((r) => !r.watch);
    assert.ok(lists.length >= 2, 'the list came in pages (pageSize 2, four slices)');
    assert.ok(
      server.requests.every((r) => r.authorized),
      'every request carried the bearer token',
    );
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    const w = server.requests.filter((r) => r.watch).at(-1);
    assert.equal(w?.query.get('allowWatchBookmarks'), 'true');
    assert.ok(w?.query.get('resourceVersion'), 'the watch starts at the list resourceVersion');
    assert.deepEqual(f.errors, []);
  });

  test('an empty Service is said once (an empty set), then its agents as they come', async () => {
    server.apply('DELETED', server.slice('wirescope-a', []));
    server.apply('DELETED', server.slice('wirescope-b', []));
    const f = run();
    await eventually('the empty first set', () => f.changes.length === 1, WAIT);
    assert.deepEqual(f.changes[0], []);
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    server.apply('ADDED', server.slice('wirescope-a', [ep('10.0.0.1', 'node-a')]));
    await until(f, ['node-a=http://10.0.0.1:5000'], 'node-a added');
  });

  test('watch events: added, not ready, deleted; onChange only when the set changes', async () => {
    const f = run();
    await until(f, BASE, 'the agents of the list');
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    server.apply('ADDED', server.slice('wirescope-d', [ep('10.0.0.4', 'node-d')]));
    await until(f, [...BASE, 'node-d=http://10.0.0.4:5000'], 'node-d added');
    const n = f.changes.length;
    // A change that leaves the set alone (an annotation, a bookmark) gives no onChange.
    const same = server.slice('wirescope-d', [ep('10.0.0.4', 'node-d')]);
    (same.metadata as Record<string, unknown>).annotations = { touched: 'yes' };
    server.apply('MODIFIED', same);
    server.bookmark();
    // node-b's pod stops being ready, then slice d goes away.
    server.apply('MODIFIED', server.slice('wirescope-b', [ep('10.0.0.2', 'node-b', false)]));
    await until(
      f,
      ['node-a=http://10.0.0.1:5000', 'node-c=http://10.0.0.3:5000', 'node-d=http://10.0.0.4:5000'],
      'node-b not ready',
    );
    assert.equal(f.changes.length, n + 1, 'the unchanged MODIFIED and the bookmark gave no onChange');
    server.apply('DELETED', server.slice('wirescope-d', []));
    await until(f, ['node-a=http://10.0.0.1:5000', 'node-c=http://10.0.0.3:5000'], 'slice d deleted');
    assert.deepEqual(f.errors, []);
  });

  test('a dropped watch resumes from its resourceVersion without a new list', async () => {
    const f = run();
    await until(f, BASE, 'the agents of the list');
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    const lists = server.requests.filter((r) => !r.watch).length;
    const lastRv = server.resourceVersion;
    server.dropWatches();
    // Made while no watch is open: the resumed watch must replay it.
    server.apply('MODIFIED', server.slice('wirescope-b', []));
    await until(
      f,
      ['node-a=http://10.0.0.1:5000', 'node-c=http://10.0.0.3:5000'],
      'node-b gone via the resumed watch',
    );
    assert.equal(server.requests.filter((r) => !r.watch).length, lists, 'no new list');
    const resumed = server.requests.filter((r) => r.watch).at(-1);
    assert.equal(resumed?.query.get('resourceVersion'), lastRv, 'resumed at the last version seen');
    assert.deepEqual(f.errors, []);
  });

  for (const how of ['event', 'status'] as const) {
    test(`410 Gone (${how === 'event' ? 'an ERROR event' : 'an HTTP status'}) → a new list`, async () => {
      server.expiredAs = how;
      const f = run();
      await until(f, BASE, 'the agents of the list');
      await eventually('the watch to open', () => server.watching === 1, WAIT);
      const lists = server.requests.filter((r) => !r.watch).length;
      // A change the client never sees as an event, then the window moves past its version.
      server.silently('DELETED', server.slice('wirescope-b', []));
      server.expire({ quietly: how === 'status' });
      await until(
        f,
        ['node-a=http://10.0.0.1:5000', 'node-c=http://10.0.0.3:5000'],
        'node-b gone after the new list',
      );
      assert.ok(server.requests.filter((r) => !r.watch).length > lists, 'listed again');
      assert.deepEqual(f.errors, []);
    });
  }

  test('the API server down: one-line errors, retries, then the agents', async () => {
    await server.down();
    const f = run();
    await eventually('an error about the list', () => f.errors.find((e) => /^list /.test(e)), WAIT);
    assert.deepEqual(f.changes, [], 'nothing known, nothing given');
    await server.up();
    await until(f, BASE, 'the agents once the API server is back');
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    // Down again while watching: the watch fails, retries, resumes.
    const before = f.errors.length;
    await server.down();
    await eventually(
      'an error about the watch',
      () => f.errors.slice(before).find((e) => /^watch /.test(e)),
      WAIT,
    );
    await server.up();
    server.apply('MODIFIED', server.slice('wirescope-b', [ep('10.0.0.22', 'node-b')]));
    await until(
      f,
      ['node-a=http://10.0.0.1:5000', 'node-b=http://10.0.0.22:5000', 'node-c=http://10.0.0.3:5000'],
      'the change made after the API server came back',
    );
    oneLine(f.errors);
  });

  test('hostile slices: bad addresses, names and ports are left out and said in escaped lines', async () => {
    const evil = '\u001b[31mnode\nevil';
    server.apply(
      'ADDED',
      server.slice('hostile-a', [
        ep('999.1.1.1', 'bad-ip'),
        ep('fd00::1', 'v6-in-v4'),
        ep('10.0.0.1%eth0', 'zone'),
        { addresses: [42], nodeName: 'not-a-string' },
        'not an object',
      ]),
    );
    server.apply(
      'ADDED',
      server.slice('hostile-f', [
        { addresses: ['10.9.0.1'], nodeName: evil, targetRef: { name: 'pod-evil' } },
        { addresses: ['10.9.0.2'], nodeName: 'a'.repeat(254), hostname: 'HOST' },
        { addresses: ['10.9.0.3'], nodeName: 'Upper.Case' },
      ]),
    );
    server.apply(
      'ADDED',
      server.slice('hostile-b', [ep('10.9.1.1', 'port0')], { ports: [{ name: 'http', port: 0 }] }),
    );
    server.apply(
      'ADDED',
      server.slice('hostile-c', [ep('10.9.1.2', 'port7')], { ports: [{ name: 'http', port: 70000 }] }),
    );
    server.apply(
      'ADDED',
      server.slice('hostile-d', [ep('10.9.1.3', 'udp')], {
        ports: [{ name: 'http', port: 5000, protocol: 'UDP' }],
      }),
    );
    server.apply('ADDED', server.slice('hostile-e', [ep('10.9.1.4', 'fqdn')], { addressType: 'FQDN' }));
    server.apply(
      'ADDED',
      server.slice('hostile-g', [
        ep('127.0.0.1', 'loopback'),
        ep('169.254.169.254', 'metadata'),
        ep('0.0.0.0', 'unspecified'),
        ep('224.0.0.1', 'multicast'),
      ]),
    );
    server.apply(
      'ADDED',
      server.slice(
        'hostile-h',
        [ep('fe80::1', 'v6-link-local'), ep('::ffff:127.0.0.1', 'mapped'), ep('::1', 'lo6')],
        {
          addressType: 'IPv6',
        },
      ),
    );
    // Fields of the wrong type (the client library's own decoder throws on these, so
    // one such slice would stop every list): left out, the rest goes on.
    server.apply(
      'ADDED',
      server.slice('typed-a', 'a string' as unknown as unknown[], { ports: 5, addressType: 7 }),
    );
    server.apply(
      'ADDED',
      server.slice('typed-b', [{ addresses: 'x', conditions: 'y', targetRef: 3, nodeName: { a: 1 } }]),
    );
    server.apply(
      'ADDED',
      server.slice('typed-c', [ep('10.9.2.1', 'string-port')], { ports: [{ name: 'http', port: '5000' }] }),
    );
    server.apply(
      'ADDED',
      server.slice('typed-d', [ep('10.9.2.2', 'odd-ports')], {
        ports: [null, 'x', { name: 'http', port: 5000 }],
      }),
    );
    server.apply('ADDED', { ...server.slice('typed-e', [ep('10.9.2.3', 'no-name')]), metadata: 5 });
    const other = server.slice('other-service', [ep('10.9.1.5', 'other')]);
    (other.metadata as { labels: Record<string, string> }).labels['kubernetes.io/service-name'] = 'other';
    server.apply('ADDED', other);
    const f = run();
    await until(
      f,
      [
        '?=http://10.9.0.2:5000',
        '?=http://10.9.0.3:5000',
        ...BASE,
        'odd-ports=http://10.9.2.2:5000',
        'pod-evil=http://10.9.0.1:5000',
      ],
      'the valid endpoints of the hostile slices',
    );
    await eventually('the problems said', () => f.errors.some((e) => /hostile-e/.test(e)), WAIT);
    const all = f.errors.join('\n');
    assert.match(all, /typed-a: addressType "7" is not IPv4 or IPv6/);
    assert.match(all, /typed-b: address "\(undefined\)" is not an IPv4 address/);
    assert.match(all, /typed-c: port "http" number "5000" is not in 1–65535/);
    assert.match(all, /an item without a valid slice name/);
    for (const want of [
      /"999\.1\.1\.1" is not an IPv4 address/,
      /"fd00::1" is not an IPv4 address/,
      /"10\.0\.0\.1%eth0" is not an IPv4 address/,
      /nodeName "\\x1b\[31mnode\\x0aevil" is not a valid name/,
      /nodeName "a{64}…" is not a valid name/,
      /hostname "HOST" is not a valid name/,
      /nodeName "Upper\.Case" is not a valid name/,
      /hostile-b: port "http" number "0" is not in 1–65535/,
      /hostile-c: port "http" number "70000"/,
      /hostile-d: port "http" is "UDP", not TCP/,
      /hostile-e: addressType "FQDN"/,
      /"127\.0\.0\.1" cannot be a pod's/,
      /"169\.254\.169\.254" cannot be a pod's/,
      /"0\.0\.0\.0" cannot be a pod's/,
      /"224\.0\.0\.1" cannot be a pod's/,
      /"fe80::1" cannot be a pod's/,
      /"::ffff:127\.0\.0\.1" cannot be a pod's/,
      /"::1" cannot be a pod's/,
      // The list's decoder makes a string entry an empty endpoint; the watch passes it raw.
      /an endpoint is not an object|address "\(undefined\)"/,
    ])
      assert.match(all, want);
    oneLine(f.errors);

    // Written by hand, not by the controller: the token must not follow it.
    const forged = server.slice('hostile-i', [ep('10.9.1.6', 'forged')]);
    (forged.metadata as { labels: Record<string, string> }).labels['endpointslice.kubernetes.io/managed-by'] =
      'someone';
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    server.apply('ADDED', forged);
    await eventually(
      'the forged slice refused',
      () =>
        f.errors.find((e) => /hostile-i: managed by "someone", not the endpoint slice controller/.test(e)),
      WAIT,
    );
    assert.ok(!urls(f.last()).some((u) => u.includes('forged')));

    // Through the watch: lines that are not JSON, an event without a valid name, an error event.
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    const before = f.errors.length;
    server.raw('this is not json');
    server.raw(JSON.stringify({ type: 'ADDED', object: { metadata: { name: '../../etc' } } }));
    server.raw(
      JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, message: 'boom\u0007' } }),
    );
    await eventually(
      'the error event said',
      () => f.errors.slice(before).find((e) => /error event/.test(e)),
      WAIT,
    );
    assert.match(f.errors.slice(before).join('\n'), /without a valid slice name/);
    oneLine(f.errors);
  });

  test('huge endpoint lists: at most 1000 per slice and 5000 in all, the rest said', async () => {
    const big = (n: number, from: number): Record<string, unknown>[] =>
      Array.from({ length: n }, (_, k) => {
        const i = from + k;
        return ep(`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, `big-${i}`);
      });
    // 1500 in one slice (500 over the API's limit), then five more full slices: 6000 valid.
    server.apply('ADDED', server.slice('big-0', big(1500, 0)));
    for (let i = 1; i <= 5; i++)
      server.apply('ADDED', server.slice(`big-${i}`, big(1000, 1500 + (i - 1) * 1000)));
    const f = run();
    await eventually('the bounded set', () => f.last()?.length === MAX_TARGETS, WAIT);
    const all = f.errors.join('\n');
    assert.match(all, new RegExp(`500 endpoints beyond the API's limit of ${MAX_ENDPOINTS_PER_SLICE}`));
    assert.match(all, new RegExp(`endpoints beyond ${MAX_TARGETS}`));
    oneLine(f.errors);
  });

  test('stop() ends everything: no more calls, no sockets or timers left', async () => {
    const openHandles = (): string[] =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout');
    // Stopped while the first list is in flight.
    const early = run();
    early.source.stop();
    const f = run();
    await until(f, BASE, 'the agents of the list');
    await eventually('the watch to open', () => server.watching === 1, WAIT);
    const n = f.changes.length;
    f.source.stop();
    server.apply('ADDED', server.slice('after-stop', [ep('10.0.0.99', 'late')]));
    await eventually('the server to see the watch closed', () => server.watching === 0, WAIT);
    await server.down();
    await eventually('no socket or timer of the source left', openHandles, (c) => c.length === 0, WAIT);
    assert.equal(f.changes.length, n, 'no onChange after stop');
    assert.deepEqual(early.changes, []);
    assert.deepEqual(early.errors, []);
  });
});
