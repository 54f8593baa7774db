/**
 * Pure parser for hosts(5): "address canonical_name [aliases...]", '#' starts
 * a comment anywhere on a line; lines without a name are ignored.
 */
import type { Draft } from '../model/types.js';

export function parseHosts(text: string): Draft.Dns['hosts'] {
  const out: Draft.Dns['hosts'] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') continue;
    const [address, ...names] = line.split(/\s+/);
    if (address === undefined || names.length === 0) continue;
    out.push({ address, names });
  }
  return out;
}

/**
 * /etc/hostname and /etc/domainname: the first line that is neither empty
 * nor a comment (systemd's hostname(5) allows comments), trimmed.
 */
export function parseNameFile(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) return line;
  }
  return undefined;
}
