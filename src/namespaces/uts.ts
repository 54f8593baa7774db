/**
 * The hostname and NIS domain name of a UTS namespace. They exist only in
 * the kernel's uts_namespace (no file shows another namespace's values:
 * /proc/sys/kernel/hostname answers for the *reader's* namespace), so the
 * calling thread joins the namespace with setns(CLONE_NEWUTS), calls
 * gethostname/getdomainname, and returns to its own at once. Unlike mount
 * and user namespaces, UTS namespaces can be joined by one thread of a
 * multi-threaded process (setns(2)); nothing else runs on this thread in
 * between because the whole exchange is synchronous.
 */
import { fstatSync } from 'node:fs';
import {
  CLONE_NEWUTS,
  close,
  getdomainname,
  gethostname,
  O_CLOEXEC,
  O_RDONLY,
  open,
  setns,
} from '../kernel/libc.js';
import { openNs } from '../kernel/nsfs.js';

export interface UtsNames {
  hostname: string;
  domainname: string;
}

/**
 * Names of the UTS namespace that `path` opens (/proc/PID/ns/uts), checked to
 * be namespace `ino`. Throws SyscallError (vanished/denied) or Error.
 */
export function readUtsNames(path: string, ino: number): UtsNames {
  const own = open('/proc/thread-self/ns/uts', O_RDONLY | O_CLOEXEC);
  try {
    if (fstatSync(own).ino === ino) return { hostname: gethostname(), domainname: getdomainname() };
    // Without blocking, and checked to be namespace `ino` (see nsfs.ts).
    const target = openNs(path, ino);
    try {
      setns(target, CLONE_NEWUTS);
      try {
        return { hostname: gethostname(), domainname: getdomainname() };
      } finally {
        // Returning must not fail silently: a main thread left in a foreign
        // UTS namespace would report wrong names from then on.
        setns(own, CLONE_NEWUTS);
      }
    } finally {
      close(target);
    }
  } finally {
    close(own);
  }
}
