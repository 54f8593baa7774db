/**
 * Fuzzing the nf_tables decoders (tables, chains, rules and their expressions, sets and set
 * elements) and the xtables private structs with recorded dump replies, mutated.
 *
 * The contract ("a clear error"): a decoder returns an object, or throws NftDecodeError with a
 * one-line message (the caller turns it into one line of `NftRuleset.errors` and skips the
 * object). Never a RangeError or TypeError, never a NaN or fractional number in what it returns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertSound,
  clearErrorOnly,
  fuzz,
  mutateBytes,
  type Rng,
  replay,
  shrinkBytes,
} from '../../testing/fuzz.js';
import { type NlMsg, parseAttrList, parseAttrs, str } from '../netlink.js';
import { decodeExpr, NftDecodeError } from './expr.js';
import { decodeChain, decodeRule, decodeTable } from './messages.js';
import { CHAINS, type Recorded, RULES, recordedMsg, TABLES } from './recorded.js';
import * as S from './recorded-sets.js';
import { decodeDump } from './ruleset.js';
import { decodeSet, decodeSetElems, elementRanges } from './sets.js';
import { decodeXtAddrtype, decodeXtMultiport, decodeXtNat, decodeXtTcpUdp } from './xt.js';

const payloads = (r: Recorded): Buffer[] => r.map((e) => recordedMsg(e).data);
const corpus = {
  table: [...payloads(TABLES), ...payloads(S.TABLES)],
  chain: [...payloads(CHAINS), ...payloads(S.CHAINS)],
  rule: [...payloads(RULES), ...payloads(S.RULES)],
  set: payloads(S.SETS),
  elem: payloads(S.SET_ELEMS),
};
const all = Object.values(corpus).flat();

const msg = (data: Buffer): NlMsg => ({ type: 0, flags: 0, seq: 0, pid: 0, data });

/** Expressions of the recorded rules: [name, NFTA_EXPR_DATA]. */
const exprs: [string, Buffer][] = [];
/** xt match/target info of the recorded iptables-nft rules: [name, rev, info]. */
const xtInfos: [string, number, Buffer][] = [];
for (const data of corpus.rule) {
  const list = parseAttrs(data, 4).map.get(4);
  for (const el of parseAttrList(list ?? Buffer.alloc(0))) {
    const e = parseAttrs(el.value).map;
    const name = str(e.get(1)) ?? '';
    const d = e.get(2) ?? Buffer.alloc(0);
    exprs.push([name, d]);
    if (name === 'match' || name === 'target') {
      const x = decodeExpr(name, d);
      if (x.type === 'match' || x.type === 'target') xtInfos.push([x.name, x.rev, x.info]);
    }
  }
}

function target(name: string, kind: keyof typeof corpus, decode: (m: NlMsg) => unknown) {
  return {
    name,
    generate: (rng: Rng) => mutateBytes(rng, rng.chance(0.9) ? corpus[kind] : all, { tlvStarts: [4] }),
    check: (b: Buffer) => {
      assertSound(
        clearErrorOnly(() => decode(msg(b)), [NftDecodeError]),
        name,
        ['*'],
      );
    },
    shrink: shrinkBytes,
  };
}

describe('nf_tables decoders under fuzzing (recorded dump replies, mutated)', () => {
  it('the corpus holds every object kind, expressions and xt structs', () => {
    for (const [k, v] of Object.entries(corpus)) if (v.length === 0) throw new Error(`no ${k} messages`);
    if (exprs.length < 20 || xtInfos.length < 3)
      throw new Error(`${exprs.length} expressions, ${xtInfos.length} xt`);
  });

  it('NFT_MSG_NEWTABLE, NEWCHAIN: decodeTable, decodeChain', () => {
    fuzz(target('nft table', 'table', decodeTable));
    fuzz(target('nft chain', 'chain', decodeChain));
  });

  it('NFT_MSG_NEWRULE: decodeRule with every expression', () => {
    fuzz({ ...target('nft rule', 'rule', decodeRule), cases: 3000 });
  });

  it('NFT_MSG_NEWSET, NEWSETELEM: decodeSet, decodeSetElems and the ranges of the elements', () => {
    fuzz(target('nft set', 'set', decodeSet));
    fuzz(
      target('nft set elements', 'elem', (m) => {
        const e = decodeSetElems(m);
        for (const flags of [0, 4]) elementRanges({ flags }, e.elems);
        return e;
      }),
    );
  });

  it('decodeDump turns every undecodable message into one error line', () => {
    fuzz({
      name: 'nft decodeDump',
      generate: (rng: Rng) =>
        Array.from({ length: rng.range(1, 6) }, () => mutateBytes(rng, corpus.rule, { tlvStarts: [4] })),
      check: (bs: Buffer[]) => {
        const d = decodeDump(
          bs.map((data) => ({ type: (10 << 8) | 6, flags: 0, seq: 0, pid: 0, data })),
          7,
          decodeRule,
        );
        if (d.items.length + d.errors.length !== bs.filter((b) => b.length >= 0).length)
          throw new Error('a message was neither decoded nor reported');
        for (const e of d.errors) if (/[\n\r]/.test(e) || e === '') throw new Error(`unclear error ${e}`);
      },
      show: (bs) => bs.map((b) => b.toString('hex')).join(' '),
    });
  });

  it('expressions: decodeExpr by name over mutated NFTA_EXPR_DATA', () => {
    const names = [...new Set(exprs.map(([n]) => n)), 'redir', 'fib', 'range', 'ct', 'numgen'];
    fuzz({
      name: 'nft expressions',
      cases: 3000,
      generate: (rng: Rng): [string, Buffer] => {
        const [n, d] = rng.pick(exprs);
        return [
          rng.chance(0.8) ? n : rng.pick(names),
          mutateBytes(rng, [d, ...exprs.map(([, x]) => x)].slice(0, rng.chance(0.8) ? 1 : undefined), {
            tlvStarts: [0],
          }),
        ];
      },
      check: ([n, d]) => {
        assertSound(
          clearErrorOnly(() => decodeExpr(n, d), [NftDecodeError]),
          n,
          ['*'],
        );
      },
      shrink: function* ([n, d]) {
        for (const s of shrinkBytes(d)) yield [n, s] as [string, Buffer];
      },
      show: ([n, d]) => `${n} hex ${d.toString('hex')}`,
    });
  });

  it('xtables structs: tcp/udp, addrtype, multiport, NAT target', () => {
    fuzz({
      name: 'xt structs',
      generate: (rng: Rng): [string, number, Buffer] => {
        const [n, rev, info] = rng.pick(xtInfos);
        return [n, rng.chance(0.8) ? rev : rng.int(4), mutateBytes(rng, [info], { maxStack: 3 })];
      },
      check: ([n, rev, info]) => {
        const run = () => {
          switch (n) {
            case 'tcp':
            case 'udp':
              return decodeXtTcpUdp(info, n);
            case 'addrtype':
              return decodeXtAddrtype(info, rev);
            case 'multiport':
              return decodeXtMultiport(info, rev);
            default:
              return [decodeXtNat(info, rev, false), decodeXtNat(info, rev, true)];
          }
        };
        assertSound(clearErrorOnly(run, [NftDecodeError]), n, ['*']);
      },
      show: ([n, rev, info]) => `${n} rev ${rev} hex ${info.toString('hex')}`,
    });
  });

  it('escapes control characters of names quoted in errors, so an error stays one line (found by fuzzing)', () => {
    // A rule whose table and chain names hold \r and \x0f, with a truncated expression.
    const rule = Buffer.from(
      '000000000f0000000000000000000000000000000f0000000000000000000000000000000c00030000000000000000004400040040000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000240002000d000000000000000000000000000000000000000000000000000000000000002c000000000000000000000000000000000000000000000000000000000000000000000000000000000000003800010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
      'hex',
    );
    replay(target('nft rule', 'rule', decodeRule), [rule]);
    const named = Buffer.concat([
      Buffer.from('02000000', 'hex'),
      Buffer.from('0a000100610d0a620000000008000200630000000c0004000800010008000100', 'hex'),
    ]);
    replay(target('nft rule', 'rule', decodeRule), [named]);
    assert.throws(() => decodeRule(msg(named)), { message: /in ip a\\x0d\\x0ab c: truncated expression$/ });
  });
});
