/**
 * The one rule for every name a lab file gives that ends up somewhere on the
 * host: in a path (state directory, unpacked rootfs), a cgroup directory, a
 * Docker container name, an nft table, rule comment or interface name, an
 * interface alias, a process mark (argv[0]) or a container's /etc files.
 *
 * schema.ts checks declarations against these patterns before anything is
 * touched; code that builds a path from a name goes through childPath, which
 * refuses anything that is not one plain component of its directory (so a
 * name that slipped past the schema still cannot leave it). Pure.
 */
import { join, resolve, sep } from 'node:path';

/**
 * Lab names: letters, digits, "_", "." and "-", starting with a letter or
 * digit (so never "." or ".."), at most 32. No ":" — marks are
 * "wirescope-lab:<lab>:<node>" and are split on it.
 */
export const LAB_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$';

/** Node names: the same alphabet, at most 63 (a cgroup or Docker name holds lab and node). */
export const NODE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';

/**
 * Interface names: at most 15 bytes (IFNAMSIZ 16 with the NUL,
 * include/uapi/linux/if.h). dev_valid_name() in net/core/dev.c only refuses
 * "/", ":", whitespace, "." and ".."; the lab is stricter — letters, digits,
 * "_", ".", "+" and "-", not starting with "." or "-" — because names also go
 * into nft rules (oifname "...") and shell-free CLI arguments, where a quote,
 * a "*" (an nft wildcard) or a leading "-" would mean something else.
 */
export const IF_NAME_PATTERN = '^[A-Za-z0-9_+][A-Za-z0-9_.+-]{0,14}$';

/** Host names (a container's hostname, /etc/hosts names): HOST_NAME_MAX is 64. */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$';

/** DNS search domains (resolv.conf "search"): at most 253 characters. */
export const DOMAIN_PATTERN = '^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$';

const re = (p: string): RegExp => new RegExp(p);
const LAB_NAME = re(LAB_NAME_PATTERN);
const NODE_NAME = re(NODE_NAME_PATTERN);
const IF_NAME = re(IF_NAME_PATTERN);

export const isLabName = (s: string): boolean => LAB_NAME.test(s);
export const isNodeName = (s: string): boolean => NODE_NAME.test(s);
export const isIfName = (s: string): boolean => IF_NAME.test(s);

/** What a valid name looks like, for error messages. */
export const LAB_NAME_RULE =
  'letters, digits, "_", "." and "-", starting with a letter or digit, at most 32 characters';
export const NODE_NAME_RULE =
  'letters, digits, "_", "." and "-", starting with a letter or digit, at most 63 characters';
export const IF_NAME_RULE =
  'letters, digits, "_", ".", "+" and "-", not starting with "." or "-", at most 15 bytes';

/** Throws a one-line error unless `name` is a lab name (for names that come from the command line). */
export function checkLabName(name: string): string {
  if (!isLabName(name)) throw new Error(`lab name ${shown(name)} is not valid (${LAB_NAME_RULE})`);
  return name;
}

/**
 * `dir/name` for a name that must be one plain entry of `dir`: never "",
 * ".", "..", nor anything with a "/" or a NUL; the result is checked to lie
 * directly inside `dir` as well.
 */
export function childPath(dir: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new Error(`${shown(name)} cannot name an entry of ${dir}`);
  const base = resolve(dir);
  const p = join(base, name);
  if (resolve(p) !== `${base === sep ? '' : base}${sep}${name}`)
    throw new Error(`${shown(name)} leaves ${dir}`);
  return p;
}

const escapeControl = (c: string): string =>
  c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * Control characters (newline, escape sequences, ...) of a message escaped,
 * so one error stays one line and a name cannot repaint the terminal.
 */
export const printable = (s: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  s.replace(/[\u0000-\u001f\u007f-\u009f]/g, escapeControl);

/** A name as it may be shown: quoted, quotes and backslashes escaped, control characters too. */
export const shown = (s: string): string => `"${printable(s.replace(/["\\]/g, (c) => `\\${c}`))}"`;
