/**
 * Capture filters: a pcap-filter(7) expression compiled once per link type
 * the kernel shows the sockets — ethernet frames (SOCK_RAW on ethernet and
 * loopback devices) and bare network-layer packets (SOCK_DGRAM on the rest).
 */
import { compileFilter, FilterSyntaxError } from '../kernel/libpcap.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../kernel/packet.js';

export { FilterSyntaxError };

/** Longest expression accepted: far beyond any hand-written filter, small enough to bound the compiler. */
export const MAX_FILTER_LENGTH = 4096;

export interface CompiledFilters {
  ethernet: Uint8Array;
  raw: Uint8Array;
}

export function compileFilters(expression: string | undefined, snaplen: number): CompiledFilters | undefined {
  const expr = expression?.trim() ?? '';
  if (expr === '') return undefined;
  if (expr.length > MAX_FILTER_LENGTH)
    throw new FilterSyntaxError(`capture filter longer than ${MAX_FILTER_LENGTH} characters`);
  // A NUL would end the C string early: libpcap would compile less than was asked for.
  if (expr.includes('\0')) throw new FilterSyntaxError('capture filter contains a NUL character');
  const ethernet = compileFilter(expr, LINKTYPE_ETHERNET, snaplen);
  let raw: Buffer;
  try {
    raw = compileFilter(expr, LINKTYPE_RAW, snaplen);
  } catch {
    // Link-layer terms (ether host, arp) have no meaning without a link header: match nothing there.
    raw = Buffer.from([0x06, 0, 0, 0, 0, 0, 0, 0]); // BPF_RET|BPF_K 0
  }
  return { ethernet, raw };
}
