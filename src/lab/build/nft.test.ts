/** nft scripts from lab values (pure): no value can end a string or a table, no two labs share a table. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { legacyNftTable, nftTable } from '../../model/lab-marks.js';
import { parseLab } from '../file/load.js';
import { natSpec, nftQuoted, nftScript } from './nft.js';

describe('nft scripts of a lab', () => {
  it('quotes only text that cannot end the string', () => {
    assert.equal(
      nftQuoted('wirescope-lab:a.b:masquerade:10.0.0.0/24 0a1b2c3d'),
      '"wirescope-lab:a.b:masquerade:10.0.0.0/24 0a1b2c3d"',
    );
    for (const bad of ['x"', 'x\n', 'x;', 'x{', 'x#', 'x\\'])
      assert.throws(
        () => nftQuoted(bad),
        /^Error: refusing to put .* into an nft script$/,
        JSON.stringify(bad),
      );
  });

  it('refuses a table name or an interface that is not an identifier, even past the schema', () => {
    assert.throws(() => nftScript('ip', 'x; flush ruleset', undefined), /is not an nft identifier/);
    const lab = parseLab(
      'name: t\nnodes: { a: { kind: netns } }\nnat: { masquerade: [{ source: 10.0.0.0/24, out: eth0 }] }\n',
    );
    const m = lab.topology.masquerade[0];
    assert.ok(m);
    m.out = 'eth0" ; flush ruleset ; "';
    assert.throws(() => natSpec(lab.topology, nftTable('t')), /is not an interface name/);
  });

  it('names one table per lab: a.b, a-b and a_b never share one', () => {
    const names = ['a.b', 'a-b', 'a_b', 'a__b'];
    assert.equal(new Set(names.map(nftTable)).size, names.length);
    // The earlier naming folded them together; `down` removes such a table only when its rules are the lab's.
    assert.equal(new Set(names.slice(0, 3).map(legacyNftTable)).size, 1);
  });

  it('writes a NAT script the host nft accepts (check mode), table name unquoted', () => {
    const lab = parseLab(
      'name: a.b-c\nnodes: { a: { kind: netns } }\nnat: { masquerade: [{ source: 10.0.0.0/24, out: br-1.100 }] }\n',
    );
    const s = nftScript('ip', nftTable('a.b-c'), natSpec(lab.topology, nftTable('a.b-c')));
    assert.match(s, /^table ip wirescope_lab_a\.b-c\n/);
    assert.match(
      s,
      /oifname "br-1\.100" masquerade comment "wirescope-lab:a\.b-c:masquerade:10\.0\.0\.0\/24 [0-9a-f]{8}"/,
    );
    // nft -c: parsed and checked against the kernel, nothing committed.
    const r = spawnSync('nft', ['-c', '-f', '-'], { input: s, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
