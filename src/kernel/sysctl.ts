/**
 * Sysctls of a network namespace. /proc/sys/net shows the namespace of the
 * thread that reads it (the sysctl table is looked up through
 * current->nsproxy->net_ns, net/sysctl_net.c), so a read or write for
 * another namespace enters it with withNetns() for the one file access.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withNetns } from './netns.js';

/** "net.ipv4.ip_forward" → /proc/sys/net/ipv4/ip_forward. */
export const sysctlPath = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;

/** Reads a sysctl of the namespace behind `fd` (or a path to it; the caller's own when undefined). */
export function readSysctl(fd: number | string | undefined, key: string): string | undefined {
  const read = () => {
    try {
      return readFileSync(sysctlPath(key), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  return fd === undefined ? read() : withNetns(fd, read);
}

/** Writes a sysctl of the namespace behind `fd`; the error names the key, value and errno code. */
export function writeSysctl(fd: number | string | undefined, key: string, value: string): void {
  const write = () => writeFileSync(sysctlPath(key), value);
  try {
    if (fd === undefined) write();
    else withNetns(fd, write);
  } catch (e) {
    throw new Error(`sysctl ${key}=${value}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
