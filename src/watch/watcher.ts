/**
 * Tells the discovery cache when the host's networking changed, so results
 * can be reused in between:
 *
 * - rtnetlink multicast: one NETLINK_ROUTE socket per network namespace,
 *   created inside it (setns on this thread, see kernel/netns.ts) and bound
 *   to the link, address, route and rule groups (rtnetlink.h RTNLGRP_*).
 *   Neighbour updates are left out: ARP/ND churn is not a topology change.
 * - the namespace census (nsset.ts): new or vanished network namespaces.
 * - engine events, through sources registered with addSource().
 *
 * A user socket holds a reference on its network namespace (sk_alloc →
 * get_net), so holding one would keep a dead namespace and its veths alive:
 * every tick the sockets of namespaces that lost their last process or
 * mount are closed, which lets the kernel tear them down.
 */
import { NETLINK_ROUTE, NetlinkSocket } from '../kernel/netlink.js';
import { withNetns } from '../kernel/netns.js';
import { CONFIG_CHANGE_GROUPS } from '../kernel/rtnetlink/constants.js';
import { liveNetns } from './nsset.js';

export type ChangeReason = 'netlink' | 'namespaces' | 'engine';

/**
 * How long to let a burst of notifications settle before rediscovering once:
 * one veth pair coming up is a dozen rtnetlink messages in a few milliseconds.
 */
export const SETTLE_MS = 200;

export interface WatcherOptions {
  /** Tick period (ms) of the census and multicast drain (default 500; it runs on its own thread). */
  intervalMs?: number;
  /** Open rtnetlink multicast sockets (default true). */
  netlink?: boolean;
  procRoot?: string;
  /** Extra holder paths to re-check (bind mounts in other mount namespaces, fds). */
  extraPaths?: () => readonly string[];
  /** The census (default liveNetns): live namespace inode → one path that opens it. */
  census?: (procRoot: string | undefined, extraPaths: readonly string[]) => Map<number, string>;
}

export class ChangeWatcher {
  private sockets = new Map<number, NetlinkSocket>();
  private known: Set<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sources: (() => void)[] = [];
  /**
   * Namespaces whose socket could not be opened, with the path that failed. Retried when the
   * census names it by another path: the first path seen is often a process that only passes
   * through (`ip netns add` unshares, mounts and exits; `ip netns exec`, runc's init), and a
   * namespace left without a socket would miss every link, address and route change after it.
   */
  private failed = new Map<number, string>();
  readonly intervalMs: number;

  constructor(
    private readonly onChange: (reason: ChangeReason) => void,
    private readonly opts: WatcherOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 500;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Registers an event source (e.g. the engine tracker); returns nothing, stopped with the watcher. */
  addSource(subscribe: (notify: () => void) => () => void): void {
    this.sources.push(subscribe(() => this.onChange('engine')));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const unsubscribe of this.sources) unsubscribe();
    this.sources = [];
  }

  /** Number of namespaces watched through netlink (for /healthz). */
  get watchedNamespaces(): number {
    return this.sockets.size;
  }

  tick(): void {
    const live = (this.opts.census ?? liveNetns)(this.opts.procRoot, this.opts.extraPaths?.() ?? []);
    let changed: ChangeReason | undefined;
    if (this.known) {
      if (live.size !== this.known.size) changed = 'namespaces';
      else for (const ino of live.keys()) if (!this.known.has(ino)) changed = 'namespaces';
    }
    this.known = new Set(live.keys());
    for (const [ino, path] of this.failed) if (live.get(ino) !== path) this.failed.delete(ino);
    if (this.opts.netlink !== false) {
      for (const [ino, sock] of this.sockets) {
        if (live.has(ino)) continue;
        sock.close();
        this.sockets.delete(ino);
      }
      for (const [ino, path] of live) {
        if (this.sockets.has(ino) || this.failed.get(ino) === path) continue;
        try {
          this.sockets.set(
            ino,
            // Checked to be namespace `ino`: a path reused since the census would watch another one.
            withNetns(
              path,
              () => new NetlinkSocket(NETLINK_ROUTE, { groups: CONFIG_CHANGE_GROUPS, rcvbuf: 1 << 20 }),
              ino,
            ),
          );
        } catch {
          // The holder vanished between census and setns, or is not permitted: tried again
          // when another holder names it; the census still sees it come and go meanwhile.
          this.failed.set(ino, path);
        }
      }
      for (const sock of this.sockets.values()) {
        try {
          if (sock.drain().length > 0) changed ??= 'netlink';
        } catch {
          // ENOBUFS: the kernel dropped notifications because we were slow; something did change.
          changed ??= 'netlink';
        }
      }
    }
    if (changed) this.onChange(changed);
  }
}
