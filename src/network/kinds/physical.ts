/**
 * Kind-less devices: loopback, physical (a device with a parent bus device) or
 * "unknown". The parent device comes from IFLA_PARENT_DEV_NAME/_BUS_NAME
 * (Linux >= 5.16), so it works in every namespace; /sys/class/net only shows
 * the namespace of whoever mounted sysfs, so it is the fallback for the host
 * namespace only. The driver is read from /sys/bus/<bus>/devices/<dev>/driver,
 * which is not namespaced.
 */
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { IFF_LOOPBACK } from '../../kernel/rtnetlink/constants.js';
import type { RawLink } from '../../kernel/rtnetlink/link.js';
import type { Draft } from '../../model/types.js';

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Classifies a kind-less link and fills `physical` (reads sysfs). */
export function classifyKindless(
  iface: Draft.Interface,
  raw: RawLink,
  hostNamespace: boolean,
  sysRoot = '/sys',
): void {
  if (raw.flags & IFF_LOOPBACK) {
    iface.kind = 'loopback';
    return;
  }
  let bus = raw.parentBus;
  let dev = raw.parentDev;
  if (!dev && hostNamespace && raw.name && !raw.name.includes('/')) {
    const d = link(`${sysRoot}/class/net/${raw.name}/device`);
    if (d) {
      dev = basename(d);
      const sub = link(`${sysRoot}/class/net/${raw.name}/device/subsystem`);
      if (sub) bus = basename(sub);
    }
  }
  if (!dev) {
    iface.kind = 'unknown';
    return;
  }
  iface.kind = 'physical';
  const p: NonNullable<Draft.Interface['physical']> = { busAddress: dev };
  if (bus) {
    p.bus = bus;
    const drv = link(`${sysRoot}/bus/${bus}/devices/${dev}/driver`);
    if (drv) p.driver = basename(drv);
  }
  iface.physical = p;
}
