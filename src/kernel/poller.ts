/**
 * One poll(2) over a changing set of file descriptors (netlink sockets,
 * mountinfo files), for the change watcher's thread: it sleeps in the kernel
 * until one of them has news instead of waking on a timer to look.
 *
 * /proc/PID/mountinfo raises POLLPRI | POLLERR when a mount or unmount changed
 * that process's mount namespace since the file was opened or last polled
 * (proc(5); fs/proc_namespace.c mounts_poll): polling acknowledges it, no read
 * is needed. An open mountinfo file holds a reference on its mount namespace
 * (and so on every namespace bind-mounted in it): close it once its process is gone.
 */
import { close, O_CLOEXEC, O_RDONLY, open, POLLERR, POLLIN, POLLPRI, poll } from './libc.js';

export { POLLERR, POLLIN, POLLPRI };

export class Poller {
  private readonly wanted = new Map<number, number>();
  private buf = Buffer.alloc(0);
  private order: number[] = [];
  private dirty = false;

  get size(): number {
    return this.wanted.size;
  }

  add(fd: number, events: number): void {
    if (this.wanted.get(fd) === events) return;
    this.wanted.set(fd, events);
    this.dirty = true;
  }

  remove(fd: number): void {
    if (this.wanted.delete(fd)) this.dirty = true;
  }

  /**
   * Waits up to `timeoutMs` (0: just look; -1: forever) for any of the fds;
   * calls `onReady(fd, revents)` for each one that has news.
   */
  wait(timeoutMs: number, onReady: (fd: number, revents: number) => void): number {
    if (this.dirty) {
      this.order = [...this.wanted.keys()];
      this.buf = Buffer.alloc(8 * this.order.length);
      this.dirty = false;
    }
    const n = this.order.length;
    for (let i = 0; i < n; i++) {
      this.buf.writeInt32LE(this.order[i] ?? -1, 8 * i);
      this.buf.writeInt16LE(this.wanted.get(this.order[i] ?? -1) ?? 0, 8 * i + 4);
      this.buf.writeInt16LE(0, 8 * i + 6);
    }
    const ready = poll(this.buf, n, timeoutMs);
    if (ready <= 0) return 0;
    for (let i = 0; i < n; i++) {
      const revents = this.buf.readUInt16LE(8 * i + 6);
      if (revents !== 0) onReady(this.order[i] ?? -1, revents);
    }
    return ready;
  }
}

/** Opens a mountinfo file for POLLPRI (e.g. /proc/self/mountinfo); close it with closeFd. */
export function openMountinfo(path: string): number {
  return open(path, O_RDONLY | O_CLOEXEC);
}

export function closeFd(fd: number): void {
  close(fd);
}
