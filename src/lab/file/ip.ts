/**
 * Address helpers for lab declarations (pure): parsing text to prefixes and
 * bytes; bytes are formatted back by the kernel layer's formatter.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipOf, ipv6 } from '../../kernel/rtnetlink/format.js';

export type Family = 'inet' | 'inet6';

export interface Cidr {
  family: Family;
  address: string;
  prefixlen: number;
}

/** Parses "10.0.0.1/24" (prefix defaults to the full length); undefined when invalid. */
export function parseCidr(s: string, family?: Family): Cidr | undefined {
  const [addr = '', pfx] = s.split('/');
  const fam: Family | undefined = isIPv4(addr) ? 'inet' : isIPv6(addr) ? 'inet6' : undefined;
  if (!fam || (family && fam !== family)) return undefined;
  const max = fam === 'inet' ? 32 : 128;
  const prefixlen = pfx === undefined ? max : /^\d+$/.test(pfx) ? Number(pfx) : Number.NaN;
  if (!(prefixlen >= 0 && prefixlen <= max)) return undefined;
  return { family: fam, address: canonical(addr), prefixlen };
}

export function familyOf(addr: string): Family | undefined {
  return isIPv4(addr) ? 'inet' : isIPv6(addr) ? 'inet6' : undefined;
}

/** Address bytes (4 or 16). */
export function ipBytes(addr: string): Buffer {
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  const b = Buffer.alloc(16);
  let a = addr;
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const m = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (m?.[1]) {
    const v4 = m[1].split('.').map(Number);
    a = `${a.slice(0, -m[1].length)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = a.split('::');
  const hs = head ? head.split(':') : [];
  const ts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  groups.forEach((g, i) => {
    b.writeUInt16BE(Number.parseInt(g, 16) & 0xffff, i * 2);
  });
  return b;
}

/** RFC 5952 text of an address, as the kernel layer formats what it decodes (so both compare equal). */
export const canonical = (addr: string): string => (isIPv4(addr) ? addr : ipv6(ipBytes(addr)));

/** The network of a CIDR as "addr/len" with host bits cleared. */
export function networkOf(c: Cidr): string {
  const b = ipBytes(c.address);
  for (let i = 0; i < b.length * 8; i++) {
    if (i >= c.prefixlen) b[i >> 3] = (b[i >> 3] ?? 0) & ~(0x80 >> (i & 7));
  }
  return `${ipOf(c.family, b)}/${c.prefixlen}`;
}

/** Whether `addr` lies inside `net`. */
export function contains(net: Cidr, addr: string): boolean {
  if (familyOf(addr) !== net.family) return false;
  const a = ipBytes(addr);
  const n = ipBytes(net.address);
  for (let i = 0; i < net.prefixlen; i++) {
    const m = 0x80 >> (i & 7);
    if (((a[i >> 3] ?? 0) & m) !== ((n[i >> 3] ?? 0) & m)) return false;
  }
  return true;
}

/** "default" → 0.0.0.0/0 or ::/0 for the family of the gateway (IPv4 when unknown). */
export function routeDst(dst: string, via?: string): Cidr | undefined {
  if (dst === 'default') {
    const fam = via ? familyOf(via) : 'inet';
    return fam === 'inet6'
      ? { family: 'inet6', address: '::', prefixlen: 0 }
      : { family: 'inet', address: '0.0.0.0', prefixlen: 0 };
  }
  const c = parseCidr(dst);
  if (!c) return undefined;
  const net = networkOf(c);
  const [address = ''] = net.split('/');
  return { family: c.family, address, prefixlen: c.prefixlen };
}

export const cidrString = (c: Cidr): string => `${c.address}/${c.prefixlen}`;

/** Normalises a MAC to lower-case colon form; undefined when invalid. */
export function parseMac(s: string): string | undefined {
  const m = s.trim().toLowerCase();
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) ? m : undefined;
}
