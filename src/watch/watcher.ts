/**
 * Tells the discovery cache when the host's networking changed, so results
 * can be reused in between:
 *
 * - rtnetlink multicast: one NETLINK_ROUTE socket per network namespace,
 *   created inside it (setns on this thread, see kernel/netns.ts) and bound
 *   to the link, address, route and rule groups (rtnetlink.h RTNLGRP_*).
 *   Neighbour updates are left out: ARP/ND churn is not a topology change.
 * - the namespace census: new or vanished network namespaces. Event-driven
 *   (census.ts) where the kernel tells: the process connector (fork, exec,
 *   exit) names the PIDs to look at, POLLPRI on mountinfo says a bind mount
 *   came or went (`ip netns add` / `del`); one poll(2) sleeps on all of these and
 *   on the rtnetlink sockets. A full walk of /proc (nsset.ts) still runs every
 *   FULL_WALK_MS (60 s) as a safety net, at once after lost process events, and every
 *   `intervalMs` (500 ms, the old census) when the connector is unavailable.
 * - engine events, through sources registered with addSource().
 *
 * A user socket holds a reference on its network namespace (sk_alloc →
 * get_net), so holding one would keep a dead namespace and its veths alive:
 * the sockets of namespaces that lost their last process or mount are closed
 * as soon as the census notices, which lets the kernel tear them down.
 */
import { NETLINK_ROUTE, NetlinkSocket } from '../kernel/netlink.js';
import { withNetns } from '../kernel/netns.js';
import { closeFd, openMountinfo, POLLIN, POLLPRI, Poller } from '../kernel/poller.js';
import { ProcConnector, type ProcEvent } from '../kernel/proc-connector.js';
import { CONFIG_CHANGE_GROUPS } from '../kernel/rtnetlink/constants.js';
import { NetnsCensus } from './census.js';
import { liveNetns } from './nsset.js';

export type ChangeReason = 'netlink' | 'namespaces' | 'engine';

/**
 * The network namespaces the census saw appear and vanish since it last told (nsfs inodes).
 * Handed over with every 'namespaces' change: the service tells them at once (census change
 * events, src/service/routes/events.ts), also a namespace that comes and goes between two
 * discoveries, which no diff of two models shows.
 */
export interface NamespaceDelta {
  added: number[];
  removed: number[];
}

/**
 * How long to let a burst of notifications settle before rediscovering once:
 * one veth pair coming up is a dozen rtnetlink messages in a few milliseconds.
 */
export const SETTLE_MS = 200;

/**
 * The safety-net walk of /proc while the census runs on events. The events
 * miss only what the kernel has no event for: a process that unshare(2)s or
 * setns(2)s into another network namespace without exec'ing (the usual tools —
 * `unshare -n`, `ip netns exec`, runc, systemd's PrivateNetwork — all exec
 * afterwards), bind mounts made in mount namespaces nobody watches, namespaces
 * kept only by an fd. Those rare cases show within this period, the default
 * --max-age (what has no notification at all is as old as that). A walk reads
 * one link per process and the watched mountinfo files (~20 ms at 3,000 bind
 * mounts: the kernel formats every line): every 5 s it was most of an idle
 * service's census cost.
 */
export const FULL_WALK_MS = 60_000;

/** How often an in-process event-driven watcher looks for news (poll(2) with no wait); its own thread sleeps in poll instead. */
const PUMP_MS = 20;
/** Longest sleep in poll on the watcher's own thread, so its messages (holders, stop) are read in time. */
const BLOCK_MS = 50;

/** Which change sources are live (`/healthz` → `watch`). */
export interface WatchStatus {
  /** events: the census follows the kernel's events; poll: it walks /proc every intervalMs. */
  census: 'events' | 'poll';
  /** Period of the full walk (ms): the safety net in event mode, the census itself when polling. */
  fullWalkMs: number;
  fullWalks: number;
  sources: {
    procConnector: { live: boolean; detail?: string; events: number; overflows: number };
    mountinfo: { live: boolean; files: number };
    rtnetlink: { live: boolean; namespaces: number; overflows: number };
    engines: { live: boolean; sources: number };
  };
}

export interface WatcherOptions {
  /** Tick period (ms) of the census and multicast drain (default 500; it runs on its own thread). */
  intervalMs?: number;
  /** Open rtnetlink multicast sockets (default true). */
  netlink?: boolean;
  procRoot?: string;
  /** Extra holder paths to re-check (bind mounts in other mount namespaces, fds). */
  extraPaths?: () => readonly string[];
  /** The census (default liveNetns): live namespace inode → one path that opens it. Implies census 'poll'. */
  census?: (procRoot: string | undefined, extraPaths: readonly string[]) => Map<number, string>;
  /**
   * 'events' (default): the process connector and mountinfo tell the census what to look at,
   * falling back to 'poll' when the connector is unavailable; 'poll': walk /proc every intervalMs.
   * The environment variable WIRESCOPE_CENSUS=poll chooses the old way (benchmarks compare both).
   */
  censusMode?: 'events' | 'poll';
  /** Safety-net walk period in event mode (default FULL_WALK_MS). */
  fullWalkMs?: number;
  /** Sleep in poll(2) between looks (the watcher's own thread); otherwise look every PUMP_MS. */
  blocking?: boolean;
}

/** The census mode asked for by options and environment. */
export function censusModeOf(opts: WatcherOptions): 'events' | 'poll' {
  if (opts.census) return 'poll';
  return opts.censusMode ?? (process.env.WIRESCOPE_CENSUS === 'poll' ? 'poll' : 'events');
}

export class ChangeWatcher {
  private sockets = new Map<number, NetlinkSocket>();
  /** fd → namespace inode of the rtnetlink sockets (event mode: they are polled). */
  private socketFds = new Map<number, number>();
  private known: Set<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private sources: (() => void)[] = [];
  /**
   * Namespaces whose socket could not be opened, with the path that failed. Retried when the
   * census names it by another path: the first path seen is often a process that only passes
   * through (`ip netns add` unshares, mounts and exits; `ip netns exec`, runc's init), and a
   * namespace left without a socket would miss every link, address and route change after it.
   */
  private failed = new Map<number, string>();
  readonly intervalMs: number;
  readonly fullWalkMs: number;
  // Event mode.
  private connector: ProcConnector | undefined;
  private connectorDetail: string | undefined;
  private census: NetnsCensus | undefined;
  private poller: Poller | undefined;
  /** mountinfo path → its open fd, and back. */
  private mountFds = new Map<string, number>();
  private mountPaths = new Map<number, string>();
  private extraSeen: readonly string[] | undefined;
  /** PIDs named in holder paths (/proc/PID/…): their exit may end a holder. */
  private extraPids = new Set<number>();
  private lastWalk = 0;
  private stats = { events: 0, connectorOverflows: 0, netlinkOverflows: 0, walks: 0 };

  constructor(
    private readonly onChange: (reason: ChangeReason, delta?: NamespaceDelta) => void,
    private readonly opts: WatcherOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 500;
    this.fullWalkMs = opts.fullWalkMs ?? FULL_WALK_MS;
  }

  start(): void {
    this.running = true;
    if (censusModeOf(this.opts) === 'events') {
      try {
        this.connector = ProcConnector.open();
      } catch (e) {
        this.connectorDetail = (e as Error).message;
      }
    } else this.connectorDetail = 'off: census polls /proc';
    if (!this.connector) {
      this.tick();
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
      return;
    }
    this.census = new NetnsCensus(this.opts.procRoot);
    this.poller = new Poller();
    this.poller.add(this.connector.fd, POLLIN);
    // Listening before the first walk: whatever happens during it arrives as events afterwards.
    this.walk();
    if (this.opts.blocking) {
      const loop = () => {
        if (!this.running) return;
        this.pump(BLOCK_MS);
        setImmediate(loop);
      };
      setImmediate(loop);
    } else {
      this.timer = setInterval(() => this.pump(0), PUMP_MS);
      this.timer.unref();
    }
  }

  /** Registers an event source (e.g. the engine tracker); returns nothing, stopped with the watcher. */
  addSource(subscribe: (notify: () => void) => () => void): void {
    this.sources.push(subscribe(() => this.onChange('engine')));
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    this.socketFds.clear();
    for (const fd of this.mountPaths.keys()) closeFd(fd);
    this.mountFds.clear();
    this.mountPaths.clear();
    this.connector?.close();
    this.connector = undefined;
    this.poller?.close();
    this.poller = undefined;
    for (const unsubscribe of this.sources) unsubscribe();
    this.sources = [];
  }

  /** Number of namespaces watched through netlink (for /healthz). */
  get watchedNamespaces(): number {
    return this.sockets.size;
  }

  /** Whether namespace `ino` is in the census (and has its rtnetlink socket, unless that failed). */
  knows(ino: number): boolean {
    return this.known?.has(ino) ?? false;
  }

  /** Which sources are live (for /healthz). */
  get status(): WatchStatus {
    const events = this.connector !== undefined;
    return {
      census: events ? 'events' : 'poll',
      fullWalkMs: events ? this.fullWalkMs : this.intervalMs,
      fullWalks: this.stats.walks,
      sources: {
        procConnector: {
          live: events,
          ...(this.connectorDetail ? { detail: this.connectorDetail } : {}),
          events: this.stats.events,
          overflows: this.stats.connectorOverflows,
        },
        mountinfo: { live: this.mountFds.size > 0, files: this.mountFds.size },
        rtnetlink: {
          live: this.opts.netlink !== false,
          namespaces: this.sockets.size,
          overflows: this.stats.netlinkOverflows,
        },
        engines: { live: this.sources.length > 0, sources: this.sources.length },
      },
    };
  }

  /** The polling census: walk /proc, then read every socket. */
  tick(): void {
    this.stats.walks++;
    const live = (this.opts.census ?? liveNetns)(this.opts.procRoot, this.opts.extraPaths?.() ?? []);
    const delta = this.reconcile(live);
    let changed: ChangeReason | undefined;
    for (const sock of this.sockets.values()) {
      try {
        if (sock.drain().length > 0) changed = 'netlink';
      } catch {
        // ENOBUFS: the kernel dropped notifications because we were slow; something did change.
        this.stats.netlinkOverflows++;
        changed = 'netlink';
      }
    }
    if (delta) this.onChange('namespaces', delta);
    else if (changed) this.onChange(changed);
  }

  /**
   * Event mode: waits up to `timeoutMs` for news from the kernel, brings the census up to date
   * with it (sockets of new namespaces opened before anyone is told), and tells.
   */
  pump(timeoutMs: number): void {
    const census = this.census;
    const poller = this.poller;
    const connector = this.connector;
    if (!census || !poller || !connector) return;
    let changed: ChangeReason | undefined;
    let touched = false;
    let walk = false;
    let extras = false;
    const holders = this.opts.extraPaths?.() ?? [];
    if (holders !== this.extraSeen) {
      this.watchHolders(holders);
      touched = true;
    }
    const wait = Math.max(0, Math.min(timeoutMs, this.lastWalk + this.fullWalkMs - performance.now()));
    poller.wait(Math.ceil(wait), (fd) => {
      if (fd === connector.fd) {
        let overflow = false;
        try {
          overflow = connector.drain((e) => {
            this.stats.events++;
            touched = this.onProcEvent(census, e) || touched;
            if (e.what === 'exit' && this.extraPids.has(e.tgid)) extras = true;
          }).overflow;
        } catch {
          overflow = true;
        }
        if (overflow) {
          this.stats.connectorOverflows++;
          walk = true;
        }
        return;
      }
      const mountinfo = this.mountPaths.get(fd);
      if (mountinfo !== undefined) {
        census.remount(mountinfo);
        // `ip netns del` unmounts: a holder path through that mount no longer opens the namespace.
        extras = true;
        touched = true;
        return;
      }
      const sock = this.sockets.get(this.socketFds.get(fd) ?? -1);
      if (!sock) return;
      try {
        if (sock.drainTypes(() => undefined).overflow) this.stats.netlinkOverflows++;
      } catch {
        // an error other than ENOBUFS: look again at the next change
      }
      changed ??= 'netlink';
    });
    let namespaces: NamespaceDelta | undefined;
    if (walk || performance.now() - this.lastWalk >= this.fullWalkMs) namespaces = this.walk();
    else if (touched || extras) {
      if (extras) census.recheckExtra();
      // Only when the set may have changed (census.ts `dirty`), or a namespace waits for another path.
      if (census.takeDirty() || this.failed.size > 0) namespaces = this.reconcile(census.live());
    }
    // Both, when both happened: a busy host's namespace churn must not hide a network change's reason.
    if (namespaces) this.onChange('namespaces', namespaces);
    if (changed) this.onChange(changed);
  }

  /** The full walk of the event-mode census; returns what changed in the set, if anything. */
  private walk(): NamespaceDelta | undefined {
    const census = this.census;
    if (!census) return undefined;
    this.stats.walks++;
    this.lastWalk = performance.now();
    const holders = this.opts.extraPaths?.() ?? [];
    this.watchHolders(holders);
    census.walk(holders, [...this.mountFds.keys()]);
    census.takeDirty();
    return this.reconcile(census.live());
  }

  /** Returns whether the census may have changed. */
  private onProcEvent(census: NetnsCensus, e: ProcEvent): boolean {
    switch (e.what) {
      case 'fork':
        // A new thread shares its process's /proc/PID/ns/net; a new process may have been cloned into a new namespace.
        if (e.childPid !== e.childTgid) return false;
        census.look(e.childTgid);
        return true;
      case 'exec':
        // The usual way into a new namespace: unshare, then exec (`unshare -n CMD`, runc's init).
        census.look(e.tgid);
        return true;
      case 'exit': {
        if (e.pid !== e.tgid) return false;
        census.forget(e.tgid);
        // A mount namespace watched through this process: its open mountinfo would keep it alive.
        const path = `${this.opts.procRoot ?? '/proc'}/${e.tgid}/mountinfo`;
        const fd = this.mountFds.get(path);
        if (fd !== undefined) {
          this.unwatchMountinfo(path, fd);
          census.dropMounts(path);
        }
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * Holder paths of the latest discovery: checked, and the mount namespaces they are reached
   * through (/proc/PID/root/…) watched through /proc/PID/mountinfo, besides wirescope's own.
   */
  private watchHolders(holders: readonly string[]): void {
    this.extraSeen = holders;
    const procRoot = this.opts.procRoot ?? '/proc';
    const want = new Set([`${procRoot}/self/mountinfo`]);
    this.extraPids.clear();
    for (const h of holders) {
      const m = /^(.*)\/(\d+)\/(root|fd)\//.exec(h);
      if (!m || m[1] !== procRoot) continue;
      this.extraPids.add(Number(m[2]));
      if (m[3] === 'root') want.add(`${procRoot}/${m[2]}/mountinfo`);
    }
    for (const [path, fd] of this.mountFds) {
      if (want.has(path)) continue;
      this.unwatchMountinfo(path, fd);
      this.census?.dropMounts(path);
    }
    for (const path of want) {
      if (this.mountFds.has(path)) continue;
      try {
        const fd = openMountinfo(path);
        this.mountFds.set(path, fd);
        this.mountPaths.set(fd, path);
        this.poller?.add(fd, POLLPRI);
        this.census?.remount(path);
      } catch {
        // the process is gone: the full walk's holders will say which one to use now
      }
    }
    this.census?.setExtra(holders);
  }

  private unwatchMountinfo(path: string, fd: number): void {
    this.poller?.remove(fd);
    closeFd(fd);
    this.mountFds.delete(path);
    this.mountPaths.delete(fd);
  }

  /**
   * Takes the census's answer: opens a socket in every new namespace, closes those of vanished
   * ones; returns the namespaces added and removed since the last answer (nothing on the first).
   */
  private reconcile(live: Map<number, string>): NamespaceDelta | undefined {
    let changed: NamespaceDelta | undefined;
    const known = this.known;
    if (known) {
      const added = [...live.keys()].filter((ino) => !known.has(ino));
      const removed = [...known].filter((ino) => !live.has(ino));
      if (added.length + removed.length > 0) changed = { added, removed };
    }
    this.known = new Set(live.keys());
    for (const [ino, path] of this.failed) if (live.get(ino) !== path) this.failed.delete(ino);
    if (this.opts.netlink === false) return changed;
    for (const [ino, sock] of this.sockets) {
      if (live.has(ino)) continue;
      this.poller?.remove(sock.fd);
      this.socketFds.delete(sock.fd);
      sock.close();
      this.sockets.delete(ino);
    }
    for (const [ino, path] of live) {
      if (this.sockets.has(ino) || this.failed.get(ino) === path) continue;
      try {
        // Checked to be namespace `ino`: a path reused since the census would watch another one.
        const sock = withNetns(
          path,
          () => new NetlinkSocket(NETLINK_ROUTE, { groups: CONFIG_CHANGE_GROUPS, rcvbuf: 1 << 20 }),
          ino,
        );
        this.sockets.set(ino, sock);
        if (this.poller) {
          this.socketFds.set(sock.fd, ino);
          this.poller.add(sock.fd, POLLIN);
        }
      } catch {
        // The holder vanished between census and setns, or is not permitted: tried again
        // when another holder names it; the census still sees it come and go meanwhile.
        this.failed.set(ino, path);
      }
    }
    return changed;
  }
}
