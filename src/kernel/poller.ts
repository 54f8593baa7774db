/**
 * One epoll(7) instance over a changing set of file descriptors (netlink
 * sockets, mountinfo files), for the change watcher's thread: it sleeps in the
 * kernel until one of them has news instead of waking on a timer to look.
 *
 * epoll, not poll(2): the watcher holds one rtnetlink socket per network
 * namespace, and poll(2) costs O(fds) on every call — it adds the thread to
 * each socket's wait queue and removes it again (fs/select.c do_poll), ~1,000
 * fds per wake-up at 1,000 namespaces, the most of an idle service's CPU. An
 * epoll interest list is registered once (epoll_ctl) and a wait costs what is
 * ready.
 *
 * /proc/PID/mountinfo raises POLLPRI | POLLERR when a mount or unmount changed
 * that process's mount namespace since the file was opened or last polled
 * (proc(5); fs/proc_namespace.c mounts_poll): polling acknowledges it, no read
 * is needed. epoll polls the file the same way (ep_item_poll → mounts_poll),
 * so a level-triggered registration reports each change once. An open
 * mountinfo file holds a reference on its mount namespace (and so on every
 * namespace bind-mounted in it): close it once its process is gone.
 */
import {
  close,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  epollCreate,
  epollCtl,
  epollWait,
  O_CLOEXEC,
  O_RDONLY,
  open,
  POLLERR,
  POLLIN,
  POLLPRI,
} from './libc.js';

export { POLLERR, POLLIN, POLLPRI };

/** Ready fds taken per epoll_wait; more are taken by further calls without waiting. */
const BATCH = 256;

export class Poller {
  private readonly wanted = new Map<number, number>();
  private epfd = -1;
  private readonly one = Buffer.alloc(EPOLL_EVENT_SIZE);
  private readonly ready = Buffer.alloc(EPOLL_EVENT_SIZE * BATCH);

  get size(): number {
    return this.wanted.size;
  }

  /** Watches `fd` for `events` (POLLIN, POLLPRI: the same bits as EPOLLIN, EPOLLPRI). */
  add(fd: number, events: number): void {
    const was = this.wanted.get(fd);
    if (was === events) return;
    if (this.epfd < 0) this.epfd = epollCreate();
    this.one.writeUInt32LE(events, 0);
    // data: the fd itself, to name it when it is ready.
    this.one.writeBigUInt64LE(BigInt(fd), EPOLL_DATA_OFFSET);
    epollCtl(this.epfd, was === undefined ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, this.one);
    this.wanted.set(fd, events);
  }

  /** Stops watching `fd`; call it before closing the fd (a closed fd leaves the set by itself). */
  remove(fd: number): void {
    if (!this.wanted.delete(fd)) return;
    try {
      epollCtl(this.epfd, EPOLL_CTL_DEL, fd, this.one);
    } catch {
      // already closed: the kernel removed it with its last reference
    }
  }

  /**
   * Waits up to `timeoutMs` (0: just look; -1: forever) for any of the fds;
   * calls `onReady(fd, revents)` for each one that has news.
   */
  wait(timeoutMs: number, onReady: (fd: number, revents: number) => void): number {
    if (this.epfd < 0) this.epfd = epollCreate();
    let total = 0;
    let timeout = timeoutMs;
    for (;;) {
      const n = epollWait(this.epfd, this.ready, BATCH, timeout);
      for (let i = 0; i < n; i++) {
        const at = i * EPOLL_EVENT_SIZE;
        const fd = Number(this.ready.readBigUInt64LE(at + EPOLL_DATA_OFFSET));
        // A callback may have removed it (a namespace's socket closed for a vanished one).
        if (this.wanted.has(fd)) onReady(fd, this.ready.readUInt32LE(at));
      }
      total += n;
      if (n < BATCH) return total;
      timeout = 0;
    }
  }

  /** Closes the epoll instance (the watched fds stay open: they belong to their owners). */
  close(): void {
    if (this.epfd >= 0) close(this.epfd);
    this.epfd = -1;
    this.wanted.clear();
  }
}

/** Opens a mountinfo file for POLLPRI (e.g. /proc/self/mountinfo); close it with closeFd. */
export function openMountinfo(path: string): number {
  return open(path, O_RDONLY | O_CLOEXEC);
}

export function closeFd(fd: number): void {
  close(fd);
}
