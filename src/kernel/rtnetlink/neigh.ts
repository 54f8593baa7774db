/** RTM_NEWNEIGH decoding (struct ndmsg + NDA_* attributes, include/uapi/linux/neighbour.h). */
import type { Draft } from '../../model/types.js';
import { parseAttrs } from '../netlink.js';
import { AF_BRIDGE, NDA_DST, NDA_LLADDR, NDMSG_LEN, NTF_NAMES, NUD_NAMES } from './constants.js';
import { bits, familyName, ip, mac } from './format.js';
import type { DecodeIssues } from './issues.js';

export function decodeNeigh(data: Buffer, issues?: DecodeIssues): Draft.Neighbour | undefined {
  if (data.length < NDMSG_LEN) {
    if (issues) issues.malformed++;
    return undefined;
  }
  const f = data[0] as number;
  const family = f === AF_BRIDGE ? 'bridge' : familyName(f);
  if (!family) return undefined;
  const a = parseAttrs(data, NDMSG_LEN);
  if (a.truncated && issues) issues.truncated++;
  const state = data.readUInt16LE(8);
  const n: Draft.Neighbour = {
    family,
    dev: data.readInt32LE(4),
    // NUD_NONE (0) has no bit: say so rather than an empty list.
    state: state === 0 ? ['none'] : bits(state, NUD_NAMES),
    flags: bits(data[10] as number, NTF_NAMES),
  };
  const dst = ip(a.map.get(NDA_DST));
  if (dst) n.address = dst;
  const ll = mac(a.map.get(NDA_LLADDR));
  if (ll) n.mac = ll;
  return n;
}
