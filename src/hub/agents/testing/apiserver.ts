/**
 * A fake Kubernetes API server for the EndpointSlice list and watch, on 127.0.0.1,
 * speaking the real wire format (Kubernetes API concepts, "Efficient detection of
 * changes"): a list answers an EndpointSliceList with `metadata.resourceVersion` and
 * `continue` pages; a watch (`?watch=true`) answers a chunked stream of JSON lines
 * `{"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":…}` from the
 * requested resourceVersion on; a resourceVersion older than the kept window is
 * answered with an ERROR event holding a 410 Status (or an HTTP 410). Test helper:
 * there is no cluster on the test machine, so the Kubernetes path is tested only
 * against this.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TOKEN = 'fake-service-account-token';

type Obj = Record<string, unknown>;

/** One request the server saw: its path and query. */
export interface SeenRequest {
  readonly watch: boolean;
  readonly query: URLSearchParams;
  readonly authorized: boolean;
}

export class FakeApiServer {
  private server: Server | undefined;
  private port = 0;
  private rv = 100;
  /** Everything at or below this resourceVersion is "too old" for a watch. */
  private oldest = 0;
  private readonly slices = new Map<string, Obj>();
  private readonly history: { rv: number; line: string }[] = [];
  private readonly watchers = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  readonly requests: SeenRequest[] = [];
  /** Items per page when the client sends no smaller `limit`. */
  pageSize = 2;
  /** How a too-old watch is refused: an ERROR event (what servers do) or an HTTP 410. */
  expiredAs: 'event' | 'status' = 'event';
  private readonly dir = mkdtempSync(join(tmpdir(), 'k8s-fake-'));
  readonly kubeconfig = join(this.dir, 'kubeconfig');
  /** An empty directory (a HOME without ~/.kube/config). */
  get emptyDir(): string {
    mkdirSync(join(this.dir, 'empty'), { recursive: true });
    return join(this.dir, 'empty');
  }

  constructor(
    readonly namespace: string,
    readonly service: string,
  ) {}

  /** Listens (again, on the same port after `down()`), and writes the kubeconfig. */
  async up(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    // Plain HTTP needs insecure-skip-tls-verify in the client library (it refuses
    // http otherwise); the token is checked like a service account's.
    writeFileSync(
      this.kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: http://127.0.0.1:${this.port}
    insecure-skip-tls-verify: true
users:
- name: fake
  user:
    token: ${TOKEN}
contexts:
- name: fake
  context: {cluster: fake, user: fake, namespace: ${this.namespace}}
current-context: fake
`,
    );
  }

  /** Stops listening and cuts every connection (the API server is gone). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Open watch streams now. */
  get watching(): number {
    return this.watchers.size;
  }

  /** A slice of the Service as the endpoint slice controller writes it. */
  slice(name: string, endpoints: unknown[], extra: Obj = {}): Obj {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        namespace: this.namespace,
        labels: {
          'kubernetes.io/service-name': this.service,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 5000, protocol: 'TCP' }],
      endpoints,
      ...extra,
    };
  }

  /** Stores (ADDED/MODIFIED) or removes (DELETED) a slice and tells the open watches. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', slice: Obj): void {
    const meta = slice.metadata as Obj;
    const object = { ...slice, metadata: { ...meta, resourceVersion: String(++this.rv) } };
    const name = String(meta.name);
    if (type === 'DELETED') this.slices.delete(name);
    else this.slices.set(name, object);
    this.emit(JSON.stringify({ type, object }));
  }

  /** The same change with no event: as if it happened in a window the watch will never replay. */
  silently(type: 'ADDED' | 'MODIFIED' | 'DELETED', slice: Obj): void {
    const meta = slice.metadata as Obj;
    const name = String(meta.name);
    if (type === 'DELETED') this.slices.delete(name);
    else this.slices.set(name, { ...slice, metadata: { ...meta, resourceVersion: String(++this.rv) } });
  }

  /** The current resourceVersion (of the last change). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** A bookmark: the current resourceVersion, no object change. */
  bookmark(): void {
    const object = {
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: { resourceVersion: String(++this.rv) },
    };
    this.emit(JSON.stringify({ type: 'BOOKMARK', object }));
  }

  /** A raw line on every open watch (hostile or odd input), kept for resumed watches too. */
  raw(line: string, rv = ++this.rv): void {
    this.emit(line, rv);
  }

  /**
   * Everything up to now leaves the watch window (etcd compaction): open watches get
   * an ERROR 410 event and end (`quietly`: they just end), and a watch from an older
   * version is refused.
   */
  expire(opts: { quietly?: boolean } = {}): void {
    this.oldest = ++this.rv;
    this.history.length = 0;
    const last = opts.quietly ? '' : `${JSON.stringify({ type: 'ERROR', object: gone(this.rv) })}\n`;
    for (const w of this.watchers) w.end(last);
    this.watchers.clear();
  }

  /** Ends every open watch cleanly (what timeoutSeconds or an API server restart does). */
  dropWatches(): void {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }

  private emit(line: string, rv = this.rv): void {
    this.history.push({ rv, line });
    for (const w of this.watchers) w.write(`${line}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const authorized = req.headers.authorization === `Bearer ${TOKEN}`;
    const watch = url.searchParams.get('watch') === 'true';
    this.requests.push({ watch, query: url.searchParams, authorized });
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const selector = url.searchParams.get('labelSelector');
    if (!authorized) json(401, status(401, 'Unauthorized', 'Unauthorized'));
    else if (url.pathname !== `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`)
      json(404, status(404, 'NotFound', `no ${url.pathname}`));
    else if (selector !== `kubernetes.io/service-name=${this.service}`)
      json(400, status(400, 'BadRequest', `unexpected labelSelector ${selector}`));
    else if (watch) this.startWatch(url.searchParams, res);
    else this.list(url.searchParams, json);
  }

  private list(q: URLSearchParams, json: (code: number, body: unknown) => void): void {
    // A list: items in name order, `continue` is the offset of the next page.
    const all = [...this.slices.values()].sort((a, b) =>
      String((a.metadata as Obj).name).localeCompare(String((b.metadata as Obj).name)),
    );
    const limit = Math.min(Number(q.get('limit') ?? this.pageSize) || this.pageSize, this.pageSize);
    const from = Number(q.get('continue') ?? 0);
    const items = all.slice(from, from + limit);
    const next = from + limit < all.length ? String(from + limit) : undefined;
    json(200, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSliceList',
      metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) },
      items,
    });
  }

  private startWatch(q: URLSearchParams, res: ServerResponse): void {
    const from = Number(q.get('resourceVersion') ?? this.rv);
    if (from < this.oldest) {
      if (this.expiredAs === 'status') {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end(JSON.stringify(gone(this.rv)));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone(this.rv) })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const h of this.history) if (h.rv > from) res.write(`${h.line}\n`);
    this.watchers.add(res);
    res.on('close', () => this.watchers.delete(res));
  }
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const gone = (rv: number): Obj =>
  status(410, 'Expired', `The resourceVersion for the provided watch is too old. Current: ${rv}`);
