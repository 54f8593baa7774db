/**
 * A tenant's DNS configuration as the tenant sees it: names of its UTS
 * namespace and the /etc files under its own root.
 */
import type { Draft } from '../model/types.js';
import { parseHosts, parseNameFile } from './hosts.js';
import { parseResolvConf } from './resolvconf.js';
import { type Resolver, readInRoot } from './rootfs.js';

export type EtcDns = Omit<Draft.Dns, 'utsHostname' | 'utsDomainname'>;

/** Something to warn about one file: cut at the cap, or not read on purpose. */
export interface EtcNote {
  file: string;
  kind: 'truncated' | 'refused';
  detail: string;
}

export const ETC_FILES = ['/etc/hostname', '/etc/domainname', '/etc/resolv.conf', '/etc/hosts'] as const;

/**
 * Reads the /etc files below the root open as `rootFd` (see rootfs.ts);
 * throws on faults other than "missing" and "refused".
 */
export function readEtcDns(rootFd: number, resolver?: Resolver): { dns: EtcDns; notes: EtcNote[] } {
  const dns: EtcDns = { hosts: [] };
  const notes: EtcNote[] = [];
  const text = (file: (typeof ETC_FILES)[number]): string | undefined => {
    const f = readInRoot(rootFd, file, resolver === undefined ? {} : { resolver });
    if (f.kind === 'missing') return undefined;
    if (f.kind === 'refused') {
      notes.push({ file, kind: 'refused', detail: f.reason });
      return undefined;
    }
    if (f.truncated) {
      notes.push({ file, kind: 'truncated', detail: `${f.truncated.size} bytes` });
      dns.truncated = [...(dns.truncated ?? []), file];
    }
    return f.text;
  };
  const hostname = text('/etc/hostname');
  if (hostname !== undefined) {
    const v = parseNameFile(hostname);
    if (v !== undefined) dns.etcHostname = v;
  }
  const domainname = text('/etc/domainname');
  if (domainname !== undefined) {
    const v = parseNameFile(domainname);
    if (v !== undefined) dns.etcDomainname = v;
  }
  const resolv = text('/etc/resolv.conf');
  if (resolv !== undefined) dns.resolvConf = parseResolvConf(resolv);
  const hosts = text('/etc/hosts');
  if (hosts !== undefined) dns.hosts = parseHosts(hosts);
  return { dns, notes };
}
