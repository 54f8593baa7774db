/**
 * The few libc system calls wirescope needs, bound in-process through koffi.
 *
 * No CLI tool is ever spawned in the discovery path: namespaces are opened,
 * queried (ioctl NS_GET_*) and entered (setns) here, and netlink sockets are
 * created and driven with these calls. Every wrapper throws a `SyscallError`
 * carrying errno, so callers can tell "vanished" (ENOENT/ESRCH) from "denied"
 * (EACCES/EPERM) and turn it into a warning.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

const c = {
  open: libc.func('int open(const char *path, int flags)'),
  close: libc.func('int close(int fd)'),
  ioctl: libc.func('int ioctl(int fd, unsigned long req, uintptr_t arg)'),
  setns: libc.func('int setns(int fd, int nstype)'),
  unshare: libc.func('int unshare(int flags)'),
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)'),
  connect: libc.func('int connect(int fd, const void *addr, uint32_t len)'),
  getsockname: libc.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *len)'),
  sendto: libc.func(
    'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)',
  ),
  send: libc.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
  recv: libc.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
  getsockopt: libc.func(
    'int getsockopt(int fd, int level, int name, _Out_ void *val, _Inout_ uint32_t *len)',
  ),
  gettid: libc.func('int gettid()'),
  errnoLoc: libc.func('int *__errno_location()'),
  strerror: libc.func('const char *strerror(int errnum)'),
  gethostname: libc.func('int gethostname(_Out_ char *name, size_t len)'),
  openat: libc.func('int openat(int dirfd, const char *path, int flags)'),
  read: libc.func('intptr_t read(int fd, _Out_ uint8_t *buf, size_t len)'),
  readlinkat: libc.func('intptr_t readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t len)'),
  statx: libc.func(
    'int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)',
  ),
  fstatfs: libc.func('int fstatfs(int fd, _Out_ uint8_t *buf)'),
  ioctlBuf: libc.func('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)'),
  mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t off)'),
  munmap: libc.func('int munmap(void *addr, size_t len)'),
  poll: libc.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)'),
  epollCreate1: libc.func('int epoll_create1(int flags)'),
  epollCtl: libc.func('int epoll_ctl(int epfd, int op, int fd, const uint8_t *event)'),
  epollWait: libc.func('int epoll_wait(int epfd, _Out_ uint8_t *events, int maxevents, int timeout)'),
};

export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_NONBLOCK = 0o4000;
export const O_NOFOLLOW = 0o400000;
export const O_NOCTTY = 0o400;
export const O_DIRECTORY = 0o200000;

/** dirfd meaning "relative to the current directory" (*at calls). */
export const AT_FDCWD = -100;
/** *at flags (include/uapi/linux/fcntl.h). */
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
/**
 * statx: answer from the attributes the kernel has cached, never ask the
 * filesystem (fuse_update_get_attr and nfs_getattr honour it): a FUSE daemon
 * that does not answer, or an unreachable NFS server, cannot block the call.
 */
export const AT_STATX_DONT_SYNC = 0x4000;

/** CLONE_NEW* flags as setns(2) nstype values. */
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_NEWTIME = 0x00000080;

/** ioctls on nsfs file descriptors (include/uapi/linux/nsfs.h, NSIO = 0xb7). */
export const NS_GET_USERNS = 0xb701;
export const NS_GET_PARENT = 0xb702;
export const NS_GET_NSTYPE = 0xb703;
export const NS_GET_OWNER_UID = 0xb704;

export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const EACCES = 13;
export const EPERM = 1;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOBUFS = 105;
export const ECONNREFUSED = 111;
export const ENOTDIR = 20;
export const ELOOP = 40;
export const ENOSYS = 38;
export const E2BIG = 7;
export const EXDEV = 18;
export const ENAMETOOLONG = 36;

export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly detail?: string,
  ) {
    super(`${call}${detail ? ` ${detail}` : ''}: ${strerror(errno)} (errno ${errno})`);
    this.name = 'SyscallError';
  }
  /** The object went away (process exited, namespace released). */
  get vanished(): boolean {
    return this.errno === ENOENT || this.errno === ESRCH;
  }
  get denied(): boolean {
    return this.errno === EACCES || this.errno === EPERM;
  }
}

export function errno(): number {
  return koffi.decode(c.errnoLoc(), 'int') as number;
}

export function strerror(n: number): string {
  return String(c.strerror(n));
}

function check(ret: number, call: string, detail?: string): number {
  if (ret < 0) throw new SyscallError(call, errno(), detail);
  return ret;
}

export function open(path: string, flags = O_RDONLY | O_CLOEXEC): number {
  return check(c.open(path, flags) as number, 'open', path);
}

export function close(fd: number): void {
  c.close(fd);
}

/** ioctl with an integer argument; returns the (non-negative) result. */
export function ioctl(fd: number, request: number, arg = 0): number {
  return check(c.ioctl(fd, request, arg) as number, 'ioctl', `0x${request.toString(16)}`);
}

/** ioctl(NS_GET_OWNER_UID) writes a uid_t into the pointed-to buffer. */
export function nsGetOwnerUid(fd: number): number {
  const buf = Buffer.alloc(4);
  const ret = c.ioctl(fd, NS_GET_OWNER_UID, koffi.address(buf)) as number;
  check(ret, 'ioctl', 'NS_GET_OWNER_UID');
  return buf.readUInt32LE(0);
}

export function setns(fd: number, nstype: number): void {
  check(c.setns(fd, nstype) as number, 'setns');
}

export function socket(domain: number, type: number, protocol: number): number {
  return check(c.socket(domain, type, protocol) as number, 'socket');
}

export function bind(fd: number, addr: Buffer): void {
  check(c.bind(fd, addr, addr.length) as number, 'bind');
}

export function connect(fd: number, addr: Buffer): void {
  check(c.connect(fd, addr, addr.length) as number, 'connect');
}

/** getsockname into `addr` (sized for the family's sockaddr); returns the length the kernel wrote. */
export function getsockname(fd: number, addr: Buffer): number {
  const len = [addr.length];
  check(c.getsockname(fd, addr, len) as number, 'getsockname');
  return len[0] ?? 0;
}

/** sendto an explicit address; returns bytes sent. Retries on EINTR. */
export function sendto(fd: number, buf: Buffer, addr: Buffer): number {
  for (;;) {
    const n = Number(c.sendto(fd, buf, buf.length, 0, addr, addr.length));
    if (n >= 0) return n;
    const e = errno();
    if (e !== EINTR) throw new SyscallError('sendto', e);
  }
}

export function send(fd: number, buf: Buffer): number {
  for (;;) {
    const n = Number(c.send(fd, buf, buf.length, 0));
    if (n >= 0) return n;
    const e = errno();
    if (e !== EINTR) throw new SyscallError('send', e);
  }
}

/** recv into buf; returns bytes received. Retries on EINTR. */
export function recv(fd: number, buf: Buffer, flags = 0): number {
  for (;;) {
    const n = Number(c.recv(fd, buf, buf.length, flags));
    if (n >= 0) return n;
    const e = errno();
    if (e !== EINTR) throw new SyscallError('recv', e);
  }
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value, 0);
  check(c.setsockopt(fd, level, name, b, 4) as number, 'setsockopt', `${level}/${name}`);
}

export function setsockoptBuf(fd: number, level: number, name: number, value: Buffer): void {
  check(c.setsockopt(fd, level, name, value, value.length) as number, 'setsockopt', `${level}/${name}`);
}

/** getsockopt into `value`; returns the length the kernel wrote. */
export function getsockoptBuf(fd: number, level: number, name: number, value: Buffer): number {
  const len = [value.length];
  check(c.getsockopt(fd, level, name, value, len) as number, 'getsockopt', `${level}/${name}`);
  return len[0] ?? 0;
}

/** ioctl whose argument is a struct read and written in place (struct ifreq and the like). */
export function ioctlStruct(fd: number, request: number, arg: Buffer): void {
  check(c.ioctlBuf(fd, request, arg) as number, 'ioctl', `0x${request.toString(16)}`);
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;

/** A shared mapping of `fd` (a packet ring); the pointer is opaque, read it through koffi.view. */
export function mmapShared(fd: number, len: number): unknown {
  const p = c.mmap(null, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  // MAP_FAILED is (void *)-1.
  if (p === null || koffi.address(p) === 0xffffffffffffffffn) throw new SyscallError('mmap', errno());
  return p;
}

export function munmap(ptr: unknown, len: number): void {
  c.munmap(ptr, len);
}

export const POLLIN = 0x1;
/** Priority data; on /proc/PID/mountinfo: the mount table changed (proc(5)). */
export const POLLPRI = 0x2;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

/**
 * poll(2) over `fds` (struct pollfd: int fd, short events, short revents —
 * 8 bytes each); revents are written back into the buffer. Returns the number
 * of ready fds (0 on timeout or EINTR).
 */
export function poll(fds: Buffer, count: number, timeoutMs: number): number {
  const n = c.poll(fds, count, timeoutMs) as number;
  if (n < 0) {
    const e = errno();
    if (e === EINTR) return 0;
    throw new SyscallError('poll', e);
  }
  return n;
}

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
/**
 * sizeof(struct epoll_event) {uint32_t events; uint64_t data}: the kernel declares it packed on
 * x86-64 (12 bytes, include/uapi/linux/eventpoll.h EPOLL_PACKED), naturally aligned elsewhere (16).
 */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
/** Offset of `data` in struct epoll_event (see EPOLL_EVENT_SIZE). */
export const EPOLL_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;

/** epoll_create1(EPOLL_CLOEXEC): a new epoll instance. */
export function epollCreate(): number {
  // EPOLL_CLOEXEC is O_CLOEXEC (include/uapi/linux/eventpoll.h).
  return check(c.epollCreate1(O_CLOEXEC) as number, 'epoll_create1');
}

/** epoll_ctl(2): `event` is one struct epoll_event (ignored by EPOLL_CTL_DEL). */
export function epollCtl(epfd: number, op: number, fd: number, event: Buffer): void {
  check(c.epollCtl(epfd, op, fd, event) as number, 'epoll_ctl');
}

/** epoll_wait(2) into `events` (room for `max` struct epoll_event); 0 on timeout or EINTR. */
export function epollWait(epfd: number, events: Buffer, max: number, timeoutMs: number): number {
  const n = c.epollWait(epfd, events, max, timeoutMs) as number;
  if (n < 0) {
    const e = errno();
    if (e === EINTR) return 0;
    throw new SyscallError('epoll_wait', e);
  }
  return n;
}

export function gettid(): number {
  return c.gettid() as number;
}

export function unshare(flags: number): void {
  check(c.unshare(flags) as number, 'unshare');
}

/** gethostname() of the calling thread's UTS namespace. */
export function gethostname(): string {
  const buf = Buffer.alloc(257);
  check(c.gethostname(buf, buf.length) as number, 'gethostname');
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/** openat(2) relative to `dirfd`; O_CLOEXEC is always added. */
export function openat(dirfd: number, path: string, flags: number): number {
  return check(c.openat(dirfd, path, flags | O_CLOEXEC) as number, 'openat', path);
}

/** read(2) into buf[0..len); returns the bytes read (0 at the end). Retries on EINTR. */
export function read(fd: number, buf: Buffer, len = buf.length): number {
  for (;;) {
    const n = Number(c.read(fd, buf, len));
    if (n >= 0) return n;
    const e = errno();
    if (e !== EINTR) throw new SyscallError('read', e);
  }
}

/**
 * Target of the symlink open as `fd` (an O_PATH|O_NOFOLLOW fd of the link
 * itself: readlinkat(2) with an empty path, Linux 2.6.39+). Targets longer
 * than PATH_MAX cannot exist, so a bigger result is an error.
 */
export function readlinkFd(fd: number): string {
  const buf = Buffer.allocUnsafe(4097);
  const n = Number(c.readlinkat(fd, '', buf, buf.length));
  if (n < 0) throw new SyscallError('readlinkat', errno());
  if (n >= buf.length) throw new SyscallError('readlinkat', ENAMETOOLONG);
  return buf.toString('utf8', 0, n);
}

/** File type bits of st_mode (S_IFMT) and the types the readers tell apart. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

export interface StatxResult {
  mode: number;
  ino: number;
  size: number;
  /** st_dev as "major:minor". */
  dev: string;
}

/**
 * statx(2) of `path` relative to `dirfd` (with AT_EMPTY_PATH and path "": of
 * the fd itself). struct statx (include/uapi/linux/stat.h): stx_mode u16 at
 * 28, stx_ino u64 at 32, stx_size u64 at 40, stx_dev_major/minor u32 at 136/140.
 */
export function statx(dirfd: number, path: string, flags: number): StatxResult {
  const buf = Buffer.alloc(256);
  // STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE; st_dev is always filled.
  check(c.statx(dirfd, path, flags, 0x1 | 0x2 | 0x100 | 0x200, buf) as number, 'statx', path || undefined);
  return {
    mode: buf.readUInt16LE(28),
    ino: Number(buf.readBigUInt64LE(32)),
    size: Number(buf.readBigUInt64LE(40)),
    dev: `${buf.readUInt32LE(136)}:${buf.readUInt32LE(140)}`,
  };
}

/** f_type of the filesystem `fd` is on (struct statfs: f_type is the first field, a long). */
export function fstatfsType(fd: number): number {
  const buf = Buffer.alloc(120);
  check(c.fstatfs(fd, buf) as number, 'fstatfs');
  return Number(buf.readBigInt64LE(0));
}

/** procfs's f_type (PROC_SUPER_MAGIC, include/uapi/linux/magic.h). */
export const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * The other kernel/ modules' calls, bound here so that libc is bound in one
 * place and each function once. They are raw: they return what the C
 * function returns and leave errno to the caller, for the hot paths (procfs,
 * netlink receive) where a thrown error per vanished process or per idle
 * poll would cost more than the call, and for the thin wrappers of
 * `inroot.ts`, `openat2.ts`, `procfs-sys.ts` and `netlink.ts`. Code outside
 * kernel/ uses the checked wrappers below or in those modules.
 */
export const sys = {
  open: c.open,
  close: c.close,
  read: c.read,
  openat: c.openat,
  ioctl: c.ioctl,
  /** readlinkat with a C string path. */
  readlinkat: c.readlinkat,
  /** readlinkat with a NUL-terminated path already in a byte buffer (a getdents64 entry name). */
  readlinkatBytes: libc.func(
    'intptr_t readlinkat(int dirfd, const uint8_t *path, _Out_ uint8_t *buf, size_t len)',
  ),
  readlink: libc.func('intptr_t readlink(const char *path, _Out_ uint8_t *buf, size_t len)'),
  getdents64: libc.func('intptr_t getdents64(int fd, _Out_ uint8_t *buf, size_t len)'),
  fstat: libc.func('int fstat(int fd, _Out_ uint8_t *buf)'),
  fstatat: libc.func('int fstatat(int dirfd, const uint8_t *path, _Out_ uint8_t *buf, int flags)'),
  recvfrom: libc.func(
    'intptr_t recvfrom(int fd, _Out_ void *buf, size_t len, int flags, void *addr, void *alen)',
  ),
  /** syscall(2), variadic: each argument is passed as a (type, value) pair. */
  syscall: libc.func('long syscall(long number, ...)'),
  mkdirat: libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  symlinkat: libc.func('int symlinkat(const char *target, int dirfd, const char *path)'),
  linkat: libc.func(
    'int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)',
  ),
  unlinkat: libc.func('int unlinkat(int dirfd, const char *path, int flags)'),
  renameat: libc.func('int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)'),
  fchownat: libc.func('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)'),
};

const more = {
  getdomainname: libc.func('int getdomainname(_Out_ char *name, size_t len)'),
  prctl: libc.func('int prctl(int option, ...)'),
  getppid: libc.func('int getppid()'),
  getrusage: libc.func('int getrusage(int who, _Out_ uint8_t *usage)'),
  getrlimit: libc.func('int getrlimit(int resource, _Out_ uint8_t *rlim)'),
  setrlimit: libc.func('int setrlimit(int resource, const uint8_t *rlim)'),
  mount: libc.func(
    'int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data)',
  ),
  umount2: libc.func('int umount2(const char *target, int flags)'),
};

/**
 * errno as koffi keeps it for this thread, read without another foreign call
 * (`errno()` above asks __errno_location); for the raw `sys` calls on hot paths.
 */
export function lastErrno(): number {
  return koffi.errno();
}

/** getdomainname() (the NIS domain name) of the calling thread's UTS namespace. */
export function getdomainname(): string {
  const buf = Buffer.alloc(257);
  check(more.getdomainname(buf, buf.length) as number, 'getdomainname');
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

export function getppid(): number {
  return more.getppid() as number;
}

/** prctl(PR_SET_PDEATHSIG): the signal this process gets when its parent thread exits. */
export function setParentDeathSignal(signal: number): void {
  const PR_SET_PDEATHSIG = 1;
  check(more.prctl(PR_SET_PDEATHSIG, 'unsigned long', signal) as number, 'prctl', 'PR_SET_PDEATHSIG');
}

/**
 * ru_maxrss (KiB) of getrusage(RUSAGE_CHILDREN): the largest resident set of
 * any waited-for child. struct rusage: two struct timeval (16 bytes each),
 * then ru_maxrss, a long, at offset 32.
 */
export function childrenMaxRssKb(): number {
  const RUSAGE_CHILDREN = -1;
  const usage = Buffer.alloc(144);
  check(more.getrusage(RUSAGE_CHILDREN, usage) as number, 'getrusage');
  return Number(usage.readBigInt64LE(32));
}

/** RLIM_INFINITY (include/uapi/asm-generic/resource.h): ~0UL. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** getrlimit(2): struct rlimit { rlim_t rlim_cur, rlim_max; } (u64 each). */
export function getrlimit(resource: number): { cur: bigint; max: bigint } {
  const b = Buffer.alloc(16);
  check(more.getrlimit(resource, b) as number, 'getrlimit');
  return { cur: b.readBigUInt64LE(0), max: b.readBigUInt64LE(8) };
}

export function setrlimit(resource: number, cur: bigint, max: bigint): void {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(cur, 0);
  b.writeBigUInt64LE(max, 8);
  check(more.setrlimit(resource, b) as number, 'setrlimit');
}

/** mount(2); for test fixtures (a FUSE mount that never answers). */
export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  check(more.mount(source, target, fstype, flags, data) as number, 'mount', target);
}

/** umount2(2) with `flags` (MNT_DETACH = 2: lazy). */
export function umount2(target: string, flags: number): void {
  check(more.umount2(target, flags) as number, 'umount2', target);
}
