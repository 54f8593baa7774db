import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Discovery, NetworkNamespace } from '../model/types.js';
import { eventually } from '../testing/eventually.js';
import type { ChangeEvent } from './contract.js';
import { type RunningService, startService } from './server.js';
import { raw } from './testing/http.js';
import { openEvents } from './testing/sse.js';
import { buildTopology, type Topology } from './testing/topology.js';

const LOOP = { host: '127.0.0.1', port: 0 };
const json = <T>(body: string): T => JSON.parse(body) as T;

describe('discovery service API on a real topology (bridge, veths, namespaces)', () => {
  let topo: Topology;
  let svc: RunningService;

  before(async () => {
    topo = buildTopology();
    svc = await startService({ listen: LOOP, engines: false });
  });
  after(async () => {
    // Close first: the watcher's netlink sockets hold the namespaces until then.
    await svc?.close();
    topo?.destroy();
  });

  it('serves the native discovery with the test namespaces, their addresses and the veth wires to the bridge', async () => {
    const r = await raw(svc.url, '/api/discovery');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const d = json<Discovery>(r.body);
    const a = d.networks[String(topo.ns.a)];
    assert.ok(a, 'netns a is in the discovery');
    const eth0 = a.interfaces.find((i) => i.name === 'eth0')!;
    assert.deepEqual(
      eth0.addresses.filter((x) => x.family === 'inet').map((x) => `${x.address}/${x.prefixlen}`),
      [`${topo.net}.2/24`],
    );
    const peer = eth0.veth?.peer ?? eth0.link;
    assert.ok(peer, 'eth0 has a resolved veth peer');
    const host = Object.values(d.networks).find((n) => n.ino === peer.netns)!;
    const hostSide = host.interfaces.find((i) => i.index === peer.index)!;
    assert.equal(hostSide.name, `${topo.prefix}va`);
    const bridge = host.interfaces.find((i) => i.name === topo.bridge)!;
    assert.deepEqual(hostSide.master, { netns: host.ino, index: bridge.index });
  });

  it('serves one network namespace, and problem documents for unknown or malformed ones', async () => {
    const r = await raw(svc.url, `/api/netns/${topo.ns.b}`);
    assert.equal(r.status, 200);
    const b = json<NetworkNamespace>(r.body);
    assert.equal(b.ino, topo.ns.b);
    assert.equal(b.interfaces.find((i) => i.name === 'eth1')?.mtu, 1400);
    const missing = await raw(svc.url, '/api/netns/1');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'application/problem+json');
    const p = json<{ type: string; title: string; status: number; detail: string }>(missing.body);
    assert.equal(p.status, 404);
    assert.match(p.detail, /no network namespace with inode 1/);
    const bad = await raw(svc.url, '/api/netns/abc');
    assert.equal(bad.status, 400);
    assert.equal(json<{ status: number }>(bad.body).status, 400);
    const ct = await raw(svc.url, '/api/containers/does-not-exist');
    assert.equal(ct.status, 404);
    assert.equal(ct.headers['content-type'], 'application/problem+json');
  });

  it('serves Ghostwire-v1 JSON at /json and capture targets at /mobyshark', async () => {
    const r = await raw(svc.url, '/json?fresh=1');
    assert.equal(r.status, 200);
    const v1 = json<{
      'network-namespaces': { netnsid: number; 'network-interfaces': { name: string }[] }[];
    }>(r.body);
    const a = v1['network-namespaces'].find((n) => n.netnsid === topo.ns.a);
    assert.ok(a, 'netns a is in the v1 document');
    assert.ok(a['network-interfaces'].some((i) => i.name === 'eth1'));
    const m = await raw(svc.url, '/mobyshark?fresh=1');
    assert.equal(m.status, 200);
    const targets = json<{ containers: { netns: number; type: string; 'network-interfaces': string[] }[] }>(
      m.body,
    ).containers;
    const b = targets.find((t) => t.netns === topo.ns.b);
    assert.equal(b?.type, 'bindmount');
    // Capture targets list interfaces that are not DOWN: eth0 is up (a bridge port that is up).
    assert.ok(b?.['network-interfaces'].includes('eth0'));
  });

  it('answers 404 problem documents for unknown paths, API or not', async () => {
    for (const path of ['/no/such/thing', '/api/nothing', '/api/netns/']) {
      const r = await raw(svc.url, path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['content-type'], 'application/problem+json', path);
      assert.equal(json<{ status: number }>(r.body).status, 404);
    }
  });

  it('is read-only: every method but GET and HEAD gets 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const r = await raw(svc.url, '/api/discovery', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
      assert.equal(r.headers['content-type'], 'application/problem+json');
    }
    const head = await raw(svc.url, '/api/discovery', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('keeps static serving inside the UI folder, whatever the encoding of ".."', async () => {
    const attempts = [
      '/../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/..%00/package.json',
      '/%c0%ae%c0%ae/package.json',
    ];
    for (const path of attempts) {
      const r = await raw(svc.url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /"name": "wirescope"|root:x:0/, path);
    }
    const index = await raw(svc.url, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /<div id="app">/);
  });

  it('sends no CORS headers, and refuses API requests from another origin', async () => {
    const r = await raw(svc.url, '/api/openapi.json', { headers: { origin: 'http://evil.example' } });
    assert.equal(r.status, 403);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    const own = await raw(svc.url, '/api/openapi.json', { headers: { origin: svc.url } });
    assert.equal(own.status, 200);
    assert.equal(own.headers['access-control-allow-origin'], undefined);
  });

  it('describes itself: OpenAPI 3.1 and the native JSON schema', async () => {
    const o = json<{ openapi: string; paths: Record<string, unknown> }>(
      (await raw(svc.url, '/api/openapi.json')).body,
    );
    assert.equal(o.openapi, '3.1.0');
    for (const p of ['/json', '/mobyshark', '/api/discovery', '/api/netns/{ino}', '/api/events', '/healthz'])
      assert.ok(o.paths[p], p);
    const s = json<{ $defs: Record<string, unknown>; properties: Record<string, unknown> }>(
      (await raw(svc.url, '/api/schema')).body,
    );
    assert.ok(s.$defs.Interface && s.properties.networks);
  });

  it('answers 304 to a revalidation of an unchanged result', async () => {
    const r = await raw(svc.url, '/api/discovery');
    const etag = String(r.headers.etag);
    const again = await raw(svc.url, '/api/discovery', { headers: { 'if-none-match': etag } });
    // Another test's namespaces may have changed in between; then a new generation is correct too.
    if (again.headers.etag === etag) assert.equal(again.status, 304);
    else assert.equal(again.status, 200);
  });

  it('notices a new namespace (netlink/namespace watch) and streams the change as a server-sent event', async () => {
    const events = await openEvents(svc.url);
    try {
      assert.equal(events.status, 200);
      assert.match(events.contentType, /text\/event-stream/);
      await events.hello();
      const ino = topo.addLeaf('c', 4);
      // The census tells first (no patch); the event of the discovery that shows it follows.
      const text = await eventually(
        `a discovery's change event adding netns ${ino}`,
        async () =>
          events.changes<ChangeEvent>().some((e) => !e.census && e.changes.namespaces.added.includes(ino))
            ? events.text()
            : undefined,
        { timeoutMs: 20000, intervalMs: 250 },
      );
      assert.match(text, /event: change/);
      const d = json<Discovery>((await raw(svc.url, '/api/discovery')).body);
      assert.ok(d.networks[String(ino)], 'the new namespace is in the next result without ?fresh');
    } finally {
      await events.close();
    }
  });
});

describe('discovery sharing and reuse', () => {
  it('runs one discovery for twenty simultaneous requests, and reuses it while nothing changed', async () => {
    const svc = await startService({ listen: LOOP, engines: false, watch: false, maxAgeMs: 600_000 });
    try {
      const rs = await Promise.all(Array.from({ length: 20 }, () => raw(svc.url, '/api/discovery')));
      assert.ok(rs.every((r) => r.status === 200));
      assert.equal(new Set(rs.map((r) => r.headers['x-wirescope-generation'])).size, 1);
      assert.equal(new Set(rs.map((r) => r.body)).size, 1, 'every client got the same document');
      const health = json<{ discoveries: number }>((await raw(svc.url, '/healthz')).body);
      assert.equal(health.discoveries, 1);
      const later = await raw(svc.url, '/json');
      assert.equal(later.headers['x-wirescope-generation'], rs[0]!.headers['x-wirescope-generation']);
      assert.equal(json<{ discoveries: number }>((await raw(svc.url, '/healthz')).body).discoveries, 1);
      const fresh = await raw(svc.url, '/api/discovery?fresh=1');
      assert.notEqual(fresh.headers['x-wirescope-generation'], rs[0]!.headers['x-wirescope-generation']);
    } finally {
      await svc.close();
    }
  });
});

describe('forced refreshes', () => {
  it('coalesces fifty simultaneous ?fresh=1 into the discovery in flight and at most one after it', async () => {
    const svc = await startService({ listen: LOOP, engines: false, watch: false, maxAgeMs: 600_000 });
    try {
      const discoveries = async () =>
        json<{ discoveries: number }>((await raw(svc.url, '/healthz')).body).discoveries;
      assert.equal((await raw(svc.url, '/api/discovery')).status, 200);
      const before = await discoveries();
      const rs = await Promise.all(Array.from({ length: 50 }, () => raw(svc.url, '/json?fresh=1')));
      assert.deepEqual(new Set(rs.map((r) => r.status)), new Set([200]));
      const ran = (await discoveries()) - before;
      assert.ok(ran >= 1 && ran <= 2, `discoveries for 50 forced refreshes: ${ran}`);
      // Every answer is newer than the result that existed before the burst.
      const generations = rs.map((r) => Number(r.headers['x-wirescope-generation']));
      assert.ok(
        generations.every((g) => g > before),
        `generations ${[...new Set(generations)]} after ${before}`,
      );
    } finally {
      await svc.close();
    }
  });
});

describe('security headers and request limits', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService({ listen: LOOP, engines: false, watch: false });
  });
  after(async () => {
    await svc?.close();
  });

  it('sends a Content-Security-Policy and the other protective headers with every answer', async () => {
    for (const [path, method] of [
      ['/', 'GET'],
      ['/api/discovery', 'GET'],
      ['/api/discovery', 'HEAD'],
      ['/api/nothing', 'GET'],
      ['/json', 'DELETE'],
    ] as const) {
      const r = await raw(svc.url, path, { method });
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/, `${method} ${path}`);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['x-frame-options'], 'DENY');
      if (path !== '/') assert.equal(r.headers['cache-control'], 'no-store', `${method} ${path}`);
    }
    // The UI's own files may be revalidated (index) or kept (content-hashed assets).
    assert.equal((await raw(svc.url, '/')).headers['cache-control'], 'no-cache');
  });

  it('refuses request bodies and oversized headers', async () => {
    const body = await raw(svc.url, '/api/discovery', {
      headers: { 'content-length': '1000' },
      body: 'x'.repeat(1000),
    });
    assert.equal(body.status, 413);
    assert.equal(body.headers['content-type'], 'application/problem+json');
    const chunked = await raw(svc.url, '/json', {
      headers: { 'transfer-encoding': 'chunked' },
      body: 'abc',
    });
    assert.equal(chunked.status, 413);
    const big = await raw(svc.url, '/healthz', { headers: { 'x-filler': 'a'.repeat(20_000) } });
    assert.equal(big.status, 431);
    assert.equal((await raw(svc.url, '/healthz')).status, 200, 'still serving');
  });

  it('cuts off a client that trickles its headers (slowloris)', async () => {
    const s = connect(svc.address.port, '127.0.0.1');
    const t0 = performance.now();
    let answer = '';
    s.on('data', (b: Buffer) => {
      answer += b.toString();
    });
    s.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One more header line every second, never the blank line that ends them.
    const trickle = setInterval(() => s.write(`X-Slow-${Math.floor(performance.now())}: 1\r\n`), 1000);
    try {
      await Promise.race([
        closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('still connected after 30 s')), 30_000)),
      ]);
    } finally {
      clearInterval(trickle);
      s.destroy();
    }
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds >= 9 && seconds < 15, `cut off after ${seconds.toFixed(1)} s`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });
});

describe('bearer token', () => {
  it('refuses the API without the token, accepts the header, leaves health and UI open', async () => {
    const token = `t-${Math.random().toString(36).slice(2)}`;
    const svc = await startService({ listen: LOOP, engines: false, watch: false, token });
    try {
      for (const path of ['/api/discovery', '/json', '/mobyshark', '/api/events', '/api/netns/1']) {
        const r = await raw(svc.url, path);
        assert.equal(r.status, 401, path);
        assert.equal(r.headers['www-authenticate'], 'Bearer realm="wirescope"');
        assert.equal(r.headers['content-type'], 'application/problem+json');
      }
      // Longer, shorter, and of the same length: all refused alike.
      for (const wrong of [`${token}x`, token.slice(1), `${token.slice(0, -1)}#`, '']) {
        const r = await raw(svc.url, '/api/openapi.json', { headers: { authorization: `Bearer ${wrong}` } });
        assert.equal(r.status, 401, wrong);
      }
      const ok = await raw(svc.url, '/api/openapi.json', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.equal((await raw(svc.url, '/healthz')).status, 200);
      assert.equal((await raw(svc.url, '/')).status, 200);
    } finally {
      await svc.close();
    }
  });

  it('takes access_token in the URL on the event stream only (EventSource cannot send headers)', async () => {
    const token = `t-${Math.random().toString(36).slice(2)}`;
    const svc = await startService({ listen: LOOP, engines: false, watch: false, token });
    try {
      for (const path of ['/json', '/mobyshark', '/api/discovery', '/api/openapi.json']) {
        const r = await raw(svc.url, `${path}?access_token=${token}`);
        assert.equal(r.status, 401, path);
        assert.match(json<{ detail: string }>(r.body).detail, /accepted on \/api\/events only/);
      }
      const events = await openEvents(svc.url, `?access_token=${token}`);
      try {
        assert.equal(events.status, 200);
        await events.hello();
      } finally {
        await events.close();
      }
      const wrong = await raw(svc.url, `/api/events?access_token=${token}x`);
      assert.equal(wrong.status, 401);
    } finally {
      await svc.close();
    }
  });
});

describe('shutting down', () => {
  // Netlink sockets are plain fds of the process: a discovery thread terminated while holding
  // them would leave one set per network namespace open for the life of the process.
  const netlinkFds = () => {
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  };

  it('closes every socket the discovery worker cached for the namespaces it read', async () => {
    const topo = buildTopology();
    try {
      const before = netlinkFds();
      const svc = await startService({ listen: LOOP, engines: false, watch: false });
      let namespaces = 0;
      try {
        const r = await raw(svc.url, '/api/discovery');
        assert.equal(r.status, 200);
        const networks = json<Discovery>(r.body).networks;
        assert.ok(
          networks[String(topo.ns.a)] && networks[String(topo.ns.b)],
          'the test namespaces were read',
        );
        namespaces = Object.keys(networks).length;
        // Route, sock_diag and monitor sockets stay open per namespace while the service runs.
        assert.ok(netlinkFds() >= before + 2 * namespaces, 'the worker holds sockets per namespace');
      } finally {
        await svc.close();
      }
      // The host and the topology's two namespaces at least; others may run alongside.
      assert.ok(namespaces >= 3, `namespaces read: ${namespaces}`);
      assert.ok(netlinkFds() <= before + 2, `sockets left open: ${netlinkFds() - before}`);
    } finally {
      topo.destroy();
    }
  });
});
