/**
 * Real-kernel fixtures for the network tests and benchmark: named network
 * namespaces (ip-netns), links built with ip(8), and small python3 helpers
 * that hold taps and sockets. Everything registers its own teardown; cleanup()
 * runs them all (last first) and never throws. Names carry a random prefix.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Draft } from '../../model/types.js';
import type { NamespaceScan } from '../../namespaces/scan.js';
import { ip, ipBatch } from '../../testing/ip.js';
import { uniquePrefix } from '../../testing/names.js';

/** Python helper: hold a tap device (TUNSETIFF, IFF_TAP|IFF_NO_PI) and sleep. */
const TAP_PY = `
import ctypes as _c; _c.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG: die with the test process
import fcntl, os, struct, sys, time
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', sys.argv[1].encode(), 0x0002 | 0x1000))
print('ready', fd, flush=True)
time.sleep(100000)
`;

/**
 * Python helper: listening sockets described as proto:family:addr:port[:v6only],
 * optionally created inside another network namespace (setns there and back,
 * so the process itself stays in its own namespace).
 */
const SOCK_PY = `
import ctypes as _c; _c.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG: die with the test process
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
target = sys.argv[1]
specs = sys.argv[2:]
home = os.open('/proc/self/ns/net', os.O_RDONLY)
if target != '-':
    fd = os.open(target, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0: raise OSError(ctypes.get_errno(), 'setns')
keep = []
for spec in specs:
    proto, fam, addr, port, *rest = spec.split(',')
    af = socket.AF_INET6 if fam == '6' else socket.AF_INET
    if proto == 'connect':
        c = socket.socket(af, socket.SOCK_STREAM)
        c.connect((addr, int(port)))
        keep.append(c)
        continue
    s = socket.socket(af, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if af == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if rest and rest[0] == 'v6only' else 0)
    s.bind((addr, int(port)))
    if proto == 'tcp': s.listen(16)
    keep.append(s)
if target != '-':
    if libc.setns(home, 0x40000000) != 0: raise OSError(ctypes.get_errno(), 'setns back')
print('ready', ' '.join(str(os.fstat(s.fileno()).st_ino) for s in keep), flush=True)
time.sleep(100000)
`;

/** Python helper: the same listening socket inside each of many namespaces (setns there and back). */
const EACH_PY = `
import ctypes as _c; _c.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG: die with the test process
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
proto, fam, addr, port = sys.argv[1].split(',')
home = os.open('/proc/self/ns/net', os.O_RDONLY)
keep = []
for path in sys.argv[2:]:
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0: raise OSError(ctypes.get_errno(), 'setns')
    os.close(fd)
    s = socket.socket(socket.AF_INET6 if fam == '6' else socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    if proto == 'tcp': s.listen(16)
    keep.append(s)
if libc.setns(home, 0x40000000) != 0: raise OSError(ctypes.get_errno(), 'setns back')
print('ready', len(keep), flush=True)
time.sleep(100000)
`;

/** Python helper: hold an fd of a namespace path and sleep. */
const HOLD_PY = `
import ctypes as _c; _c.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG: die with the test process
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
print('ready', fd, flush=True)
time.sleep(100000)
`;

export class NetFixtures {
  readonly prefix = uniquePrefix('wst', 5);
  private readonly teardown: (() => void)[] = [];
  readonly namespaces: string[] = [];

  /** Adds named network namespaces `${prefix}-${name}` (bind mounts under /run/netns). */
  netns(...names: string[]): string[] {
    const full = names.map((n) => `${this.prefix}-${n}`);
    for (const n of full) {
      ip('netns', 'add', n);
      this.namespaces.push(n);
      this.teardown.push(() => {
        try {
          ip('netns', 'del', n);
        } catch {
          // already gone
        }
      });
    }
    return full;
  }

  /** Registers a namespace created elsewhere (e.g. by an ip batch) for deletion at cleanup, batched. */
  registerNetns(name: string): void {
    if (this.batchedNetns.length === 0) {
      this.teardown.push(() => {
        try {
          ipBatch(
            this.batchedNetns.splice(0).map((n) => `netns del ${n}`),
            true,
          );
        } catch {
          // some were gone already
        }
      });
    }
    this.batchedNetns.push(name);
    this.namespaces.push(name);
  }

  private readonly batchedNetns: string[] = [];

  /** One python3 process creating a listening socket from `spec` in each namespace (by path) through setns. */
  socketsInEach(paths: string[], spec: string): Promise<{ child: ChildProcess; words: string[] }> {
    return this.python(EACH_PY, [spec, ...paths]);
  }

  /** Deletes a host-namespace link at cleanup (links inside namespaces die with them). */
  hostLink(name: string): void {
    this.teardown.push(() => {
      try {
        ip('link', 'del', name);
      } catch {
        // gone with its peer
      }
    });
  }

  /** Starts a python3 helper and waits for its "ready ..." line; returns the process and the words after "ready". */
  async python(
    script: string,
    args: string[],
    netns?: string,
  ): Promise<{ child: ChildProcess; words: string[] }> {
    const argv = netns
      ? ['ip', 'netns', 'exec', netns, 'python3', '-c', script, ...args]
      : ['python3', '-c', script, ...args];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.teardown.push(() => {
      child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const words = await new Promise<string[]>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        // Complete lines only: a chunk may end in the middle of the ready line.
        const line = out
          .split('\n')
          .slice(0, -1)
          .find((l) => l.startsWith('ready'));
        if (line !== undefined) resolve(line.split(' ').slice(1));
      });
      child.on('exit', (code) => reject(new Error(`python helper exited (${code}): ${err.trim()}`)));
      setTimeout(() => reject(new Error(`python helper not ready: ${err.trim()}`)), 30_000).unref();
    });
    return { child, words };
  }

  /** A process holding an open fd of the named namespace; returns its pid and the fd number. */
  async holdNetnsFd(netns: string): Promise<{ pid: number; fd: number }> {
    const { child, words } = await this.python(HOLD_PY, [`/run/netns/${netns}`]);
    return { pid: child.pid as number, fd: Number(words[0]) };
  }

  tapHolder(name: string, netns: string): Promise<{ child: ChildProcess; words: string[] }> {
    return this.python(TAP_PY, [name], netns);
  }

  /**
   * Listening sockets from specs "tcp,4,0.0.0.0,8080" / "udp,6,::,53[,v6only]", or a TCP
   * connection "connect,4,127.0.0.1,8080"; `inside` = create them in that netns from outside.
   */
  sockets(
    specs: string[],
    opts: { netns?: string; inside?: string },
  ): Promise<{ child: ChildProcess; words: string[] }> {
    return this.python(SOCK_PY, [opts.inside ? `/run/netns/${opts.inside}` : '-', ...specs], opts.netns);
  }

  cleanup(): void {
    for (const t of this.teardown.splice(0).reverse()) {
      try {
        t();
      } catch {
        // best effort
      }
    }
  }
}

export const netnsIno = (name: string): number => statSync(`/run/netns/${name}`).ino;

/** ifindex of a device, from ip(8) (the tests' independent view of the kernel). */
export function ifindex(netns: string | undefined, dev: string): number {
  const out = netns
    ? ip('-n', netns, '-j', 'link', 'show', 'dev', dev)
    : ip('-j', 'link', 'show', 'dev', dev);
  const j = JSON.parse(out) as { ifindex: number }[];
  return (j[0] as { ifindex: number }).ifindex;
}

/** The host's network namespace as a scan entry (opened through this process). */
export const hostNetns = (): Partial<Draft.Namespace> => ({
  ino: statSync('/proc/self/ns/net').ino,
  ref: '/proc/self/ns/net',
});

/** A namespace scan holding just the given named network namespaces (what the namespace stage would report). */
export function scanOf(names: string[], extra: Partial<Draft.Namespace>[] = []): NamespaceScan {
  const namespaces: Record<string, Draft.Namespace> = {};
  const add = (ns: Draft.Namespace) => {
    namespaces[String(ns.ino)] = ns;
  };
  for (const n of names) {
    const ino = netnsIno(n);
    add({
      type: 'net',
      ino,
      dev: 0,
      processes: [],
      leaders: [],
      bindMounts: [{ path: `/run/netns/${n}`, mntns: 0, reachablePath: `/run/netns/${n}` }],
      fds: [],
      ref: `/run/netns/${n}`,
    });
  }
  for (const e of extra)
    add({ type: 'net', ino: 0, dev: 0, processes: [], leaders: [], bindMounts: [], fds: [], ...e });
  return { namespaces, processes: {}, initial: {}, warnings: [], missingPrivileges: [] };
}
