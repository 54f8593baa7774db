import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NamespaceTypes } from '../model/schema.js';
import { leadersOf } from './leaders.js';
import { NAMESPACE_TYPES } from './ns-types.js';
import { missingPrivileges } from './privileges.js';

describe('namespace types', () => {
  it("are the model schema's eight, in its order, without loading the schema at run time", () => {
    assert.deepEqual([...NAMESPACE_TYPES], [...NamespaceTypes]);
  });
});

describe('leaders', () => {
  it('are the members whose parent is not a member', () => {
    const ppid = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [20, 1],
      [30, 12],
    ]);
    assert.deepEqual(
      leadersOf(new Set([10, 11, 12, 20]), (p) => ppid.get(p)),
      [10, 20],
    );
    assert.deepEqual(
      leadersOf(new Set([12, 30]), (p) => ppid.get(p)),
      [12],
    );
    assert.deepEqual(
      leadersOf(new Set([99]), () => undefined),
      [99],
    );
  });
});

describe('missing privileges', () => {
  it('names each missing capability with what the result lacks', () => {
    assert.deepEqual(missingPrivileges('0x000001fffeffffff'), []);
    // Everything but CAP_SYS_ADMIN (21).
    const noAdmin = (0x1ffffffffffn & ~(1n << 21n)).toString(16);
    assert.deepEqual(
      missingPrivileges(noAdmin).map((m) => m.capability),
      ['CAP_SYS_ADMIN'],
    );
    const none = missingPrivileges('0000000000000000');
    assert.deepEqual(
      none.map((m) => m.capability),
      ['CAP_SYS_PTRACE', 'CAP_SYS_ADMIN', 'CAP_DAC_READ_SEARCH'],
    );
    for (const m of none) assert.ok(m.effect.length > 10);
  });
});
