/** Formatting of addresses and bit sets found in rtnetlink messages (pure). */

/** Dotted quad from 4 bytes. */
export function ipv4(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text form of an IPv6 address: lower case, longest zero run compressed, IPv4-mapped tail. */
export function ipv6(b: Buffer, off = 0): string {
  const w = words;
  for (let i = 0; i < 8; i++) w[i] = ((b[off + i * 2] as number) << 8) | (b[off + i * 2 + 1] as number);
  // ::ffff:a.b.c.d (RFC 5952 section 5)
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${ipv4(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    // A single zero field is not compressed (RFC 5952 section 4.2.2).
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => {
    let out = '';
    for (let i = from; i < to; i++)
      out += i === from ? (w[i] as number).toString(16) : `:${(w[i] as number).toString(16)}`;
    return out;
  };
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

const words: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/** Address of `len` bytes at `off`: 4 → IPv4, 16 → IPv6, anything else → undefined. */
export function ipAt(b: Buffer, off: number, len: number): string | undefined {
  if (len === 4) return ipv4(b, off);
  if (len === 16) return ipv6(b, off);
  return undefined;
}

/** Address by length: 4 → IPv4, 16 → IPv6, anything else → undefined. */
export function ip(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  if (b.length === 4) return ipv4(b);
  if (b.length === 16) return ipv6(b);
  return undefined;
}

/** Address of a known family from a buffer that may be longer (sock_diag pads to 16 bytes). */
export function ipOf(family: 'inet' | 'inet6', b: Buffer, off = 0): string {
  return family === 'inet' ? ipv4(b, off) : ipv6(b, off);
}

/** Link-layer address as colon-separated lower-case hex (any length; empty → undefined). */
export function mac(b: Buffer | undefined): string | undefined {
  if (!b || b.length === 0) return undefined;
  let s = '';
  for (let i = 0; i < b.length; i++) {
    if (i) s += ':';
    const v = b[i] as number;
    s += v < 16 ? `0${v.toString(16)}` : v.toString(16);
  }
  return s;
}

/** Names of the set bits of `value` from a table; unknown bits as 0x-hex so nothing is lost. */
export function bits(value: number, table: readonly (readonly [number, string])[]): string[] {
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of table) {
    if (rest & bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

export const familyName = (f: number): 'inet' | 'inet6' | undefined =>
  f === 2 ? 'inet' : f === 10 ? 'inet6' : undefined;
