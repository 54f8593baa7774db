/**
 * The rules of one nf_tables table, each with its chain and comment: an
 * in-process NFT_MSG_GETRULE dump over NETLINK_NETFILTER filtered by
 * NFTA_RULE_TABLE (include/uapi/linux/netfilter/nf_tables.h); the comment is
 * libnftnl's userdata TLV NFTNL_UDATA_RULE_COMMENT. The lab builder keeps its
 * ownership marks there.
 */
import { AttrBuilder, NETLINK_NETFILTER, NetlinkError, NetlinkSocket, parseAttrs, str } from '../netlink.js';
import { withNetns } from '../netns.js';
import {
  NFNL_SUBSYS_NFTABLES,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFT_MSG_GETRULE,
} from './nfnetlink.js';

const NFT_MSG_NEWRULE = 6;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_USERDATA = 7;
const NFTNL_UDATA_RULE_COMMENT = 0;
/** Table families by their nft(8) names. */
export const NFPROTO: Record<string, number> = { inet: NFPROTO_INET, ip: NFPROTO_IPV4, ip6: NFPROTO_IPV6 };

export interface RuleFound {
  chain: string;
  comment?: string;
}

/** Comment TLVs (libnftnl udata: u8 type, u8 len, value). Pure. */
export function udataComment(ud: Buffer | undefined): string | undefined {
  if (!ud) return undefined;
  for (let off = 0; off + 2 <= ud.length; ) {
    const type = ud[off] as number;
    const len = ud[off + 1] as number;
    if (off + 2 + len > ud.length) return undefined;
    if (type === NFTNL_UDATA_RULE_COMMENT) return str(ud.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return undefined;
}

/**
 * Rules of one table in the namespace `nsPath` (or the caller's when
 * undefined); undefined when the table does not exist.
 */
export function readTableRules(
  nsPath: string | number | undefined,
  family: string,
  table: string,
): RuleFound[] | undefined {
  const open = () => new NetlinkSocket(NETLINK_NETFILTER);
  const sock = nsPath === undefined ? open() : withNetns(nsPath, open);
  try {
    const hdr = Buffer.from([NFPROTO[family] ?? 0, 0, 0, 0]);
    let msgs: ReturnType<NetlinkSocket['dump']>['messages'];
    try {
      msgs = sock.dump(
        (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE,
        Buffer.concat([hdr, new AttrBuilder().str(NFTA_RULE_TABLE, table).build()]),
        `nft rules of ${family} ${table}`,
      ).messages;
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === 2) return undefined; // ENOENT: no such table
      throw e;
    }
    const out: RuleFound[] = [];
    for (const m of msgs) {
      if (m.type !== ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)) continue;
      const a = parseAttrs(m.data, 4).map;
      if (str(a.get(NFTA_RULE_TABLE)) !== table) continue;
      const r: RuleFound = { chain: str(a.get(NFTA_RULE_CHAIN)) ?? '' };
      const c = udataComment(a.get(NFTA_RULE_USERDATA));
      if (c !== undefined) r.comment = c;
      out.push(r);
    }
    return out;
  } finally {
    sock.close();
  }
}
