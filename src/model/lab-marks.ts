/**
 * Ownership marks. Every interface a lab creates carries the alias
 * (IFLA_IFALIAS) `wirescope-lab:<lab>`; its node processes carry argv[0]
 * `wirescope-lab:<lab>:<node>`; its nft rules carry the comment
 * `wirescope-lab:<lab>:<what>`. `down` and `verify` only ever act on or blame
 * objects with the lab's mark (or inside the lab's own namespaces).
 */
export const ifaceMark = (lab: string): string => `wirescope-lab:${lab}`;

export const isLabIface = (lab: string, alias: string | undefined): boolean => alias === ifaceMark(lab);

/** The lab named by an interface alias, if it is a lab mark. */
export function labOfAlias(alias: string | undefined): string | undefined {
  const m = alias ? /^wirescope-lab:([^:]+)$/.exec(alias) : null;
  return m?.[1];
}

/**
 * nftables table of a lab: the lab name itself after a prefix, so two labs
 * never share one (a.b, a-b and a_b once all became wirescope_lab_a_b, and
 * one lab's `down` removed the other's NAT). nft(8) reads an unquoted
 * identifier as a letter, "_" or "." followed by letters, digits, "/", "_",
 * "." and "-" (its scanner.l), which covers every lab name (names.ts).
 */
export const nftTable = (lab: string): string => `wirescope_lab_${lab}`;

/**
 * The table name earlier builds used ("." and "-" folded into "_"); not
 * one-to-one, so `down` removes such a table only when its rules carry the
 * lab's own mark.
 */
export const legacyNftTable = (lab: string): string => `wirescope_lab_${lab.replace(/[^A-Za-z0-9_]/g, '_')}`;

export const ruleMark = (lab: string, what: string): string => `wirescope-lab:${lab}:${what}`;

/** argv[0] of the process holding a netns or container node's namespaces. */
export const processMark = (lab: string, node: string): string => `wirescope-lab:${lab}:${node}`;

/** Lab and node named by a process's argv[0], if it is a node mark (lab names have no ":"). */
export function nodeOfProcessMark(argv0: string | undefined): { lab: string; node: string } | undefined {
  const m = argv0 ? /^wirescope-lab:([^:]+):(.+)$/.exec(argv0) : null;
  return m ? { lab: m[1] as string, node: m[2] as string } : undefined;
}

/** Labels of the Docker containers a lab creates for its docker nodes. */
export const LABEL_LAB = 'wirescope.lab';
export const LABEL_NODE = 'wirescope.node';
