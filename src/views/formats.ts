/**
 * String formats used by our schemas (native: date-time; Ghostwire v1: ipv4,
 * ipv6, date-time, hostname). TypeBox rejects values whose format it does not
 * know, so they are registered once, process-wide, by every module that
 * publishes a schema.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { FormatRegistry } from '@sinclair/typebox';
import { isHostname } from './hostname.js';

export { isHostname };

/** Idempotent: FormatRegistry is global to the process. */
export function registerFormats(): void {
  const formats: Record<string, (v: string) => boolean> = {
    ipv4: (v) => isIPv4(v),
    ipv6: (v) => isIPv6(v),
    // RFC 3339 section 5.6 date-time.
    'date-time': (v) =>
      /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v) &&
      !Number.isNaN(Date.parse(v)),
    hostname: isHostname,
  };
  for (const [name, check] of Object.entries(formats)) {
    if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
  }
}
