/**
 * RTM_NEWRULE / RTM_DELRULE request payloads (struct fib_rule_hdr + FRA_*
 * attributes, include/uapi/linux/fib_rules.h), the inverse of decodeRule().
 * Pure: the caller sends them on a NETLINK_ROUTE socket.
 */
import { AttrBuilder } from '../netlink.js';
import {
  FIB_RULE_HDR_LEN,
  FIB_RULE_INVERT,
  FR_ACT_TO_TBL,
  FRA_DST,
  FRA_FWMARK,
  FRA_FWMASK,
  FRA_IIFNAME,
  FRA_OIFNAME,
  FRA_PRIORITY,
  FRA_PROTOCOL,
  FRA_SRC,
  FRA_TABLE,
} from './constants.js';

export { FR_ACT_TO_TBL, RTM_DELRULE, RTM_NEWRULE } from './constants.js';

export interface RuleSpec {
  family: 'inet' | 'inet6';
  priority: number;
  /** Source and destination: address bytes (4 or 16) and prefix length. */
  src?: { addr: Buffer; len: number };
  dst?: { addr: Buffer; len: number };
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  table: number;
  /** FR_ACT_* (default FR_ACT_TO_TBL); other actions only to delete rules found in a dump. */
  action?: number;
  /** FIB_RULE_INVERT ("not"). */
  invert?: boolean;
  /** FRA_PROTOCOL (Linux 4.17+): who installed the rule, e.g. RTPROT_STATIC (4). */
  protocol?: number;
}

/**
 * The payload of an RTM_NEWRULE or RTM_DELRULE. The table goes in both the
 * header (8 bits; 0 = RT_TABLE_UNSPEC when it does not fit, as iproute2 does)
 * and FRA_TABLE (32 bits), which the kernel prefers when present.
 */
export function buildRuleMsg(r: RuleSpec): Buffer {
  const h = Buffer.alloc(FIB_RULE_HDR_LEN);
  h.writeUInt8(r.family === 'inet' ? 2 : 10, 0);
  h.writeUInt8(r.dst?.len ?? 0, 1);
  h.writeUInt8(r.src?.len ?? 0, 2);
  h.writeUInt8(0, 3); // tos
  h.writeUInt8(r.table < 256 ? r.table : 0, 4);
  h.writeUInt8(r.action ?? FR_ACT_TO_TBL, 7);
  h.writeUInt32LE(r.invert ? FIB_RULE_INVERT : 0, 8);
  const a = new AttrBuilder().u32(FRA_PRIORITY, r.priority).u32(FRA_TABLE, r.table);
  if (r.src) a.raw(FRA_SRC, r.src.addr);
  if (r.dst) a.raw(FRA_DST, r.dst.addr);
  if (r.iif !== undefined) a.str(FRA_IIFNAME, r.iif);
  if (r.oif !== undefined) a.str(FRA_OIFNAME, r.oif);
  if (r.fwmark !== undefined) a.u32(FRA_FWMARK, r.fwmark);
  if (r.fwmask !== undefined) a.u32(FRA_FWMASK, r.fwmask);
  if (r.protocol !== undefined) a.u8(FRA_PROTOCOL, r.protocol);
  return Buffer.concat([h, a.build()]);
}
