/**
 * The discovery worker's serialisation of a model, made so that what follows a
 * discovery costs what changed, not what the host holds: the network
 * namespaces (nearly all of the document: ~5 KB each) are serialised one by
 * one, and each one's digest says whether it changed since the last
 * discovery. An incremental discovery rebuilds every object (its stages
 * annotate and freeze what they are given), so unchanged namespaces are equal
 * objects, not the same ones; the diffs that follow (the event's change set,
 * the document's patch) walked all of them. Given the previous object for an
 * unchanged one, they stop at `a === b`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Discovery, NetworkNamespace } from '../model/types.js';

/** Digest of each network namespace's JSON, by its key in `networks`. */
export type NetworkDigests = Map<string, string>;

// Stands for the networks in the document's text until they are spliced in; random, so no data matches it.
const HOLE = JSON.stringify(`wirescope-networks-${randomBytes(12).toString('hex')}`);

/** The model's JSON text, equal to JSON.stringify(d), and the digest of each network namespace's JSON. */
export function renderNative(d: Discovery): { text: string; digests: NetworkDigests } {
  const digests: NetworkDigests = new Map();
  const parts: string[] = [];
  // Object.entries and JSON.stringify visit keys in the same order (integer-like keys first, ascending).
  for (const [key, ns] of Object.entries(d.networks)) {
    const text = JSON.stringify(ns) as string | undefined;
    if (text === undefined) continue;
    digests.set(key, createHash('sha1').update(text).digest('base64'));
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  const shell = JSON.stringify({ ...d, networks: JSON.parse(HOLE) as string });
  const at = shell.indexOf(HOLE);
  return { text: `${shell.slice(0, at)}{${parts.join(',')}}${shell.slice(at + HOLE.length)}`, digests };
}

/**
 * `next`, with each network namespace whose JSON did not change since `prev`
 * replaced by `prev`'s object (JSON-equal, so every diff of the two is the
 * same, and it ends at once). A shallow copy: `next` is left as it is.
 */
export function shareUnchanged(
  prev: Discovery | undefined,
  prevDigests: NetworkDigests | undefined,
  next: Discovery,
  digests: NetworkDigests,
): Discovery {
  if (!prev || !prevDigests) return next;
  const networks: Record<string, NetworkNamespace> = { ...next.networks };
  for (const [key, digest] of digests) {
    const was = prev.networks[key];
    if (was && prevDigests.get(key) === digest) networks[key] = was;
  }
  return { ...next, networks };
}
