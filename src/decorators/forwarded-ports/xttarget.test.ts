import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xtNatTarget } from './xttarget.js';

/** Field offsets of the two structs NAT targets carry (linux/netfilter/nf_nat.h). */
const LAYOUTS = {
  /** struct nf_nat_range: DNAT rev 1, ip6t_REDIRECT. */
  range: { size: 40, flags: 0, minAddr: 4, maxAddr: 20, ports: 36 },
  /** struct nf_nat_ipv4_multi_range_compat (u32 rangesize first): DNAT rev 0, ipt_REDIRECT. */
  compat: { size: 20, flags: 4, minAddr: 8, maxAddr: 12, ports: 16 },
} as const;

function natInfo(
  layout: keyof typeof LAYOUTS,
  flags: number,
  addr: number[],
  minPort: number,
  maxPort: number,
): Buffer {
  const L = LAYOUTS[layout];
  const b = Buffer.alloc(L.size);
  if (layout === 'compat') b.writeUInt32LE(1, 0); // rangesize
  b.writeUInt32LE(flags, L.flags);
  Buffer.from(addr).copy(b, L.minAddr);
  Buffer.from(addr).copy(b, L.maxAddr);
  b.writeUInt16BE(minPort, L.ports);
  b.writeUInt16BE(maxPort, L.ports + 2);
  return b;
}

// NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED
const IPS_AND_PORTS = 0x3;

describe('xtables NAT targets → actions', () => {
  it('reads a DNAT rev 1 target: address, port range and the table family', () => {
    assert.deepEqual(xtNatTarget('DNAT', 1, natInfo('range', IPS_AND_PORTS, [10, 1, 1, 2], 80, 90), false), {
      action: { kind: 'dnat', family: 'inet', address: Buffer.from([10, 1, 1, 2]), port: 80, portEnd: 90 },
    });
  });

  it('reads a DNAT rev 0 target, a single port leaving no port end', () => {
    assert.deepEqual(xtNatTarget('DNAT', 0, natInfo('compat', IPS_AND_PORTS, [10, 1, 1, 3], 81, 81), false), {
      action: { kind: 'dnat', family: 'inet', address: Buffer.from([10, 1, 1, 3]), port: 81 },
    });
  });

  it('reads REDIRECT by the table family: the rev 0 compat struct for IPv4, nf_nat_range for IPv6', () => {
    assert.deepEqual(xtNatTarget('REDIRECT', 0, natInfo('compat', 0x2, [0, 0, 0, 0], 3128, 3128), false), {
      action: { kind: 'redirect', port: 3128 },
    });
    assert.deepEqual(
      xtNatTarget('REDIRECT', 0, natInfo('range', 0x2, new Array(16).fill(0), 3128, 3130), true),
      {
        action: { kind: 'redirect', port: 3128, portEnd: 3130 },
      },
    );
  });

  it('keeps the kind of a target whose info it cannot decode, and says why', () => {
    const r = xtNatTarget('DNAT', 1, Buffer.alloc(8), false);
    assert.equal(r?.action.kind, 'dnat');
    assert.match(r?.uncertain ?? '', /NAT target rev 1 info too short \(8 bytes\)/);
    assert.equal(
      xtNatTarget('DNAT', 7, natInfo('range', IPS_AND_PORTS, [10, 1, 1, 2], 80, 80), false)?.uncertain,
      'NAT target revision 7 is not known',
    );
  });

  it('has no action for targets that cannot forward', () => {
    assert.equal(xtNatTarget('MASQUERADE', 0, Buffer.alloc(20), false), undefined);
    assert.equal(xtNatTarget('', 0, Buffer.alloc(4), false), undefined);
  });
});
