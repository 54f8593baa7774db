/** RTM_NEWRULE decoding (struct fib_rule_hdr + FRA_* attributes, include/uapi/linux/fib_rules.h). */
import type { Draft } from '../../model/types.js';
import { parseAttrs, str, u8, u32 } from '../netlink.js';
import {
  FIB_RULE_HDR_LEN,
  FIB_RULE_INVERT,
  FRA_DST,
  FRA_FWMARK,
  FRA_FWMASK,
  FRA_GOTO,
  FRA_IIFNAME,
  FRA_OIFNAME,
  FRA_PRIORITY,
  FRA_PROTOCOL,
  FRA_SRC,
  FRA_SUPPRESS_PREFIXLEN,
  FRA_TABLE,
  ROUTE_PROTOCOLS,
  RULE_ACTIONS,
} from './constants.js';
import { familyName, ip } from './format.js';
import type { DecodeIssues } from './issues.js';

export function decodeRule(data: Buffer, issues?: DecodeIssues): Draft.Rule | undefined {
  if (data.length < FIB_RULE_HDR_LEN) {
    if (issues) issues.malformed++;
    return undefined;
  }
  const family = familyName(data[0] as number);
  if (!family) return undefined;
  const a = parseAttrs(data, FIB_RULE_HDR_LEN);
  if (a.truncated && issues) issues.truncated++;
  const m = a.map;
  const action = data[7] as number;
  const rule: Draft.Rule = {
    family,
    priority: u32(m.get(FRA_PRIORITY)) ?? 0,
    action: RULE_ACTIONS[action] ?? String(action),
    table: u32(m.get(FRA_TABLE)) ?? (data[4] as number),
    invert: (data.readUInt32LE(8) & FIB_RULE_INVERT) !== 0,
  };
  const src = ip(m.get(FRA_SRC));
  if (src) rule.src = `${src}/${data[2]}`;
  const dst = ip(m.get(FRA_DST));
  if (dst) rule.dst = `${dst}/${data[1]}`;
  const iif = str(m.get(FRA_IIFNAME));
  if (iif) rule.iif = iif;
  const oif = str(m.get(FRA_OIFNAME));
  if (oif) rule.oif = oif;
  const mark = u32(m.get(FRA_FWMARK));
  if (mark !== undefined) rule.fwmark = mark;
  const mask = u32(m.get(FRA_FWMASK));
  if (mask !== undefined) rule.fwmask = mask;
  const tos = data[3] as number;
  if (tos) rule.tos = tos;
  const proto = u8(m.get(FRA_PROTOCOL));
  if (proto !== undefined) rule.protocol = ROUTE_PROTOCOLS[proto] ?? String(proto);
  const goto = u32(m.get(FRA_GOTO));
  if (goto !== undefined) rule.goto = goto;
  const sp = u32(m.get(FRA_SUPPRESS_PREFIXLEN));
  // -1 (0xffffffff) means "not set" (fib_rules.c).
  if (sp !== undefined && sp !== 0xffffffff) rule.suppressPrefixlen = sp;
  return rule;
}
