/**
 * Reads the nf_tables ruleset of the namespace a NETLINK_NETFILTER socket was
 * created in: tables first (one cheap dump; most namespaces have none and
 * stop there), then chains and rules of every family in one dump each.
 *
 * The three dumps are separate kernel walks, so a concurrent ruleset change
 * can land between them; every reply carries the ruleset generation in
 * nfgenmsg.res_id (nf_tables_api.c: nfnl_fill_hdr(..., nft_base_seq(net))),
 * so differing generations (or NLM_F_DUMP_INTR) mean "read again".
 */
import { NETLINK_NETFILTER, NetlinkSocket, type NlMsg } from '../netlink.js';
import { NftDecodeError } from './expr.js';
import {
  decodeChain,
  decodeRule,
  decodeTable,
  type NftChain,
  type NftRule,
  type NftTable,
} from './messages.js';
import {
  NFNL_SUBSYS_NFTABLES,
  NFT_MSG_GETCHAIN,
  NFT_MSG_GETRULE,
  NFT_MSG_GETTABLE,
  nftDump,
  parseNfgenmsg,
} from './nfnetlink.js';

export interface NftRuleset {
  tables: NftTable[];
  chains: NftChain[];
  rules: NftRule[];
  /** One line per object that could not be decoded (the object is left out). */
  errors: string[];
}

/** NFT_MSG_NEWTABLE/NEWCHAIN/NEWRULE: the message types of dump replies. */
const NEW_OF = { [NFT_MSG_GETTABLE]: 0, [NFT_MSG_GETCHAIN]: 3, [NFT_MSG_GETRULE]: 6 } as const;

/** Decodes dump replies; objects that do not decode become error lines. Pure. */
export function decodeDump<T>(
  messages: readonly NlMsg[],
  get: keyof typeof NEW_OF,
  decode: (m: NlMsg) => T,
): { items: T[]; errors: string[]; generations: Set<number> } {
  const want = (NFNL_SUBSYS_NFTABLES << 8) | NEW_OF[get];
  const items: T[] = [];
  const errors: string[] = [];
  const generations = new Set<number>();
  for (const m of messages) {
    if (m.type !== want) continue;
    const g = parseNfgenmsg(m.data);
    if (g) generations.add(g.resId);
    try {
      items.push(decode(m));
    } catch (e) {
      if (e instanceof NftDecodeError) errors.push(e.message);
      else throw e;
    }
  }
  return { items, errors, generations };
}

/** Reads the ruleset through `sock`; `families` limits chains/rules to tables of those families. */
export function readRuleset(sock: NetlinkSocket, families?: ReadonlySet<number>): NftRuleset {
  let last: NftRuleset = { tables: [], chains: [], rules: [], errors: [] };
  for (let attempt = 0; attempt < 3; attempt++) {
    const t = nftDump(sock, NFT_MSG_GETTABLE);
    const tables = decodeDump(t.messages, NFT_MSG_GETTABLE, decodeTable);
    const wanted = families ? tables.items.filter((x) => families.has(x.family)) : tables.items;
    if (wanted.length === 0) return { tables: tables.items, chains: [], rules: [], errors: tables.errors };
    const c = nftDump(sock, NFT_MSG_GETCHAIN);
    const chains = decodeDump(c.messages, NFT_MSG_GETCHAIN, decodeChain);
    const r = nftDump(sock, NFT_MSG_GETRULE);
    const rules = decodeDump(r.messages, NFT_MSG_GETRULE, decodeRule);
    const keep = <X extends { family: number }>(xs: X[]) =>
      families ? xs.filter((x) => families.has(x.family)) : xs;
    last = {
      tables: tables.items,
      chains: keep(chains.items),
      rules: keep(rules.items),
      errors: [...tables.errors, ...chains.errors, ...rules.errors],
    };
    const gens = new Set([...tables.generations, ...chains.generations, ...rules.generations]);
    if (!t.interrupted && !c.interrupted && !r.interrupted && gens.size <= 1) return last;
  }
  return last;
}

/** Opens a NETLINK_NETFILTER socket in the calling thread's current network namespace. */
export function openNfnetlink(timeoutMs = 2000): NetlinkSocket {
  return new NetlinkSocket(NETLINK_NETFILTER, { timeoutMs, rcvbuf: 1 << 20 });
}
