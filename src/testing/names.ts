/**
 * Unique names for what a test creates on the shared host (namespaces, links, containers,
 * images, files): every name starts with a random prefix, so concurrent runs and other
 * engineers' tests never collide, and a leftover is recognisable. Test helper.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * `tag` followed by `length` random characters of [0-9a-z] (default "wst" + 6). Callers that
 * build interface names (at most 15 bytes) choose a shorter length.
 */
export function uniquePrefix(tag = 'wst', length = 6): string {
  const bytes = randomBytes(length);
  let s = tag;
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return s;
}
