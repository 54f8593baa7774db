/** The one declared/found diff of the lab's checks, on plain items (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DiffSpec, diff, diffDrifts, type Present } from './diff.js';

interface Item {
  name: string;
  size?: number;
  colour: string;
}

const SPEC: DiffSpec<Item, Item> = {
  key: (x) => x.name,
  foundKey: (x) => x.name,
  fields: [
    { name: 'size', declared: (x) => x.size?.toString(), found: (x) => String(x.size ?? 'none') },
    { name: 'colour', declared: (x) => x.colour, found: (x) => x.colour },
  ],
  quiet: (x) => x.colour === 'kernel',
};

const present: Present<Item, Item> = {
  object: (x) => `item ${x.name}`,
  foundObject: (x) => `item ${x.name}`,
  label: (x) => `item ${x.name}`,
  foundLabel: (x) => `item ${x.name}`,
  at: () => ({ node: 'n' }),
  foundAt: () => ({ node: 'n' }),
  changed: { subject: (x) => x.name },
};

const lines = (declared: Item[], found: Item[]) =>
  diffDrifts(diff(declared, found, SPEC), present, { declared }).map((x) => `${x.op} ${x.message}`);

describe('diff: declared against found', () => {
  it('is empty when every declared item is found as declared (undeclared fields take any value)', () => {
    assert.deepEqual(lines([{ name: 'a', colour: 'red' }], [{ name: 'a', size: 3, colour: 'red' }]), []);
  });

  it('says missing, unexpected and changed with the fields that differ', () => {
    assert.deepEqual(
      lines(
        [
          { name: 'a', size: 1, colour: 'red' },
          { name: 'b', colour: 'blue' },
        ],
        [
          { name: 'a', size: 2, colour: 'green' },
          { name: 'c', colour: 'red' },
        ],
      ),
      [
        '~ a.size: declared 1, found 2',
        '~ a.colour: declared red, found green',
        '- item b: declared, missing',
        '+ item c: present, undeclared',
      ],
    );
  });

  it('takes exact pairs first, so an item that is there is never another one changed', () => {
    const r = diff(
      [
        { name: 'a', colour: 'red' },
        { name: 'a', colour: 'blue' },
      ],
      [
        { name: 'a', colour: 'blue' },
        { name: 'a', colour: 'green' },
      ],
      SPEC,
    );
    assert.deepEqual(r.matched, [
      [
        { name: 'a', colour: 'blue' },
        { name: 'a', colour: 'blue' },
      ],
    ]);
    assert.deepEqual(
      r.changed.map((c) => c.fields),
      [[{ name: 'colour', declared: 'red', found: 'green' }]],
    );
  });

  it('lets quiet items satisfy a declared one but never reports them', () => {
    assert.deepEqual(lines([{ name: 'a', colour: 'kernel' }], [{ name: 'a', colour: 'kernel' }]), []);
    assert.deepEqual(lines([{ name: 'a', colour: 'red' }], [{ name: 'a', colour: 'kernel' }]), [
      '- item a: declared, missing',
    ]);
  });

  it('reports nothing of an excused declared item, nor of the item it was paired with', () => {
    const declared = [{ name: 'a', colour: 'red' }];
    const r = diff(declared, [{ name: 'a', colour: 'green' }], SPEC);
    assert.deepEqual(diffDrifts(r, present, { declared, excused: () => true }), []);
  });

  it('says "declared one <noun>, found another" when values are not shown', () => {
    const declared = [{ name: 'a', colour: 'red' }];
    const r = diff(declared, [{ name: 'a', colour: 'green' }], SPEC);
    assert.deepEqual(
      diffDrifts(r, { ...present, opaque: 'item' }, { declared }).map((x) => x.message),
      ['a: declared one item, found another'],
    );
  });
});
