/**
 * Pure parser for resolv.conf(5) as glibc reads it: keyword lines, '#' or ';'
 * starts a comment line, "nameserver" may repeat (glibc uses the first
 * MAXNS=3; all are kept here, the file is what is reported), the *last*
 * "search" or "domain" line wins for each, "options" lines accumulate.
 */
import type { Draft } from '../model/types.js';

export type ResolvConf = NonNullable<Draft.Dns['resolvConf']>;

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const words = line.split(/\s+/);
    const key = words[0];
    const args = words.slice(1);
    // Trailing comments after values are not part of the syntax, but are
    // common in hand-written files; glibc ignores what follows '#'/';' too.
    const cut = args.findIndex((w) => w.startsWith('#') || w.startsWith(';'));
    if (cut >= 0) args.length = cut;
    switch (key) {
      case 'nameserver':
        if (args[0] !== undefined) out.nameservers.push(args[0]);
        break;
      case 'search':
        out.search = args;
        break;
      case 'domain':
        if (args[0] !== undefined) out.domain = args[0];
        break;
      case 'options':
        out.options.push(...args);
        break;
    }
  }
  return out;
}
