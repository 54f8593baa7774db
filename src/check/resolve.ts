/**
 * Name resolution as the start container's libc would do it, but in-process:
 * /etc/hosts first ("files" before "dns"), then A and AAAA queries to the
 * nameservers of its resolv.conf, trying the search list as resolv.conf(5)
 * orders it. The queries go out through c-ares sockets, which the event loop
 * of the calling thread creates: run from the check worker, that thread is in
 * the start namespace, so Docker's 127.0.0.11 is the container's, not ours.
 * (dns.lookup would use getaddrinfo on libuv's pool threads, in our own
 * namespace and with our own resolv.conf: never used here.)
 */
import { Resolver } from 'node:dns/promises';
import type { ResolverConfig } from './types.js';

export interface Resolution {
  addresses: string[];
  /** The name that answered (after the search list), or the hosts file. */
  answeredAs?: string;
  error?: string;
}

/** resolv.conf(5): fewer dots than ndots → search list first; a trailing dot → the name only. */
export function candidates(name: string, cfg: Pick<ResolverConfig, 'search' | 'ndots'>): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const searched = cfg.search.map((s) => `${name}.${s.replace(/\.$/, '')}`);
  return dots >= cfg.ndots ? [name, ...searched] : [...searched, name];
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);

function describe(code: string | undefined, message: string): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'no such name (NXDOMAIN)';
    case 'ENODATA':
      return 'name exists but has no A/AAAA record';
    case 'ETIMEOUT':
      return 'no answer from the nameservers';
    case 'ECONNREFUSED':
      return 'nameserver refused the connection';
    case 'ESERVFAIL':
      return 'nameserver failed (SERVFAIL)';
    case 'EREFUSED':
      return 'nameserver refused the query (REFUSED)';
    case 'ECANCELLED':
      return 'resolution budget exhausted';
    default:
      return message;
  }
}

async function query(
  r: Resolver,
  name: string,
): Promise<{ addresses: string[]; code?: string; message?: string }> {
  const [v4, v6] = await Promise.allSettled([r.resolve4(name), r.resolve6(name)]);
  const addresses = [
    ...(v4.status === 'fulfilled' ? v4.value : []),
    ...(v6.status === 'fulfilled' ? v6.value : []),
  ];
  if (addresses.length > 0) return { addresses };
  // The more telling failure: a server fault beats "no AAAA record".
  const errs = [v4, v6].flatMap((x) => (x.status === 'rejected' ? [x.reason as NodeJS.ErrnoException] : []));
  const e = errs.find((x) => !NOT_FOUND.has(String(x.code))) ?? errs[0];
  return { addresses, code: e?.code, message: e?.message ?? 'no address' };
}

/** Resolves `name` within `budgetMs`. */
export async function resolveName(name: string, cfg: ResolverConfig, budgetMs: number): Promise<Resolution> {
  const lower = name.toLowerCase();
  const fromHosts = cfg.hosts
    .filter((h) => h.names.some((n) => n.toLowerCase() === lower))
    .map((h) => h.address);
  if (fromHosts.length > 0) return { addresses: [...new Set(fromHosts)], answeredAs: '/etc/hosts' };

  const perTry = Math.max(200, Math.floor(budgetMs / 2));
  const r = new Resolver({ timeout: perTry, tries: 1 });
  try {
    r.setServers(cfg.nameservers);
  } catch (e) {
    return { addresses: [], error: `unusable nameserver in resolv.conf: ${(e as Error).message}` };
  }
  const timer = setTimeout(() => r.cancel(), budgetMs);
  let last: { code?: string; message?: string } = {};
  try {
    for (const c of candidates(name, cfg)) {
      const q = await query(r, c);
      if (q.addresses.length > 0) return { addresses: [...new Set(q.addresses)], answeredAs: c };
      last = q;
      // Only "this name does not exist" moves on to the next candidate (resolv.conf(5)).
      if (!NOT_FOUND.has(String(q.code))) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return { addresses: [], error: describe(last.code, last.message ?? 'no address') };
}
