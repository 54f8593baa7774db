import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NlMsg } from '../netlink.js';
import { decodeExpr, NftDecodeError, type NftExpr } from './expr.js';
import {
  decodeChain,
  decodeRule,
  decodeTable,
  NF_INET_LOCAL_OUT,
  NF_INET_PRE_ROUTING,
  type NftRule,
} from './messages.js';
import { NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6, NFT_MSG_GETRULE, NFT_MSG_GETTABLE } from './nfnetlink.js';
import { CHAINS, recordedMsg as msg, RULES, TABLES } from './recorded.js';
import { decodeDump } from './ruleset.js';
import { decodeXtNat, decodeXtTcpUdp } from './xt.js';

const rules = RULES.map(msg).map(decodeRule);
const ruleIn = (table: string, chain: string, n = 0): NftRule => {
  const r = rules.filter((x) => x.table === table && x.chain === chain)[n];
  assert.ok(r, `recorded rule ${table} ${chain} #${n}`);
  return r;
};
const only = <T extends NftExpr['type']>(r: NftRule, type: T): Extract<NftExpr, { type: T }>[] =>
  r.exprs.filter((e): e is Extract<NftExpr, { type: T }> => e.type === type);

describe('nf_tables table and chain messages (recorded from the kernel)', () => {
  it('decodes every table with its family and name', () => {
    const tables = TABLES.map(msg).map(decodeTable);
    assert.deepEqual(
      tables.map((t) => [t.family, t.name]),
      [
        [NFPROTO_IPV4, 'wst'],
        [NFPROTO_INET, 'wst6'],
        [NFPROTO_IPV4, 'nat'],
        [NFPROTO_IPV6, 'nat'],
      ],
    );
  });

  it('tells base chains (hook, priority, type) from regular chains', () => {
    const chains = CHAINS.map(msg).map(decodeChain);
    const pre = chains.find((c) => c.table === 'wst' && c.name === 'pre');
    assert.equal(pre?.hook, NF_INET_PRE_ROUTING);
    assert.equal(pre?.priority, -100);
    assert.equal(pre?.type, 'nat');
    const svc = chains.find((c) => c.table === 'wst' && c.name === 'svc');
    assert.equal(svc?.hook, undefined);
    assert.equal(svc?.type, undefined);
    const out = chains.find((c) => c.family === NFPROTO_IPV4 && c.table === 'nat' && c.name === 'OUTPUT');
    assert.equal(out?.hook, NF_INET_LOCAL_OUT);
  });
});

describe('nf_tables rule messages (recorded from the kernel)', () => {
  it('decodes `tcp dport 8080 dnat to 10.1.1.2:80` into its native expressions', () => {
    const r = ruleIn('wst', 'pre');
    assert.deepEqual(
      r.exprs.map((e) => e.type),
      ['meta', 'cmp', 'payload', 'cmp', 'immediate', 'immediate', 'nat'],
    );
    const [proto, port] = only(r, 'cmp');
    assert.deepEqual(proto?.value, Buffer.from([6]));
    assert.equal(port?.value.readUInt16BE(0), 8080);
    const [addr, p] = only(r, 'immediate');
    assert.deepEqual(addr?.value, Buffer.from([10, 1, 1, 2]));
    assert.equal(p?.value?.readUInt16BE(0), 80);
    const [nat] = only(r, 'nat');
    assert.equal(nat?.natType, 1);
    assert.equal(nat?.regAddrMin, addr?.dreg);
    assert.equal(nat?.regProtoMin, p?.dreg);
  });

  it('decodes a jump verdict with its chain name', () => {
    const r = ruleIn('wst', 'pre', 4);
    const [v] = only(r, 'immediate');
    assert.equal(v?.dreg, 0);
    assert.deepEqual(v?.verdict, { code: -3, chain: 'svc' });
  });

  it("keeps iptables-nft's xt DNAT target (rev 2, struct nf_nat_range2) verbatim and decodes it", () => {
    const r = ruleIn('nat', 'DOCKER');
    const [t] = only(r, 'target');
    assert.equal(t?.name, 'DNAT');
    assert.equal(t?.rev, 2);
    const range = decodeXtNat(t?.info ?? Buffer.alloc(0), 2, false);
    assert.deepEqual(range.minAddress, Buffer.from([10, 1, 1, 2]));
    assert.equal(range.minPort, 81);
  });

  it('decodes an ip6tables-nft DNAT target with an IPv6 address', () => {
    const r = rules.find((x) => x.family === NFPROTO_IPV6 && x.chain === 'PREROUTING');
    const t = r?.exprs.find((e) => e.type === 'target');
    assert.ok(t && t.type === 'target');
    const range = decodeXtNat(t.info, t.rev, true);
    assert.equal(range.family, 'inet6');
    assert.equal(range.minAddress?.toString('hex'), 'fd000000000000000000000000000003');
    assert.equal(range.minPort, 82);
  });

  it('decodes the xt tcp match of a KUBE-SEP rule (`-p tcp -m tcp`, any port)', () => {
    const r = ruleIn('nat', 'KUBE-SEP-A');
    const m = r.exprs.find((e) => e.type === 'match');
    assert.ok(m && m.type === 'match' && m.name === 'tcp');
    const t = decodeXtTcpUdp(m.info, 'tcp');
    assert.deepEqual(t.dport, { min: 0, max: 65535 });
    assert.equal(t.dportInverted, false);
  });

  it('rejects a truncated expression list with a decode error instead of crashing', () => {
    const [type, hex] = RULES[0] ?? [0, ''];
    const cut = Buffer.from(hex, 'hex');
    // Shorten the NFTA_RULE_EXPRESSIONS attribute's content but keep its header length: nested parse fails.
    const broken = Buffer.from(cut.subarray(0, cut.length - 6));
    assert.throws(() => decodeRule({ type, flags: 0, seq: 0, pid: 0, data: broken }), NftDecodeError);
  });

  it('rejects expressions missing a required attribute', () => {
    assert.throws(() => decodeExpr('cmp', Buffer.alloc(0)), NftDecodeError);
    assert.throws(() => decodeExpr('nat', Buffer.alloc(0)), /nat expression without type/);
  });

  it('keeps an unknown expression by name', () => {
    assert.deepEqual(decodeExpr('frobnicate', Buffer.alloc(0)), { type: 'other', name: 'frobnicate' });
  });

  it('decodes a dump, leaving out (and reporting) only the objects that do not decode', () => {
    const good = RULES.map(msg);
    const bad: NlMsg = { ...good[0], data: Buffer.from([2, 0, 0, 0, 8, 0, 1, 0, 0x61, 0x62, 0, 0]) } as NlMsg;
    const out = decodeDump([bad, ...good], NFT_MSG_GETRULE, decodeRule);
    assert.equal(out.items.length, good.length);
    assert.equal(out.errors.length, 1);
    assert.match(out.errors[0] ?? '', /without table or chain/);
    // Messages of other types in the same dump are ignored, not misdecoded.
    assert.equal(decodeDump(good, NFT_MSG_GETTABLE, decodeTable).items.length, 0);
  });
});
