import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addrText, forwardsOf, maskPrefixLen, mergeMatch, type NatChain, type NatTable } from './natgraph.js';

const v4 = (s: string) => Buffer.from(s.split('.').map(Number));
const chain = (name: string, entry: boolean, rules: NatChain['rules']): NatChain => ({
  name,
  entry,
  rules,
  skipped: [],
});

describe('requirements along a jump path', () => {
  it('intersects port ranges and keeps the narrower address prefix', () => {
    const m = mergeMatch(
      { dport: { min: 1000, max: 2000 }, daddr: { address: v4('10.0.0.0'), prefixlen: 8 } },
      { dport: { min: 1500, max: 3000 }, daddr: { address: v4('10.1.2.3'), prefixlen: 32 } },
    );
    assert.deepEqual(m?.dport, { min: 1500, max: 2000 });
    assert.equal(m && addrText(m.daddr?.address ?? Buffer.alloc(4)), '10.1.2.3');
  });

  it('finds no packet for disjoint protocols, ports, addresses or families', () => {
    assert.equal(mergeMatch({ protocol: 6 }, { protocol: 17 }), undefined);
    assert.equal(mergeMatch({ dport: { min: 1, max: 2 } }, { dport: { min: 3, max: 4 } }), undefined);
    assert.equal(
      mergeMatch(
        { daddr: { address: v4('10.0.0.0'), prefixlen: 8 } },
        { daddr: { address: v4('11.0.0.1'), prefixlen: 32 } },
      ),
      undefined,
    );
    assert.equal(mergeMatch({ family: 'inet' }, { family: 'inet6' }), undefined);
  });
});

describe('walking chains', () => {
  it('says each note in one line, whatever names the namespace owner chose (found by fuzzing)', () => {
    const pre = chain('pre\nrouting', true, []);
    pre.skipped.push('rule 3 skipped: unknown expression "i\nmediate"');
    const { notes } = forwardsOf({ label: 'ip w\rst', family: 'inet', chains: new Map([['pre', pre]]) });
    assert.deepEqual(notes, [
      'ip w\\x0dst pre\\x0arouting: rule 3 skipped: unknown expression "i\\x0amediate"',
    ]);
  });

  it('survives jump loops and stops at the kernel jump depth', () => {
    const dnat = {
      match: { protocol: 6, dport: { min: 80, max: 80 } },
      action: { kind: 'dnat', address: v4('10.0.0.2') },
    } as const;
    const t: NatTable = {
      label: 'ip nat',
      family: 'inet',
      chains: new Map([
        ['pre', chain('pre', true, [{ match: {}, action: { kind: 'jump', chain: 'a' } }])],
        ['a', chain('a', false, [{ match: {}, action: { kind: 'jump', chain: 'b' } }, dnat])],
        ['b', chain('b', false, [{ match: {}, action: { kind: 'jump', chain: 'a' } }])],
      ]),
    };
    const { forwards } = forwardsOf(t);
    assert.equal(forwards.length, 1);
    assert.equal(forwards[0]?.chain, 'ip nat a');
  });

  it('does not report forwards without a destination port or protocol', () => {
    const t: NatTable = {
      label: 'ip nat',
      family: 'inet',
      chains: new Map([
        [
          'pre',
          chain('pre', true, [
            { match: { protocol: 6 }, action: { kind: 'dnat', address: v4('10.0.0.2') } },
            { match: { dport: { min: 1, max: 1 } }, action: { kind: 'dnat', address: v4('10.0.0.2') } },
          ]),
        ],
      ]),
    };
    assert.deepEqual(forwardsOf(t).forwards, []);
  });

  it('reports skipped rules of every chain a walk reaches, once', () => {
    const t: NatTable = {
      label: 'ip nat',
      family: 'inet',
      chains: new Map([
        [
          'pre',
          {
            ...chain('pre', true, [
              { match: {}, action: { kind: 'jump', chain: 'x' } },
              { match: {}, action: { kind: 'jump', chain: 'x' } },
            ]),
          },
        ],
        ['x', { ...chain('x', false, []), skipped: ['rule 5 skipped: because'] }],
        ['unreached', { ...chain('unreached', false, []), skipped: ['rule 6 skipped: never seen'] }],
      ]),
    };
    assert.deepEqual(forwardsOf(t).notes, ['ip nat x: rule 5 skipped: because']);
  });

  it('prints IPv6 addresses in RFC 5952 form', () => {
    assert.equal(addrText(Buffer.from('fd000000000000000000000000000003', 'hex')), 'fd00::3');
    assert.equal(addrText(Buffer.alloc(16)), '::');
    assert.equal(addrText(Buffer.from('20010db8000000010000000000000001', 'hex')), '2001:db8:0:1::1');
    // Like interface addresses (rtnetlink's formatter): an IPv4-mapped tail stays dotted (RFC 5952 section 5).
    assert.equal(addrText(Buffer.from('00000000000000000000ffffc0000201', 'hex')), '::ffff:192.0.2.1');
  });

  it('refuses to print a rule address that is neither 4 nor 16 bytes long', () => {
    assert.throws(() => addrText(Buffer.alloc(8)), RangeError);
  });

  it('reads a netmask as a prefix length only when it is contiguous', () => {
    assert.equal(maskPrefixLen(Buffer.from([255, 255, 255, 0])), 24);
    assert.equal(maskPrefixLen(Buffer.alloc(16)), 0);
    assert.equal(maskPrefixLen(Buffer.alloc(16, 0xff)), 128);
    assert.equal(maskPrefixLen(Buffer.from([255, 0, 255, 0])), undefined);
  });
});

describe('pathological jump graphs', () => {
  it('stops a walk whose paths multiply beyond the visit budget, and says so', () => {
    // 30 chains, each jumping three times to the next: 3^16 paths even within the jump depth limit.
    const chains = new Map<string, NatChain>();
    for (let i = 0; i < 30; i++) {
      const next = { match: {}, action: { kind: 'jump', chain: `c${i + 1}` } } as const;
      chains.set(`c${i}`, chain(`c${i}`, i === 0, [next, next, next]));
    }
    const t: NatTable = { label: 'ip nat', family: 'inet', chains };
    const t0 = performance.now();
    const { notes } = forwardsOf(t);
    assert.ok(performance.now() - t0 < 10_000);
    assert.ok(notes.some((n) => /chain visits, the walk stopped early/.test(n)));
  });
});
