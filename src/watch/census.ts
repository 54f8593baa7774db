/**
 * The event-driven census of live network namespaces: the same answer as
 * liveNetns() (nsset.ts) — which nsfs inodes processes, bind mounts and the
 * last discovery's holder paths keep alive, and one path to enter each — kept
 * up to date from events instead of a walk of /proc:
 *
 * - process events (fork, exec, exit from the process connector): the PID
 *   named is looked at (one readlink of /proc/PID/ns/net) or forgotten;
 * - a mount table changed (POLLPRI on mountinfo): that mountinfo is read again;
 * - holder paths handed over by a discovery: stat'ed again, unless a watched
 *   mount holds their namespace (its removal is an event).
 *
 * A full walk (`walk()`) rebuilds everything; the watcher runs one at start,
 * after lost events (ENOBUFS) and on a slow timer, for what no event names: a
 * process that unshare(2)s or setns(2)s without exec (the connector has no
 * event for it), bind mounts in mount namespaces nobody watches, fds.
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { nsfsDev } from '../kernel/nsfs.js';
import { liveNetnsDetailed, parseNetnsMounts, parseNsLink } from './nsset.js';

export class NetnsCensus {
  /** PID (thread group leader) → its network namespace, as last seen. */
  private readonly pidNs = new Map<number, number>();
  /** inode → PIDs seen in it. */
  private readonly nsPids = new Map<number, Set<number>>();
  /** mountinfo path → its nsfs bind mounts (inode → mount point). */
  private readonly mounts = new Map<string, Map<number, string>>();
  /** Holder paths (bind mounts elsewhere, fds) that opened a namespace when last checked. */
  private extra = new Map<number, string>();
  /** Each holder path → the inode it opened when last stat'ed (undefined: none). */
  private extraIno = new Map<string, number | undefined>();
  /**
   * Whether the set of live inodes may have changed since takeDirty(): most process events (a
   * fork, exec or exit in a namespace other processes keep) do not change it, and rebuilding the
   * set costs O(namespaces), so the watcher looks at it only when this says so.
   */
  private dirty = true;

  constructor(private readonly procRoot = '/proc') {}

  /** Walks /proc and rereads every watched mountinfo: the state from scratch. */
  walk(extraPaths: readonly string[], mountinfos: readonly string[]): void {
    const { pids } = liveNetnsDetailed(this.procRoot, []);
    this.pidNs.clear();
    this.nsPids.clear();
    this.dirty = true;
    for (const [pid, ino] of pids) this.setPid(pid, ino);
    this.mounts.clear();
    for (const m of new Set([`${this.procRoot}/self/mountinfo`, ...mountinfos])) this.remount(m);
    this.setExtra(extraPaths);
  }

  /** A process was created or exec'ed: where is it now? */
  look(pid: number): void {
    let ino: number | undefined;
    try {
      ino = parseNsLink(readlinkSync(`${this.procRoot}/${pid}/ns/net`));
    } catch {
      // gone already (its exit event follows) or denied
    }
    if (ino === undefined) this.forget(pid);
    else this.setPid(pid, ino);
  }

  forget(pid: number): void {
    const was = this.pidNs.get(pid);
    if (was === undefined) return;
    this.pidNs.delete(pid);
    const set = this.nsPids.get(was);
    set?.delete(pid);
    if (set?.size === 0) {
      this.nsPids.delete(was);
      this.dirty = true;
    }
  }

  /** Whether the live set may have changed since the last call (see `dirty`). */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  /** Reads the nsfs bind mounts of one mountinfo file again (a missing file has none). */
  remount(path: string): void {
    const found = new Map<number, string>();
    // Mount points are relative to that process's root: /proc/PID/mountinfo's are reached as /proc/PID/root/….
    const root = /^(.*\/\d+)\/mountinfo$/.exec(path)?.[1];
    const prefix = root && !root.endsWith('/self') ? `${root}/root` : '';
    try {
      for (const m of parseNetnsMounts(readFileSync(path, 'utf8')))
        if (!found.has(m.ino)) found.set(m.ino, prefix + m.path);
    } catch {
      // the process is gone: its mount namespace's mounts no longer count through it
    }
    const before = this.mounts.get(path);
    if (!before || before.size !== found.size || [...found.keys()].some((ino) => !before.has(ino)))
      this.dirty = true;
    this.mounts.set(path, found);
  }

  /** Stops counting a mountinfo file's mounts. */
  dropMounts(path: string): void {
    if (this.mounts.delete(path)) this.dirty = true;
  }

  /**
   * Holder paths from the latest discovery; checked now (stat, as liveNetns does), except a bind
   * mount of a watched mount table whose last answer a watched mount still holds: the namespace
   * is live whatever the path opens now, and a change of that path is a mount event
   * (recheckExtra). Holder fds and mounts of unwatched tables are always checked. With a
   * thousand `ip netns` mounts, stat'ing every holder after every discovery, full walk and mount
   * change took most of the watcher thread's time under churn, and delayed the events.
   */
  setExtra(paths: readonly string[]): void {
    const held = this.mounted();
    const before = this.extraIno;
    this.extraIno = new Map();
    for (const p of paths) {
      const was = before.get(p);
      this.extraIno.set(p, this.stillHeld(p, was, held) ? was : this.statNs(p));
    }
    this.rebuildExtra();
  }

  /**
   * Checks the holder paths again after a mount table changed or a holder process exited (their
   * holders have no events of their own); as setExtra, a bind mount only when no watched mount
   * holds its namespace any more.
   */
  recheckExtra(): void {
    const held = this.mounted();
    for (const [p, ino] of this.extraIno)
      if (ino !== undefined && !this.stillHeld(p, ino, held)) this.extraIno.set(p, this.statNs(p));
    this.rebuildExtra();
  }

  /** Whether `path` last opened `ino`, which a mount in a watched table holds, and is a mount in a watched table. */
  private stillHeld(path: string, ino: number | undefined, held: Set<number>): ino is number {
    if (ino === undefined || !held.has(ino)) return false;
    // wirescope's own mount namespace (self/mountinfo is always watched)
    if (!path.startsWith(`${this.procRoot}/`)) return true;
    const root = /^(.*\/\d+)\/root\//.exec(path)?.[1];
    return root !== undefined && this.mounts.has(`${root}/mountinfo`);
  }

  /** The nsfs inode `path` opens, if any. */
  private statNs(path: string): number | undefined {
    try {
      const st = statSync(path);
      return st.dev === nsfsDev() ? st.ino : undefined;
    } catch {
      return undefined; // gone
    }
  }

  /** Inodes the watched mount tables hold. */
  private mounted(): Set<number> {
    const held = new Set<number>();
    for (const found of this.mounts.values()) for (const ino of found.keys()) held.add(ino);
    return held;
  }

  private rebuildExtra(): void {
    const before = this.extra;
    this.extra = new Map();
    for (const [p, ino] of this.extraIno)
      if (ino !== undefined && !this.extra.has(ino)) this.extra.set(ino, p);
    if (before.size !== this.extra.size || [...this.extra.keys()].some((ino) => !before.has(ino)))
      this.dirty = true;
  }

  /**
   * inode → a path that opens it: a process first (as liveNetns), then a bind
   * mount of wirescope's own mount namespace, then others, then holder paths.
   */
  live(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [ino, pids] of this.nsPids) {
      const pid = pids.values().next().value;
      if (pid !== undefined) out.set(ino, `${this.procRoot}/${pid}/ns/net`);
    }
    for (const found of this.mounts.values())
      for (const [ino, path] of found) if (!out.has(ino)) out.set(ino, path);
    for (const [ino, path] of this.extra) if (!out.has(ino)) out.set(ino, path);
    return out;
  }

  /** Number of processes tracked (for tests and /healthz). */
  get processes(): number {
    return this.pidNs.size;
  }

  private setPid(pid: number, ino: number): void {
    const was = this.pidNs.get(pid);
    if (was === ino) return;
    if (was !== undefined) this.forget(pid);
    this.pidNs.set(pid, ino);
    let set = this.nsPids.get(ino);
    if (!set) {
      set = new Set();
      this.nsPids.set(ino, set);
      this.dirty = true;
    }
    set.add(pid);
  }
}
