import assert from 'node:assert/strict';
import { hostname, networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { canonicalAllowHost, canonicalHost, crossSiteReason } from './host.js';
import { type RunningService, startService } from './server.js';
import { raw } from './testing/http.js';

const json = <T>(body: string): T => JSON.parse(body) as T;

describe('Host names, canonically', () => {
  it('compares names as browsers resolve them: case, trailing dot, IPv4 and IPv6 spellings', () => {
    assert.equal(canonicalHost('LocalHost.:5000'), 'localhost');
    assert.equal(canonicalHost('127.1'), '127.0.0.1');
    assert.equal(canonicalHost('[0:0:0:0:0:0:0:1]:80'), '::1');
    assert.equal(canonicalHost('evil.example'), 'evil.example');
    for (const bad of ['', 'a b', 'user@127.0.0.1', '127.0.0.1/x', '[::1', 'x:y:z', 'h:99999999'])
      assert.equal(canonicalHost(bad), undefined, bad);
  });

  it('takes --allow-host names and addresses without a port', () => {
    assert.equal(canonicalAllowHost('Lab.Example.'), 'lab.example');
    assert.equal(canonicalAllowHost('fd00::1'), 'fd00::1');
    assert.equal(canonicalAllowHost('[fd00::1]'), 'fd00::1');
    assert.equal(canonicalAllowHost('lab.example:5000'), undefined);
    assert.equal(canonicalAllowHost('http://lab.example'), undefined);
  });

  it('tells requests of other sites from those of the UI itself', () => {
    const host = '127.0.0.1:5000';
    const ok = (origin?: string, site?: string) =>
      crossSiteReason({ host, origin, secFetchSite: site }) === undefined;
    assert.ok(ok());
    assert.ok(ok('http://127.0.0.1:5000', 'same-origin'));
    assert.ok(ok(undefined, 'none'));
    assert.ok(!ok('http://evil.example'));
    assert.ok(!ok('http://127.0.0.1:5001'), 'another port is another origin');
    assert.ok(!ok('null'));
    assert.ok(!ok(undefined, 'cross-site'));
    assert.ok(!ok(undefined, 'same-site'), 'another port of the same host is another web application');
    // Behind an https proxy that passes the Host on.
    assert.equal(
      crossSiteReason({ host: 'scope.example', origin: 'https://scope.example', secFetchSite: undefined }),
      undefined,
    );
  });
});

describe('DNS rebinding: the service answers only to its own names', () => {
  let svc: RunningService;
  let port: number;
  before(async () => {
    svc = await startService({
      listen: { host: '127.0.0.1', port: 0 },
      engines: false,
      watch: false,
      allowHosts: ['scope.lab.example'],
    });
    port = svc.address.port;
  });
  after(async () => {
    await svc?.close();
  });

  it('refuses a forged Host with a 421 problem document, on the API and the UI', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
      for (const path of ['/json', '/api/events', '/healthz', '/']) {
        const r = await raw(svc.url, path, { headers: { host } });
        assert.equal(r.status, 421, `${host} ${path}`);
        assert.equal(r.headers['content-type'], 'application/problem+json');
        const p = json<{ status: number; type: string; detail: string }>(r.body);
        assert.equal(p.status, 421);
        assert.match(p.type, /misdirected-request$/);
        assert.match(p.detail, /--allow-host/);
        assert.doesNotMatch(r.body, /network-namespaces|"networks"/);
      }
    }
  });

  it('serves loopback names, the listen address and --allow-host names, with or without a port', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      `localhost:${port}`,
      'localhost',
      `[::1]:${port}`,
      'scope.lab.example',
      `scope.lab.example.:${port}`,
      // A port forward (ssh -L 8080:127.0.0.1:PORT) keeps the name and changes the port.
      'localhost:8080',
    ]) {
      const r = await raw(svc.url, '/healthz', { headers: { host } });
      assert.equal(r.status, 200, host);
    }
    const d = await raw(svc.url, '/json', { headers: { host: `scope.lab.example:${port}` } });
    assert.equal(d.status, 200);
    assert.ok(json<{ 'network-namespaces': unknown[] }>(d.body)['network-namespaces'].length > 0);
  });

  it('refuses API requests from other sites, and lets a link to the UI through', async () => {
    const cases: [string, Record<string, string>][] = [
      ['/json', { origin: 'http://evil.example' }],
      ['/json?fresh=1', { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'image' }],
      ['/api/discovery', { origin: `http://localhost:${port}` }],
      ['/api/events', { origin: 'null' }],
      ['/healthz', { 'sec-fetch-site': 'same-site' }],
    ];
    const before = json<{ discoveries: number }>((await raw(svc.url, '/healthz')).body).discoveries;
    for (const [path, headers] of cases) {
      const r = await raw(svc.url, path, { headers });
      assert.equal(r.status, 403, `${path} ${JSON.stringify(headers)}`);
      assert.match(json<{ type: string }>(r.body).type, /cross-site$/);
    }
    assert.equal(
      json<{ discoveries: number }>((await raw(svc.url, '/healthz')).body).discoveries,
      before,
      'a refused ?fresh=1 ran no discovery',
    );
    const own = await raw(svc.url, '/api/openapi.json', {
      headers: { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(own.status, 200);
    const typed = await raw(svc.url, '/healthz', { headers: { 'sec-fetch-site': 'none' } });
    assert.equal(typed.status, 200, 'an address typed into the browser');
    const link = await raw(svc.url, '/', { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(link.status, 200, 'the UI itself may be opened from a link elsewhere');
  });
});

describe('DNS rebinding, listening on every interface', () => {
  it("answers to this host's addresses and name and to --allow-host names, not to other names", async () => {
    const svc = await startService({
      listen: { host: '0.0.0.0', port: 0 },
      engines: false,
      watch: false,
      allowHosts: ['203.0.113.7'],
    });
    try {
      const port = svc.address.port;
      const own = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      for (const host of [...own, hostname(), '203.0.113.7', 'localhost']) {
        const r = await raw(`http://127.0.0.1:${port}`, '/healthz', { headers: { host: `${host}:${port}` } });
        assert.equal(r.status, 200, host);
      }
      for (const host of ['evil.example', '203.0.113.8']) {
        const r = await raw(`http://127.0.0.1:${port}`, '/healthz', { headers: { host: `${host}:${port}` } });
        assert.equal(r.status, 421, host);
      }
    } finally {
      await svc.close();
    }
  });
});
