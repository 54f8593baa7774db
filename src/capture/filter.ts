/**
 * Capture filters: a pcap-filter(7) expression compiled once per link type
 * the kernel shows the sockets — ethernet frames (SOCK_RAW on ethernet and
 * loopback devices) and bare network-layer packets (SOCK_DGRAM on the rest).
 */
import { compileFilter, DLT_EN10MB, DLT_RAW, FilterSyntaxError } from '../kernel/libpcap.js';
import { MAX_FILTER_LENGTH } from './types.js';

export { FilterSyntaxError, MAX_FILTER_LENGTH };

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
  const ethernet = compileFilter(expr, DLT_EN10MB, snaplen);
  let raw: Buffer;
  try {
    raw = compileFilter(expr, DLT_RAW, snaplen);
  } catch (e) {
    // Link-layer terms (ether host, arp) have no meaning without a link header: what compiled for
    // Ethernet but not for raw IP matches nothing there.
    if (!(e instanceof FilterSyntaxError)) throw e;
    raw = Buffer.from([0x06, 0, 0, 0, 0, 0, 0, 0]); // BPF_RET|BPF_K 0
  }
  return { ethernet, raw };
}
