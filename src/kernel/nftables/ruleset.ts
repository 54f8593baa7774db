/**
 * Reads the nf_tables ruleset of the namespace a NETLINK_NETFILTER socket was
 * created in: tables first (one cheap dump; most namespaces have none and
 * stop there), then chains and rules of every family in one dump each.
 *
 * The three dumps are separate kernel walks, so a concurrent ruleset change
 * can land between them; every reply carries the ruleset generation in
 * nfgenmsg.res_id (nf_tables_api.c: nfnl_fill_hdr(..., nft_base_seq(net))),
 * so differing generations (or NLM_F_DUMP_INTR) mean "read again". Sets
 * are read only when a rule looks one up, and only those sets.
 */
import { AttrBuilder, NETLINK_NETFILTER, NetlinkSocket, type NlMsg } from '../netlink.js';
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
  NFT_MSG_GETSET,
  NFT_MSG_GETSETELEM,
  NFT_MSG_GETTABLE,
  nftDump,
  parseNfgenmsg,
} from './nfnetlink.js';
import { decodeSet, decodeSetElems, type NftSet, type NftSetElem } from './sets.js';

export interface NftRuleset {
  tables: NftTable[];
  chains: NftChain[];
  rules: NftRule[];
  /** Sets and maps that rules of the read tables look up, with their elements. */
  sets: NftSetContents[];
  /** One line per object that could not be decoded (the object is left out). */
  errors: string[];
}

export interface NftSetContents extends NftSet {
  elems: NftSetElem[];
}

/** NFT_MSG_NEWTABLE/NEWCHAIN/NEWRULE/NEWSET/NEWSETELEM: the message types of dump replies. */
const NEW_OF = {
  [NFT_MSG_GETTABLE]: 0,
  [NFT_MSG_GETCHAIN]: 3,
  [NFT_MSG_GETRULE]: 6,
  [NFT_MSG_GETSET]: 9,
  [NFT_MSG_GETSETELEM]: 12,
} as const;

/** Sets a ruleset's lookups name, as family/table/set keys. */
export const setKey = (family: number, table: string, set: string): string => `${family}/${table}/${set}`;

/** Upper bound of elements read per set: beyond it the set is reported as not read. */
export const MAX_SET_ELEMS = 65536;

/** Dumps the sets the rules look up and their elements. */
function readSets(
  sock: NetlinkSocket,
  rules: readonly NftRule[],
): { sets: NftSetContents[]; errors: string[]; generations: Set<number>; interrupted: boolean } {
  const wanted = new Set<string>();
  for (const r of rules)
    for (const e of r.exprs) if (e.type === 'lookup') wanted.add(setKey(r.family, r.table, e.set));
  const out = {
    sets: [] as NftSetContents[],
    errors: [] as string[],
    generations: new Set<number>(),
    interrupted: false,
  };
  if (wanted.size === 0) return out;
  const d = nftDump(sock, NFT_MSG_GETSET);
  out.interrupted ||= d.interrupted;
  const sets = decodeDump(d.messages, NFT_MSG_GETSET, decodeSet);
  out.errors.push(...sets.errors);
  for (const g of sets.generations) out.generations.add(g);
  for (const set of sets.items) {
    if (!wanted.has(setKey(set.family, set.table, set.name))) continue;
    // NFTA_SET_ELEM_LIST_TABLE, NFTA_SET_ELEM_LIST_SET select the set to dump.
    const attrs = new AttrBuilder().str(1, set.table).str(2, set.name).build();
    const e = nftDump(sock, NFT_MSG_GETSETELEM, set.family, attrs);
    out.interrupted ||= e.interrupted;
    const batches = decodeDump(e.messages, NFT_MSG_GETSETELEM, decodeSetElems);
    out.errors.push(...batches.errors.map((m) => `set ${set.name}: ${m}`));
    for (const g of batches.generations) out.generations.add(g);
    const elems = batches.items.flatMap((b) => b.elems);
    if (batches.errors.length > 0) continue;
    if (elems.length > MAX_SET_ELEMS) {
      out.errors.push(`set ${set.name}: ${elems.length} elements, more than the ${MAX_SET_ELEMS} read`);
      continue;
    }
    out.sets.push({ ...set, elems });
  }
  return out;
}

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
  let last: NftRuleset = { tables: [], chains: [], rules: [], sets: [], errors: [] };
  for (let attempt = 0; attempt < 3; attempt++) {
    const t = nftDump(sock, NFT_MSG_GETTABLE);
    const tables = decodeDump(t.messages, NFT_MSG_GETTABLE, decodeTable);
    const wanted = families ? tables.items.filter((x) => families.has(x.family)) : tables.items;
    if (wanted.length === 0)
      return { tables: tables.items, chains: [], rules: [], sets: [], errors: tables.errors };
    const c = nftDump(sock, NFT_MSG_GETCHAIN);
    const chains = decodeDump(c.messages, NFT_MSG_GETCHAIN, decodeChain);
    const r = nftDump(sock, NFT_MSG_GETRULE);
    const rules = decodeDump(r.messages, NFT_MSG_GETRULE, decodeRule);
    const keep = <X extends { family: number }>(xs: X[]) =>
      families ? xs.filter((x) => families.has(x.family)) : xs;
    const kept = keep(rules.items);
    const sets = readSets(sock, kept);
    last = {
      tables: tables.items,
      chains: keep(chains.items),
      rules: kept,
      sets: sets.sets,
      errors: [...tables.errors, ...chains.errors, ...rules.errors, ...sets.errors],
    };
    const gens = new Set([
      ...tables.generations,
      ...chains.generations,
      ...rules.generations,
      ...sets.generations,
    ]);
    if (!t.interrupted && !c.interrupted && !r.interrupted && !sets.interrupted && gens.size <= 1)
      return last;
  }
  return last;
}

/** Opens a NETLINK_NETFILTER socket in the calling thread's current network namespace. */
export function openNfnetlink(timeoutMs = 2000): NetlinkSocket {
  return new NetlinkSocket(NETLINK_NETFILTER, { timeoutMs, rcvbuf: 1 << 20 });
}
