/**
 * A tenant's DNS configuration as the tenant sees it: names of its UTS
 * namespace and the /etc files under its own root.
 */
import type { Draft } from '../model/types.js';
import { parseHosts, parseNameFile } from './hosts.js';
import { parseResolvConf } from './resolvconf.js';
import { readInRoot } from './rootfs.js';

/** Reads the /etc files below `root` (/proc/PID/root); throws on errors other than "missing". */
export function readEtcDns(root: string): Omit<Draft.Dns, 'utsHostname' | 'utsDomainname'> {
  const dns: Draft.Dns = { hosts: [] };
  const hostname = readInRoot(root, '/etc/hostname');
  if (hostname !== undefined) {
    const v = parseNameFile(hostname);
    if (v !== undefined) dns.etcHostname = v;
  }
  const domainname = readInRoot(root, '/etc/domainname');
  if (domainname !== undefined) {
    const v = parseNameFile(domainname);
    if (v !== undefined) dns.etcDomainname = v;
  }
  const resolv = readInRoot(root, '/etc/resolv.conf');
  if (resolv !== undefined) dns.resolvConf = parseResolvConf(resolv);
  const hosts = readInRoot(root, '/etc/hosts');
  if (hosts !== undefined) dns.hosts = parseHosts(hosts);
  return dns;
}
