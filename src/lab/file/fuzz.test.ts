/**
 * Fuzzing the lab file loader with the example labs, mutated as text (YAML structure,
 * names, numbers, control characters).
 *
 * The contract ("a clear error"): parseLab returns a checked lab or throws LabFileError, whose
 * message is one line (`file:line:col: message`, names quoted with control characters
 * escaped). Nothing else escapes — no TypeError from a value of an unexpected type, no
 * RangeError — and a loaded lab names only nodes and interfaces the schema allows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clearErrorOnly, FuzzViolation, fuzz, mutateText, type Rng, shrinkText } from '../../testing/fuzz.js';
import { LabFileError, parseLab } from './load.js';

const examples = join(import.meta.dirname, '..', '..', '..', 'examples');
const corpus = readdirSync(examples)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(join(examples, f), 'utf8'));

const check = (text: string) => {
  const lab = clearErrorOnly(() => parseLab(text, 'fuzz.yaml'), [LabFileError]);
  if (!lab) return;
  // What the loader let through may become a path, an nft comment, an interface alias.
  for (const name of Object.keys(lab.decl.nodes ?? {}))
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.includes('..'))
      throw new FuzzViolation(`node name ${JSON.stringify(name)} was accepted`);
};

const target = {
  name: 'lab yaml',
  // A case parses YAML and checks the schema (~2-5 ms): fewer cases than the byte parsers.
  cases: 500,
  generate: (rng: Rng) => mutateText(rng, corpus, 3),
  check,
  shrink: shrinkText,
  show: (t: string) => JSON.stringify(t),
};

describe('lab loader under fuzzing (example labs, mutated)', () => {
  it('has the examples to start from', () => {
    if (corpus.length < 3) throw new Error(`only ${corpus.length} examples`);
  });

  it('parseLab: a lab, or one LabFileError line', () => {
    fuzz(target);
  });
});
