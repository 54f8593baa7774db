/**
 * nf_tables sets, maps and verdict maps: decoders for NFT_MSG_NEWSET and
 * NFT_MSG_NEWSETELEM dump replies (enum nft_set_attributes,
 * nft_set_elem_list_attributes, nft_set_elem_attributes). Pure.
 */
import { type NlMsg, parseAttrList, parseAttrs, str, u32be } from '../netlink.js';
import { decodeData, NftDecodeError, type Verdict } from './expr.js';
import { decodeHeader } from './messages.js';
import { withPresent } from './nfnetlink.js';

export const NFT_SET_ANONYMOUS = 0x1;
export const NFT_SET_INTERVAL = 0x4;
export const NFT_SET_MAP = 0x8;
export const NFT_SET_CONCAT = 0x80;
export const NFT_SET_ELEM_INTERVAL_END = 0x1;
export const NFT_SET_ELEM_CATCHALL = 0x2;

export interface NftSet {
  family: number;
  table: string;
  name: string;
  flags: number;
  keyLen: number;
  /** NFT_DATA_VERDICT (0xffffff00) for verdict maps. */
  dataType?: number;
  dataLen?: number;
}

export interface NftSetElem {
  /** Absent for a catch-all element. */
  key?: Buffer;
  /** Inclusive end of a range element (concatenated interval sets). */
  keyEnd?: Buffer;
  value?: Buffer;
  verdict?: Verdict;
  flags: number;
}

export function decodeSet(msg: NlMsg): NftSet {
  const { family, attrs } = decodeHeader(msg, 'set');
  // NFTA_SET_TABLE 1, NAME 2, FLAGS 3, KEY_LEN 5, DATA_TYPE 6, DATA_LEN 7
  const table = str(attrs.get(1));
  const name = str(attrs.get(2));
  const keyLen = u32be(attrs.get(5));
  if (table === undefined || name === undefined || keyLen === undefined)
    throw new NftDecodeError('set message without table, name or key length');
  return withPresent(
    { family, table, name, flags: u32be(attrs.get(3)) ?? 0, keyLen },
    { dataType: u32be(attrs.get(6)), dataLen: u32be(attrs.get(7)) },
  );
}

/** One NEWSETELEM message: the set it belongs to and (a batch of) its elements. */
export function decodeSetElems(msg: NlMsg): {
  family: number;
  table: string;
  set: string;
  elems: NftSetElem[];
} {
  const { family, attrs } = decodeHeader(msg, 'set element');
  // NFTA_SET_ELEM_LIST_TABLE 1, _SET 2, _ELEMENTS 3
  const table = str(attrs.get(1));
  const set = str(attrs.get(2));
  if (table === undefined || set === undefined)
    throw new NftDecodeError('set element message without table or set');
  const elems: NftSetElem[] = [];
  for (const el of parseAttrList(attrs.get(3) ?? Buffer.alloc(0))) {
    if (el.type !== 1) continue; // NFTA_LIST_ELEM
    const e = parseAttrs(el.value);
    if (e.truncated) throw new NftDecodeError(`set ${set}: truncated element`);
    const out: NftSetElem = { flags: u32be(e.map.get(3)) ?? 0 };
    const key = e.map.get(1);
    if (key) out.key = need(decodeData(key, `set ${set} key`).value, set);
    const keyEnd = e.map.get(10); // NFTA_SET_ELEM_KEY_END
    if (keyEnd) out.keyEnd = need(decodeData(keyEnd, `set ${set} key end`).value, set);
    const data = e.map.get(2);
    if (data) {
      const d = decodeData(data, `set ${set} data`);
      if (d.value) out.value = d.value;
      if (d.verdict) out.verdict = d.verdict;
    }
    if (!out.key && !(out.flags & NFT_SET_ELEM_CATCHALL))
      throw new NftDecodeError(`set ${set}: element without a key`);
    elems.push(out);
  }
  return { family, table, set, elems };
}

function need(b: Buffer | undefined, set: string): Buffer {
  if (!b) throw new NftDecodeError(`set ${set}: key is a verdict`);
  return b;
}

/**
 * The ranges a set's elements cover, as inclusive [from, to] key pairs.
 * Hash sets: one point per element. Concatenated interval sets (pipapo) carry
 * an inclusive KEY_END. Single-key interval sets (rbtree) dump start
 * elements and NFT_SET_ELEM_INTERVAL_END elements whose key is the exclusive
 * end; they are paired after sorting by key.
 */
export function elementRanges(
  set: Pick<NftSet, 'flags'>,
  elems: readonly NftSetElem[],
): { from?: Buffer; to?: Buffer; elem: NftSetElem }[] {
  if (!(set.flags & NFT_SET_INTERVAL) || elems.some((e) => e.keyEnd)) {
    return elems
      .filter((e) => !(e.flags & NFT_SET_ELEM_INTERVAL_END))
      .map((e) => (e.key ? { from: e.key, to: e.keyEnd ?? e.key, elem: e } : { elem: e }));
  }
  const keyed = elems.filter((e) => e.key).sort((x, y) => Buffer.compare(x.key as Buffer, y.key as Buffer));
  const out: { from?: Buffer; to?: Buffer; elem: NftSetElem }[] = elems
    .filter((e) => !e.key)
    .map((elem) => ({ elem }));
  for (let i = 0; i < keyed.length; i++) {
    const start = keyed[i];
    if (!start?.key || start.flags & NFT_SET_ELEM_INTERVAL_END) continue;
    const end = keyed[i + 1];
    let to: Buffer;
    if (end?.key && end.flags & NFT_SET_ELEM_INTERVAL_END) {
      to = decrement(end.key);
      i++;
    } else to = Buffer.alloc(start.key.length, 0xff); // open interval up to the maximum
    out.push({ from: start.key, to, elem: start });
  }
  return out;
}

function decrement(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if ((out[i] ?? 0) > 0) {
      out[i] = (out[i] ?? 0) - 1;
      break;
    }
    out[i] = 0xff;
  }
  return out;
}
