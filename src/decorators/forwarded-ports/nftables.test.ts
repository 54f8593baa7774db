import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeChain, decodeRule, decodeTable, type NftRule } from '../../kernel/nftables/messages.js';
import { NFPROTO_IPV4 } from '../../kernel/nftables/nfnetlink.js';
import { CHAINS, recordedMsg as msg, RULES, TABLES } from '../../kernel/nftables/recorded.js';
import * as S from '../../kernel/nftables/recorded-sets.js';
import type { NftRuleset } from '../../kernel/nftables/ruleset.js';
import { decodeSet, decodeSetElems } from '../../kernel/nftables/sets.js';
import { forwardsOf } from './natgraph.js';
import { natTablesOf, translateRule } from './nftables.js';

const recorded: NftRuleset = {
  tables: TABLES.map(msg).map(decodeTable),
  chains: CHAINS.map(msg).map(decodeChain),
  rules: RULES.map(msg).map(decodeRule),
  sets: [],
  errors: [],
};

function forwardsByTable(rs: NftRuleset) {
  const out = new Map<string, ReturnType<typeof forwardsOf>>();
  for (const t of natTablesOf(rs)) out.set(t.label, forwardsOf(t));
  return out;
}

const brief = (f: {
  protocol: string;
  hostAddress: string;
  hostPort: number;
  hostPortEnd?: number;
  destAddress: string;
  destPort: number;
}) =>
  `${f.protocol} ${f.hostAddress}:${f.hostPort}${f.hostPortEnd ? `-${f.hostPortEnd}` : ''} -> ${f.destAddress}:${f.destPort}`;

describe('DNAT rules → forwards (recorded nftables ruleset)', () => {
  const all = forwardsByTable(recorded);

  it('reads native nft DNAT: ports, port ranges, address prefixes, and jumps into regular chains', () => {
    const wst = all.get('ip wst');
    assert.deepEqual(wst?.forwards.map(brief), [
      'tcp 0.0.0.0:8080 -> 10.1.1.2:80',
      'udp 192.0.2.0/24:5353 -> 10.1.1.2:5353',
      'tcp 0.0.0.0:7000-7010 -> 10.1.1.2:7000',
      'tcp 203.0.113.7:443 -> 10.1.1.5:8443',
    ]);
    assert.equal(wst?.forwards[3]?.chain, 'ip wst svc');
  });

  it('skips a rule that matches its ports through a set it does not read, and says so', () => {
    const wst = all.get('ip wst');
    assert.equal(wst?.notes.length, 1);
    assert.match(wst?.notes[0] ?? '', /ip wst pre: rule \d+ skipped: set @__set0 is not read/);
    assert.ok(!wst?.forwards.some((f) => f.destAddress === '10.1.1.9'));
  });

  it('tells IPv4 from IPv6 in inet tables by meta nfproto / the nat family', () => {
    assert.deepEqual(
      all.get('inet wst6')?.forwards.map((f) => [f.family, brief(f)]),
      [
        ['inet6', 'tcp :::8443 -> fd00::2:443'],
        ['inet', 'tcp 198.51.100.1:8444 -> 10.1.1.4:444'],
      ],
    );
  });

  it("reads iptables-nft rules: Docker's addrtype jump + DNAT target, kube-proxy's service → endpoints chains, multiport", () => {
    const nat = all.get('ip nat');
    assert.deepEqual(nat?.forwards.map(brief), [
      'tcp 0.0.0.0:8081 -> 10.1.1.2:81',
      'tcp 10.96.0.10:80 -> 10.244.0.5:8080',
      'tcp 10.96.0.10:80 -> 10.244.0.6:8080',
      'udp 0.0.0.0:5000 -> 10.1.1.3:5000',
      'udp 0.0.0.0:6000-6005 -> 10.1.1.3:6000',
    ]);
    assert.deepEqual(
      nat?.forwards.map((f) => f.chain),
      ['ip nat DOCKER', 'ip nat KUBE-SEP-A', 'ip nat KUBE-SEP-B', 'ip nat OUTPUT', 'ip nat OUTPUT'],
    );
    assert.deepEqual(nat?.notes, []);
    assert.deepEqual(all.get('ip6 nat')?.forwards.map(brief), ['tcp :::8082 -> fd00::3:82']);
  });

  it('reports nothing for a DNAT rule in a chain no hook reaches', () => {
    const orphan: NftRuleset = {
      ...recorded,
      chains: recorded.chains.filter((c) => !(c.table === 'wst' && c.name === 'pre')),
      rules: recorded.rules.filter((r) => r.table === 'wst'),
    };
    assert.deepEqual(forwardsByTable(orphan).get('ip wst')?.forwards, []);
  });
});

describe('rules that cannot be understood', () => {
  const dnatRule = recorded.rules.find((r) => r.table === 'wst' && r.chain === 'svc') as NftRule;

  it('skips a forwarding rule with an unknown expression instead of guessing', () => {
    const r: NftRule = { ...dnatRule, exprs: [{ type: 'other', name: 'frobnicate' }, ...dnatRule.exprs] };
    const out = translateRule(r);
    assert.deepEqual(out.rules, []);
    assert.equal(out.skipped, 'unknown expression "frobnicate"');
  });

  it('skips a DNAT whose address comes from a map lookup', () => {
    const exprs = dnatRule.exprs.map((e) =>
      e.type === 'immediate' && e.dreg !== 0 && e.value?.length === 4
        ? ({ type: 'lookup', set: 'backends', sreg: 1, dreg: e.dreg, flags: 0 } as const)
        : e,
    );
    const out = translateRule({ ...dnatRule, exprs });
    assert.deepEqual(out.rules, []);
    assert.match(out.skipped ?? '', /map @backends is not read/);
  });

  it('stays silent about rules that neither forward nor jump', () => {
    const r: NftRule = {
      family: NFPROTO_IPV4,
      table: 't',
      chain: 'c',
      exprs: [{ type: 'other', name: 'frobnicate' }],
    };
    assert.deepEqual(translateRule(r), { rules: [] });
  });

  it('drops a rule whose conditions contradict each other (tcp and udp at once)', () => {
    const proto = dnatRule.exprs.slice(0, 2); // meta l4proto; cmp eq tcp
    const udp = proto.map((e) => (e.type === 'cmp' ? { ...e, value: Buffer.from([17]) } : e));
    assert.deepEqual(translateRule({ ...dnatRule, exprs: [...udp, ...dnatRule.exprs] }).rules, []);
  });
});

describe('DNAT through sets, maps and verdict maps (recorded nftables ruleset)', () => {
  const setsRs = (): NftRuleset => {
    const sets = S.SETS.map(msg).map(decodeSet);
    const elems = S.SET_ELEMS.map(msg).map(decodeSetElems);
    return {
      tables: S.TABLES.map(msg).map(decodeTable),
      chains: S.CHAINS.map(msg).map(decodeChain),
      rules: S.RULES.map(msg).map(decodeRule),
      sets: sets.map((s) => ({
        ...s,
        elems: elems.filter((b) => b.table === s.table && b.set === s.name).flatMap((b) => b.elems),
      })),
      errors: [],
    };
  };
  const all = forwardsByTable(setsRs());

  it("follows kube-proxy's nftables mode: service verdict map → service chain → numgen verdict map → endpoint DNAT", () => {
    const kp = all.get('ip kube-proxy');
    assert.deepEqual(kp?.notes, []);
    assert.deepEqual(
      kp?.forwards.map((f) => [f.chain, brief(f)]),
      [
        ['ip kube-proxy endpoint-A', 'tcp 10.96.0.10:80 -> 10.244.0.5:8080'],
        ['ip kube-proxy endpoint-B', 'tcp 10.96.0.10:80 -> 10.244.0.6:8080'],
      ],
    );
  });

  it('expands anonymous sets, interval sets of ports and addresses, and DNAT maps of address . port', () => {
    const w = all.get('ip wstsets');
    assert.deepEqual(w?.notes, []);
    assert.deepEqual(w?.forwards.map(brief), [
      'tcp 0.0.0.0:81 -> 10.1.1.9:80',
      'tcp 0.0.0.0:82 -> 10.1.1.9:80',
      'tcp 0.0.0.0:8000-8005 -> 10.1.1.10:8000',
      'tcp 0.0.0.0:8010 -> 10.1.1.10:8010',
      'tcp 0.0.0.0:9001 -> 10.1.1.7:91',
      'tcp 0.0.0.0:9002 -> 10.1.1.8:92',
      'tcp 198.51.100.0/24:7777 -> 10.1.1.11:77',
      'tcp 198.51.100.0/24:7778 -> 10.1.1.12:78',
      'tcp 203.0.113.5:7778 -> 10.1.1.12:78',
    ]);
  });

  it('without the set contents, skips those rules and says which set was not read', () => {
    const rs = { ...setsRs(), sets: [] };
    const kp = forwardsByTable(rs).get('ip kube-proxy');
    assert.deepEqual(kp?.forwards, []);
    assert.match(kp?.notes.join('\n') ?? '', /verdict map @service-ips is not read/);
  });
});
