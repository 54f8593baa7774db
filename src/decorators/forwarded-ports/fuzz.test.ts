/**
 * Fuzzing the forwarded-ports decorator's readers of rules it does not write: nf_tables
 * rulesets (recorded replies, mutated, decoded as far as they decode), legacy ip_tables
 * entry blobs (recorded, mutated) and docker-proxy command lines.
 *
 * The contract ("a clear error"): a rule whose meaning cannot be established is skipped
 * with a one-line note (NatChain.skipped → `forward-rule-skipped`), a blob that does not
 * decode fails with IptDecodeError, a command line that does not parse returns `{ error }`.
 * Nothing throws past that, and every forward it does report is real: protocol, family,
 * addresses that are addresses (or a prefix) of that family, ports 1..65535.
 */
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { decodeEntries, decodeInfo, IptDecodeError } from '../../kernel/iptables-legacy.js';
import { NAT_ENTRIES, NAT_INFO, NAT6_ENTRIES, NAT6_INFO } from '../../kernel/iptables-legacy.recorded.js';
import { decodeChain, decodeRule, decodeTable } from '../../kernel/nftables/messages.js';
import { CHAINS, type Recorded, RULES, recordedMsg, TABLES } from '../../kernel/nftables/recorded.js';
import * as S from '../../kernel/nftables/recorded-sets.js';
import { decodeDump, type NftRuleset, type NftSetContents } from '../../kernel/nftables/ruleset.js';
import { decodeSet, decodeSetElems } from '../../kernel/nftables/sets.js';
import {
  assertSound,
  clearErrorOnly,
  FuzzViolation,
  fuzz,
  mutateBytes,
  mutateText,
  type Rng,
  replay,
  shrinkBytes,
} from '../../testing/fuzz.js';
import { parseDockerProxy } from './docker-proxy.js';
import { legacyNatTable } from './iptables-legacy.js';
import { type Forward, forwardsOf } from './natgraph.js';
import { natTablesOf } from './nftables.js';

/** A forward is real: what the model promises of every ForwardedPort. */
function checkForward(f: Forward): void {
  assertSound(f, 'forward', ['hostPort', 'hostPortEnd', 'destPort']);
  const port = (p: number | undefined, what: string) => {
    if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p <= 65535))
      throw new FuzzViolation(`${what} ${p} is not a port`);
  };
  port(f.hostPort, 'hostPort');
  port(f.hostPortEnd, 'hostPortEnd');
  port(f.destPort, 'destPort');
  const v = f.family === 'inet' ? 4 : 6;
  const [addr, plen, ...rest] = f.hostAddress.split('/');
  if (isIP(addr ?? '') !== v || rest.length > 0 || (plen !== undefined && !/^\d+$/.test(plen)))
    throw new FuzzViolation(`hostAddress ${f.hostAddress} is not an ${f.family} address or prefix`);
  if (isIP(f.destAddress) !== v)
    throw new FuzzViolation(`destAddress ${f.destAddress} is not an ${f.family} address`);
  if (!['tcp', 'udp', 'sctp'].includes(f.protocol)) throw new FuzzViolation(`protocol ${f.protocol}`);
}

function checkNotes(notes: readonly string[]): void {
  for (const n of notes)
    if (n === '' || /[\n\r]/.test(n)) throw new FuzzViolation(`unclear note ${JSON.stringify(n)}`);
}

const hex = (r: Recorded) => r.map((e) => recordedMsg(e).data);
const nft = {
  tables: [...hex(TABLES), ...hex(S.TABLES)],
  chains: [...hex(CHAINS), ...hex(S.CHAINS)],
  rules: [...hex(RULES), ...hex(S.RULES)],
  sets: hex(S.SETS),
  elems: hex(S.SET_ELEMS),
};

const NEW = (n: number) => (10 << 8) | n;
const asMsgs = (type: number, bs: Buffer[]) => bs.map((data) => ({ type, flags: 0, seq: 0, pid: 0, data }));

/** A ruleset as readRuleset builds it, from some mutated messages among the real ones. */
interface RulesetInput {
  rules: Buffer[];
  chains: Buffer[];
  sets: Buffer[];
  elems: Buffer[];
}

function rulesetOf(i: RulesetInput): NftRuleset {
  const rules = decodeDump(asMsgs(NEW(6), i.rules), 7, decodeRule);
  const chains = decodeDump(asMsgs(NEW(3), i.chains), 4, decodeChain);
  const sets = decodeDump(asMsgs(NEW(9), i.sets), 10, decodeSet);
  const elems = decodeDump(asMsgs(NEW(12), i.elems), 13, decodeSetElems);
  const withElems: NftSetContents[] = sets.items.map((s) => ({
    ...s,
    elems: elems.items.filter((e) => e.table === s.table && e.set === s.name).flatMap((e) => e.elems),
  }));
  return {
    tables: nft.tables.map((data) => decodeTable({ type: 0, flags: 0, seq: 0, pid: 0, data })),
    chains: chains.items,
    rules: rules.items,
    sets: withElems,
    errors: [...rules.errors, ...chains.errors, ...sets.errors, ...elems.errors],
  };
}

const mutateSome = (rng: Rng, xs: Buffer[], p: number): Buffer[] =>
  xs.map((x) => (rng.chance(p) ? mutateBytes(rng, [x, ...xs.slice(0, 2)], { tlvStarts: [4] }) : x));

describe('forwarded-ports readers under fuzzing', () => {
  const nftTarget = {
    name: 'nftables forwards',
    cases: 1500,
    generate: (rng: Rng): RulesetInput => ({
      rules: mutateSome(rng, nft.rules, 0.15),
      chains: mutateSome(rng, nft.chains, 0.05),
      sets: mutateSome(rng, nft.sets, 0.2),
      elems: mutateSome(rng, nft.elems, 0.3),
    }),
    check: (i: RulesetInput) => {
      for (const t of natTablesOf(rulesetOf(i))) {
        const { forwards, notes } = forwardsOf(t);
        forwards.forEach(checkForward);
        checkNotes(notes);
      }
    },
    // Only the mutated messages, by index: the rest are the recorded ones.
    show: (i: RulesetInput) =>
      JSON.stringify(
        Object.fromEntries(
          (['rules', 'chains', 'sets', 'elems'] as const).map((k) => [
            k,
            Object.fromEntries(
              i[k].flatMap((b, n) => (b.equals(nft[k][n] as Buffer) ? [] : [[n, b.toString('hex')]])),
            ),
          ]),
        ),
      ),
  };

  it('nf_tables rulesets → NAT tables → forwards', () => {
    fuzz(nftTarget);
  });

  const ipt = [
    { family: 4 as const, info: Buffer.from(NAT_INFO, 'hex'), entries: Buffer.from(NAT_ENTRIES, 'hex') },
    { family: 6 as const, info: Buffer.from(NAT6_INFO, 'hex'), entries: Buffer.from(NAT6_ENTRIES, 'hex') },
  ];
  type IptInput = { family: 4 | 6; info: Buffer; entries: Buffer };
  const iptTarget = {
    name: 'iptables-legacy forwards',
    generate: (rng: Rng): IptInput => {
      const base = rng.pick(ipt);
      return {
        family: base.family,
        info: rng.chance(0.2) ? mutateBytes(rng, [base.info], { maxStack: 2 }) : base.info,
        entries: rng.chance(0.9) ? mutateBytes(rng, [base.entries]) : base.entries,
      };
    },
    check: (i: IptInput) => {
      clearErrorOnly(() => {
        const info = decodeInfo(i.info);
        assertSound(info, 'ipt_getinfo', ['*']);
        const entries = decodeEntries(i.entries, info, i.family);
        const { forwards, notes } = forwardsOf(legacyNatTable(entries, i.family));
        forwards.forEach(checkForward);
        checkNotes(notes);
      }, [IptDecodeError]);
    },
    shrink: function* (i: IptInput) {
      for (const e of shrinkBytes(i.entries)) yield { ...i, entries: e };
    },
    show: (i: IptInput) =>
      `family ${i.family} info ${i.info.toString('hex')} entries ${i.entries.toString('hex')}`,
  };

  it('legacy ip_tables blobs → entries → forwards', () => {
    fuzz(iptTarget);
  });

  const proxyLines = [
    '/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80',
    'docker-proxy --proto=udp -host-ip :: -host-port=5353 -container-ip 172.18.0.5 -container-port 53 -use-listen-fd',
    'docker-proxy -proto sctp -host-ip 127.0.0.1 -host-port 9 -container-ip fd00::2 -container-port 9',
  ];
  const proxyTarget = {
    name: 'docker-proxy command lines',
    generate: (rng: Rng) => mutateText(rng, proxyLines).split(' '),
    check: (argv: string[]) => {
      const r = parseDockerProxy(argv);
      if ('error' in r) {
        checkNotes([r.error]);
        return;
      }
      // The proxy forwards across families (an IPv6 host port to an IPv4 container).
      for (const a of [r.hostIp, r.containerIp])
        if (!isIP(a)) throw new FuzzViolation(`${a} is not an address`);
      for (const p of [r.hostPort, r.containerPort])
        if (!(Number.isInteger(p) && p >= 1 && p <= 65535)) throw new FuzzViolation(`${p} is not a port`);
    },
    show: (argv: string[]) => JSON.stringify(argv),
  };

  it('docker-proxy command lines', () => {
    fuzz(proxyTarget);
  });

  /** The recorded sets ruleset, decoded, with `edit` applied: the minimal inputs below. */
  const recordedSets = (edit: (rs: NftRuleset) => void): NftRuleset => {
    const rs = rulesetOf({ rules: nft.rules, chains: nft.chains, sets: nft.sets, elems: nft.elems });
    edit(rs);
    return rs;
  };
  const rulesetTarget = {
    name: 'nftables forwards (decoded)',
    check: (rs: NftRuleset) => {
      for (const t of natTablesOf(rs)) {
        const { forwards, notes } = forwardsOf(t);
        forwards.forEach(checkForward);
        checkNotes(notes);
      }
    },
    show: () => 'see the test',
  };
  const notesOf = (rs: NftRuleset, label: string) =>
    natTablesOf(rs)
      .filter((t) => t.label === label)
      .flatMap((t) => forwardsOf(t).notes);

  it('a set key longer than the registers, or a zero-length key load, is a layout not understood, not a hang (found by fuzzing)', () => {
    const huge = recordedSets((rs) => {
      for (const set of rs.sets) if (set.name === 'webports') set.keyLen = 2382364676;
    });
    replay(rulesetTarget, [huge]);
    assert.ok(notesOf(huge, 'ip wstsets').some((n) => /key layout of set @webports not understood/.test(n)));
    const zero = recordedSets((rs) => {
      for (const r of rs.rules)
        for (const e of r.exprs) if (e.type === 'payload' && r.table === 'wstsets') e.len = 0;
    });
    replay(rulesetTarget, [zero]);
  });

  it('a DNAT address shorter than an address is reported, not a RangeError (found by fuzzing)', () => {
    const short = recordedSets((rs) => {
      for (const r of rs.rules)
        for (const e of r.exprs)
          if (e.type === 'immediate' && e.value?.length === 4 && r.table === 'wstsets')
            e.value = Buffer.from('0a01', 'hex');
    });
    replay(rulesetTarget, [short]);
    assert.ok(notesOf(short, 'ip wstsets').some((n) => /DNAT address of 2 bytes/.test(n)));
  });
});
