/**
 * The OpenAPI document (/api/openapi.json) against the service it describes:
 * structurally valid (every reference resolves, every schema compiles as JSON
 * Schema 2020-12), exactly the paths the app routes (read from the hono app
 * itself, not from a list here), and real answers of a running service — the
 * drift report, the events, problems — valid against the schemas the
 * document gives for them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { eventually } from '../testing/eventually.js';
import { createApp } from './app.js';
import { DiscoveryCache } from './cache.js';
import { type RunningService, startService } from './server.js';
import { raw } from './testing/http.js';
import { type DriftLab, driftLab, dropDriftLab, ipIn } from './testing/lab.js';
import { openEvents } from './testing/sse.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
  components: { schemas: Record<string, Json> };
}

const LOOP = { host: '127.0.0.1', port: 0 };
const DOC_ID = 'urn:wirescope:test:openapi';

/** RFC 6901: a JSON pointer's tokens, escaped. */
const pointer = (...tokens: string[]): string =>
  `#/${tokens.map((t) => t.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

function resolvePointer(doc: Json, ref: string): Json | undefined {
  let node: Json | undefined = doc;
  for (const raw of ref.slice(2).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(token)] : node[token];
  }
  return node;
}

/** Every `$ref` of the document, and the JSON pointers of every schema a path uses. */
function walk(node: Json, at: string[], refs: string[], schemas: string[]): void {
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') refs.push(v);
    // Parameters' and media types' schemas, and the events of a stream (x-events: name → schema).
    if (at[0] === 'paths' && k === 'schema') schemas.push(pointer(...at, k));
    if (at[0] === 'paths' && at.at(-1) === 'x-events') schemas.push(pointer(...at, k));
    walk(v, [...at, k], refs, schemas);
  }
}

/** The GET routes the app serves, as OpenAPI paths (`:ino` → `{ino}`), in the order hono matches them. */
function servedRoutes(): string[] {
  const cache = new DiscoveryCache(() => Promise.reject(new Error('no discovery in this test')));
  const { app } = createApp({ cache, verify: true, token: 'unused' });
  return app.routes.filter((r) => r.method === 'GET').map((r) => r.path.replace(/:(\w+)/g, '{$1}'));
}

describe('the OpenAPI document', () => {
  let lab: DriftLab | undefined;
  let svc: RunningService | undefined;
  let doc: OpenApi;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  /** The validator of the schema at a pointer into the document. */
  const validator = (at: string): ValidateFunction => {
    const v = ajv.getSchema(`${DOC_ID}${at}`);
    assert.ok(v, `no schema at ${at}`);
    return v;
  };
  const assertValid = (at: string, value: unknown, what: string) => {
    const v = validator(at);
    assert.ok(
      v(value),
      `${what} against ${at}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 2000)}`,
    );
  };

  before(async () => {
    lab = await driftLab();
    svc = await startService({ listen: LOOP, engines: false, verify: [lab.file] });
    const r = await raw(svc.url, '/api/openapi.json');
    assert.equal(r.status, 200);
    doc = JSON.parse(r.body) as OpenApi;
    // The document is not a schema: added whole, without its own validation, its schemas found by pointer.
    ajv.addSchema({ ...doc, $id: DOC_ID }, undefined, undefined, false);
  });
  after(async () => {
    await svc?.close();
    await dropDriftLab(lab);
  });

  it('resolves every reference and compiles every schema', () => {
    const refs: string[] = [];
    const schemas: string[] = [];
    walk(doc as unknown as Json, [], refs, schemas);
    assert.ok(refs.length > 50 && schemas.length > 20, `${refs.length} refs, ${schemas.length} schemas`);
    for (const ref of new Set(refs)) {
      assert.match(ref, /^#\/components\//, ref);
      assert.notEqual(resolvePointer(doc as unknown as Json, ref), undefined, `unresolved ${ref}`);
    }
    for (const name of Object.keys(doc.components.schemas)) validator(pointer('components', 'schemas', name));
    for (const at of schemas) validator(at);
  });

  it('describes exactly the routes the app serves, all of them GET', () => {
    const routes = servedRoutes();
    const concrete = routes.filter((p) => !p.includes('*'));
    assert.deepEqual([...new Set(concrete)].sort(), Object.keys(doc.paths).sort());
    for (const [path, item] of Object.entries(doc.paths)) assert.deepEqual(Object.keys(item), ['get'], path);
    // The wildcards (the /discover/ alias, the /api/ 404, the web UI) are catch-alls: no route after one
    // is one it would take first.
    routes.forEach((w, i) => {
      if (!w.includes('*')) return;
      const prefix = w.slice(0, w.indexOf('*'));
      for (const later of routes.slice(i + 1))
        assert.ok(later.includes('*') || !later.startsWith(prefix), `${w} shadows ${later}`);
    });
  });

  it('gives the schemas of real answers: the drift report, problems, health, version, a namespace', async () => {
    const content = (path: string, status: string, type: string) =>
      pointer('paths', path, 'get', 'responses', status, 'content', type, 'schema');
    const verify = await raw(svc!.url, '/api/verify?fresh=1');
    assertValid(content('/api/verify', '200', 'application/json'), JSON.parse(verify.body), '/api/verify');
    const bad = await raw(svc!.url, '/api/netns/abc');
    assert.equal(bad.status, 400);
    assertValid(
      content('/api/netns/{ino}', '400', 'application/problem+json'),
      JSON.parse(bad.body),
      'a problem',
    );
    const health = await raw(svc!.url, '/healthz');
    assertValid(content('/healthz', '200', 'application/json'), JSON.parse(health.body), '/healthz');
    const version = await raw(svc!.url, '/version');
    assertValid(content('/version', '200', 'application/json'), JSON.parse(version.body), '/version');
    const ino = (JSON.parse(verify.body) as { labs: { nodes: Record<string, number> }[] }).labs[0]?.nodes.a;
    const netns = await raw(svc!.url, `/api/netns/${ino}`);
    assert.equal(netns.status, 200, netns.body);
    assertValid(
      content('/api/netns/{ino}', '200', 'application/json'),
      JSON.parse(netns.body),
      'a namespace',
    );
  });

  it('gives the schemas of real events, and of the drift report after a change', async () => {
    const events = pointer(
      'paths',
      '/api/events',
      'get',
      'responses',
      '200',
      'content',
      'text/event-stream',
      'x-events',
    );
    const stream = await openEvents(svc!.url);
    try {
      await stream.hello();
      const hello = /event: hello\ndata: (.*)\n/.exec(stream.text())?.[1];
      assertValid(`${events}/hello`, JSON.parse(hello ?? 'null'), 'the hello event');
      // A veth deleted (missing, with ghosts), a bridge added (extra): a change event with a drift summary.
      ipIn(lab!.name, 'a', 'link', 'del', 'eth2');
      ipIn(lab!.name, 'c', 'link', 'add', 'x0', 'type', 'bridge');
      const change = await eventually(
        'a change event with drift',
        () => stream.changes<{ drift?: { clean: boolean } }>().find((e) => e.drift?.clean === false),
        { timeoutMs: 20_000 },
      );
      assertValid(`${events}/change`, change, 'the change event');
    } finally {
      await stream.close();
    }
    const report = JSON.parse((await raw(svc!.url, '/api/verify?fresh=1')).body) as {
      labs: { drift: { ghosts?: unknown[] }[] }[];
    };
    assert.ok(
      report.labs[0]?.drift.some((d) => d.ghosts?.length),
      'a drift with ghosts',
    );
    assertValid(
      pointer('paths', '/api/verify', 'get', 'responses', '200', 'content', 'application/json', 'schema'),
      report,
      '/api/verify with drift',
    );
  });
});
