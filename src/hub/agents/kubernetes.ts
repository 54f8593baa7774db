/**
 * The agents of a Kubernetes cluster: the ready endpoints of the agents' headless
 * Service, read from its EndpointSlices (discovery.k8s.io/v1) through the API
 * server with the official client library (@kubernetes/client-node).
 *
 * Why EndpointSlices: they are what the Service's DNS and kube-proxy are built from,
 * they name each endpoint's node (`nodeName`) and its readiness, and reading them
 * needs get/list/watch on one resource in one namespace (deploy/kubernetes/hub.yaml)
 * — no access to pods or nodes. The legacy Endpoints API is capped at 1000
 * addresses and deprecated since Kubernetes 1.33.
 *
 * The loop is the API's list-then-watch protocol ("Efficient detection of changes",
 * Kubernetes API concepts): list (in pages) to get the state and a resourceVersion,
 * then watch from that resourceVersion with bookmarks; a watch that ends is resumed
 * from the last resourceVersion seen, a 410 Gone (the version fell out of the
 * server's window) means list again, and other failures retry with bounded
 * exponential backoff. Only this module imports the client library (it costs
 * ~0.8 s to load); the hub CLI loads this module with `await import()`.
 */
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  ServerConfiguration,
  Watch,
} from '@kubernetes/client-node';
import { escapeTerminal } from '../../views/terminal.js';
import {
  isDns1123Label,
  isPortName,
  isServiceName,
  MAX_SLICES,
  MAX_TARGETS,
  mergeTargets,
  parseSlice,
  quote,
  resourceVersionOf,
  SERVICE_NAME_LABEL,
  type SliceTargets,
  sliceNameOf,
} from './endpointslice.js';
import type { AgentSource, AgentTarget } from './source.js';

export interface KubernetesAgentSourceOptions {
  /** The agents' namespace (deploy/kubernetes: `wirescope`). */
  namespace: string;
  /** The agents' headless Service (deploy/kubernetes: `wirescope`). */
  service: string;
  /** The Service port to reach the agents on (default `http`). */
  portName?: string;
}

/** Retry delays: the first retry after ~0.5 s, doubling to at most 30 s. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A list (one page) that takes longer than this is abandoned and retried. */
const LIST_TIMEOUT_MS = 30_000;
/** Lines of problems said for one list (one per slice), so a hostile list cannot flood the log. */
const MAX_PROBLEM_LINES = 20;
/** Items per list page (the API's `limit`); a large cluster lists in pages. */
const PAGE = 500;
/**
 * The server ends each watch after this long (`timeoutSeconds`), and it is resumed;
 * a watch still open 30 s after that is a dead connection and is dropped.
 */
const WATCH_SECONDS = 290;

/**
 * Follows the ready endpoints of `service` in `namespace`. Credentials are
 * `KubeConfig.loadFromDefault()`'s: KUBECONFIG or ~/.kube/config when set, else the
 * pod's service account (in-cluster).
 */
export function createKubernetesAgentSource(options: KubernetesAgentSourceOptions): AgentSource {
  const { namespace, service } = options;
  const portName = options.portName ?? 'http';
  if (!isDns1123Label(namespace)) throw new Error(`${quote(namespace)} is not a namespace name`);
  if (!isServiceName(service)) throw new Error(`${quote(service)} is not a Service name`);
  if (!isPortName(portName)) throw new Error(`${quote(portName)} is not a port name`);
  let follower: Follower | undefined;
  return {
    description: `kubernetes endpoints ${namespace}/${service} port ${portName}`,
    start(onChange, onError) {
      if (follower) throw new Error('this agent source is already started');
      follower = new Follower(namespace, service, portName, onChange, onError);
      follower.start();
    },
    stop() {
      follower?.stop();
    },
  };
}

class Follower {
  private stopped = false;
  /** Bumped whenever a list or watch is abandoned: callbacks of older ones are ignored. */
  private generation = 0;
  private kc: KubeConfig | undefined;
  private server: ServerConfiguration<Record<string, string>> | undefined;
  private watch: Watch | undefined;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly slices = new Map<string, SliceTargets>();
  private resourceVersion: string | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private listAbort: AbortController | undefined;
  private watchAbort: AbortController | undefined;
  private watchDeadline: NodeJS.Timeout | undefined;
  private lastKey: string | undefined;
  private readonly path: string;
  private readonly selector: string;
  private readonly what: string;

  constructor(
    namespace: string,
    private readonly service: string,
    private readonly portName: string,
    private readonly onChange: (targets: readonly AgentTarget[]) => void,
    private readonly onError: (message: string) => void,
  ) {
    // Both names are validated DNS labels: nothing to escape in the path or selector.
    this.path = `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;
    this.selector = `${SERVICE_NAME_LABEL}=${service}`;
    this.what = `endpointslices of ${namespace}/${service}`;
  }

  start(): void {
    try {
      const kc = new KubeConfig();
      kc.loadFromDefault();
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('no current cluster in the Kubernetes configuration');
      // loadFromDefault's last resort when it finds nothing: an anonymous
      // http://localhost:8080, which the library itself then refuses (plain HTTP).
      const user = kc.getCurrentUser();
      if (cluster.server === 'http://localhost:8080' && !user?.token && !user?.authProvider && !user?.exec)
        throw new Error(
          'none found (no KUBECONFIG, no ~/.kube/config, no service account token: not in a pod?)',
        );
      this.kc = kc;
      this.server = new ServerConfiguration(cluster.server, {});
      this.watch = new Watch(kc);
    } catch (e) {
      this.fail(`Kubernetes configuration: ${describe(e)}`);
      this.retry(() => this.start());
      return;
    }
    void this.list();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.timer);
    clearTimeout(this.watchDeadline);
    this.listAbort?.abort();
    this.watchAbort?.abort();
  }

  /** Lists every slice of the Service (in pages), replaces the state, then watches. */
  private async list(): Promise<void> {
    if (!this.kc || this.stopped) return;
    const gen = ++this.generation;
    const abort = new AbortController();
    this.listAbort = abort;
    const slices = new Map<string, SliceTargets>();
    const problems: string[] = [];
    let rv: string | undefined;
    try {
      let cont: string | undefined;
      do {
        const page = await this.listPage(cont, abort.signal);
        if (gen !== this.generation) return;
        if (!isStatus(page) || (page.items !== undefined && !Array.isArray(page.items)))
          throw new Error('the answer is not an EndpointSliceList');
        for (const item of Array.isArray(page.items) ? page.items : []) {
          if (slices.size >= MAX_SLICES) {
            problems.push(`slices beyond ${MAX_SLICES} ignored`);
            break;
          }
          if (sliceNameOf(item) === undefined) {
            problems.push('an item without a valid slice name');
            continue;
          }
          const s = parseSlice(item, this.service, this.portName);
          if (s) slices.set(s.name, s);
          if (s?.problems.length) problems.push(`${s.name}: ${summary(s.problems)}`);
        }
        rv = resourceVersionOf(page);
        const next = isStatus(page.metadata) ? page.metadata.continue : undefined;
        cont = typeof next === 'string' && next !== '' && next.length <= 4096 ? next : undefined;
      } while (cont !== undefined && slices.size < MAX_SLICES);
    } catch (e) {
      if (gen !== this.generation) return;
      this.fail(`list ${this.what}: ${describe(e)}`);
      this.retry(() => void this.list());
      return;
    } finally {
      if (this.listAbort === abort) this.listAbort = undefined;
    }
    if (rv === undefined) {
      this.fail(`list ${this.what}: the answer has no valid resourceVersion`);
      this.retry(() => void this.list());
      return;
    }
    this.slices.clear();
    for (const [k, v] of slices) this.slices.set(k, v);
    this.resourceVersion = rv;
    // The backoff is not reset here but by a watch that delivers: a server that
    // lists fine and refuses every watch (410 at once) is asked ever more slowly.
    // One line per slice with problems, at most MAX_PROBLEM_LINES of them a list.
    for (const p of problems.slice(0, MAX_PROBLEM_LINES)) this.fail(`${this.what}: ${p}`);
    if (problems.length > MAX_PROBLEM_LINES)
      this.fail(`${this.what}: and ${problems.length - MAX_PROBLEM_LINES} more slices with problems`);
    this.publish();
    this.startWatch();
  }

  /**
   * One page of the list, as the API server sent it (JSON, not yet trusted). The
   * request goes the client library's way (its server configuration, credentials,
   * TLS and HTTP library) but skips its model decoder, which throws on a field of an
   * unexpected type, so one odd slice would stop every list; parseSlice checks each
   * field itself.
   */
  private async listPage(cont: string | undefined, stop: AbortSignal): Promise<unknown> {
    const kc = this.kc;
    const server = this.server;
    if (!kc || !server) throw new Error('no Kubernetes configuration');
    const ctx = server.makeRequestContext(this.path, HttpMethod.GET);
    ctx.setQueryParam('labelSelector', this.selector);
    ctx.setQueryParam('limit', String(PAGE));
    if (cont !== undefined) ctx.setQueryParam('continue', cont);
    ctx.setHeaderParam('Accept', 'application/json');
    await kc.applySecurityAuthentication(ctx);
    ctx.setSignal(AbortSignal.any([stop, AbortSignal.timeout(LIST_TIMEOUT_MS)]));
    const res = await this.http.send(ctx).toPromise();
    const text = await res.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.httpStatusCode !== 200) {
      const message = isStatus(body) ? body.message : undefined;
      throw new Error(`HTTP ${res.httpStatusCode}${message !== undefined ? ` ${quote(message)}` : ''}`);
    }
    if (body === undefined) throw new Error('the answer is not JSON');
    return body;
  }

  /** Watches from the last resourceVersion; resumes, re-lists or backs off when it ends. */
  private startWatch(): void {
    const watch = this.watch;
    if (!watch || this.stopped) return;
    const gen = ++this.generation;
    let events = 0;
    const current = (): boolean => gen === this.generation && !this.stopped;
    const end = (): void => {
      this.generation++;
      clearTimeout(this.watchDeadline);
      this.watchAbort?.abort();
      this.watchAbort = undefined;
    };
    clearTimeout(this.watchDeadline);
    this.watchDeadline = setTimeout(
      () => {
        if (!current()) return;
        end();
        this.fail(`watch ${this.what}: no end after ${WATCH_SECONDS} s; reconnecting`);
        this.startWatch();
      },
      (WATCH_SECONDS + 30) * 1000,
    );
    this.watchDeadline.unref();

    /** 410 Gone: list again — at once after a watch that delivered, else after the backoff. */
    const relist = (): void => {
      if (events > 0) void this.list();
      else this.retry(() => void this.list());
    };
    const onEvent = (type: string, obj: unknown): void => {
      if (!current()) return;
      if (type === 'ERROR') {
        // A Status object; 410 (Expired/Gone): our resourceVersion left the server's window.
        const code = isStatus(obj) ? obj.code : undefined;
        end();
        if (code === 410) {
          relist();
          return;
        }
        this.fail(`watch ${this.what}: error event ${statusLine(obj)}`);
        this.retry(() => this.startWatch());
        return;
      }
      events++;
      this.backoffMs = BACKOFF_MIN_MS;
      const rv = resourceVersionOf(obj);
      if (type === 'BOOKMARK') {
        if (rv !== undefined) this.resourceVersion = rv;
        return;
      }
      if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
      const name = sliceNameOf(obj);
      if (name === undefined) {
        this.fail(`watch ${this.what}: a ${type} event without a valid slice name ignored`);
        return;
      }
      if (rv !== undefined) this.resourceVersion = rv;
      if (type === 'DELETED') this.slices.delete(name);
      else {
        const s = parseSlice(obj, this.service, this.portName);
        if (!s) {
          this.slices.delete(name);
        } else if (!this.slices.has(name) && this.slices.size >= MAX_SLICES) {
          this.fail(`${this.what}: slice ${name} beyond ${MAX_SLICES} ignored`);
        } else {
          this.slices.set(name, s);
          if (s.problems.length) this.fail(`${this.what}: ${name}: ${summary(s.problems)}`);
        }
      }
      this.publish();
    };

    const onDone = (err: unknown): void => {
      if (!current()) return;
      end();
      if (err) {
        if (statusCodeOf(err) === 410) {
          relist();
          return;
        }
        this.fail(`watch ${this.what}: ${describe(err)}`);
        this.retry(() => this.startWatch());
        return;
      }
      // The server ended the watch (timeoutSeconds, a restart): resume at once when it
      // delivered something, else after a pause, so a server that closes every watch
      // at once is not asked again in a tight loop.
      if (events > 0) this.startWatch();
      else this.retry(() => this.startWatch());
    };

    watch
      .watch(
        this.path,
        {
          labelSelector: this.selector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: WATCH_SECONDS,
        },
        onEvent,
        onDone,
      )
      .then(
        (controller) => {
          // The controller comes once the response has started; a watch abandoned
          // meanwhile (stop, an error event) is closed now.
          if (current()) this.watchAbort = controller;
          else controller.abort();
        },
        (e: unknown) => onDone(e ?? new Error('the watch failed')),
      );
  }

  /** Calls onChange with the whole set when it differs from the last one given (and the first time). */
  private publish(): void {
    const { targets, dropped } = mergeTargets(this.slices.values());
    if (dropped > 0)
      this.fail(`${this.what}: ${dropped} endpoints beyond ${MAX_TARGETS} (Kubernetes' node limit) ignored`);
    const key = JSON.stringify(targets);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.onChange(targets);
  }

  private retry(fn: () => void): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // ±20 % jitter: many hubs restarted together do not retry in step.
    const delay = this.backoffMs * (0.8 + Math.random() * 0.4);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) fn();
    }, delay);
  }

  private fail(message: string): void {
    if (!this.stopped) this.onError(message);
  }
}

/** The first problems of a list, for one line of bounded length. */
function summary(problems: readonly string[]): string {
  const more = problems.length - 8;
  return problems.slice(0, 8).join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** A JSON object of the API server's (a Status, a list); every field still to check. */
interface Status {
  readonly code?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
  readonly items?: unknown;
  readonly metadata?: unknown;
  readonly continue?: unknown;
}
const isStatus = (v: unknown): v is Status => typeof v === 'object' && v !== null;

function statusLine(obj: unknown): string {
  if (!isStatus(obj)) return quote(obj);
  const parts = [obj.code, obj.reason, obj.message].filter((x) => x !== undefined).map(quote);
  return parts.join(' ') || '(empty)';
}

function statusCodeOf(e: unknown): number | undefined {
  const code = isStatus(e) ? (e as { statusCode?: unknown }).statusCode : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** Text of an error for one line: escaped, at most 300 characters. */
const clip = (s: string): string => escapeTerminal(s.length > 300 ? `${s.slice(0, 300)}…` : s);

/** One line for an error: the HTTP status and the server's message, or the cause. */
function describe(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'timed out';
    const code = statusCodeOf(e);
    const first = e.message.split('\n')[0] ?? '';
    return code !== undefined ? `HTTP ${code} ${quote(first)}` : clip(first);
  }
  return clip(String(e));
}
