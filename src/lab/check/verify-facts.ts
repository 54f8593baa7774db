/**
 * The checks of `verifyLab` on facts the model does not carry (read by
 * verify-run.ts): sysctls, the nft rules of NAT and partitions, and the
 * reachability matrix — each through the one diff (diff.ts).
 */

import type { RuleFound } from '../../kernel/nftables/table-rules.js';
import { ruleMark } from '../../model/lab-marks.js';
import { markOfComment, natSpec, partitionSpec, ruleComment } from '../build/nft.js';
import { HOLDER_KINDS, nsLabel } from '../file/topology.js';
import { type DiffSpec, diff, diffDrifts, type Present } from './diff.js';
import type { ReachCheck } from './verify.js';
import type { VerifyContext } from './verify-context.js';

interface Sysctl {
  ns: string;
  key: string;
  value: string;
}

const SYSCTLS: DiffSpec<Sysctl, Sysctl> = {
  key: (s) => `${s.ns}|${s.key}`,
  foundKey: (s) => `${s.ns}|${s.key}`,
  fields: [{ name: 'value', declared: (s) => s.value, found: (s) => s.value }],
};

const sysctlSubject = (s: Sysctl): string => `${nsLabel(s.ns)} ${s.key}`;
const sysctlPresent: Present<Sysctl, Sysctl> = {
  object: (s) => `sysctl ${nsLabel(s.ns)}: ${s.key}`,
  foundObject: (s) => `sysctl ${nsLabel(s.ns)}: ${s.key}`,
  label: sysctlSubject,
  foundLabel: sysctlSubject,
  at: (s) => ({ node: nsLabel(s.ns) }),
  foundAt: (s) => ({ node: nsLabel(s.ns) }),
  changed: { whole: { subject: sysctlSubject, declared: (s) => s.value, found: (s) => s.value } },
};

/** Sysctls, as verify-run.ts read them; one that could not be read is not judged. */
export function checkSysctls(cx: VerifyContext): void {
  const { t, facts, add, alive } = cx;
  if (!facts.sysctls) return;
  const found: Sysctl[] = [];
  for (const s of t.sysctls) {
    const value = facts.sysctls[`${s.ns}|${s.key}`];
    if (alive(s.ns) && value !== undefined) found.push({ ns: s.ns, key: s.key, value });
  }
  const declared = t.sysctls.filter((s) => found.some((f) => f.ns === s.ns && f.key === s.key));
  for (const x of diffDrifts(diff(declared, found, SYSCTLS), sysctlPresent, { declared })) add(x);
}

/** An nft rule comment of the lab, where it belongs. */
interface NftRule {
  ns: string;
  /** "nat" or "partition". */
  what: string;
  comment: string;
}

const NFT: DiffSpec<NftRule, NftRule> = {
  // The mark names the rule; the hash after it changes with the rule's text.
  key: (r) => markOfComment(r.comment),
  foundKey: (r) => markOfComment(r.comment),
  fields: [{ name: 'rule', declared: (r) => r.comment, found: (r) => r.comment }],
};

/** "partition:guest3" of "wirescope-lab:<lab>:partition:guest3 <hash>". */
const shortMark = (r: NftRule): string => markOfComment(r.comment).split(':').slice(2).join(':');
const nftSubject = (r: NftRule): string => `${r.what} rule ${shortMark(r)} in ${nsLabel(r.ns)}`;
const nftPresent: Present<NftRule, NftRule> = {
  object: (r) => `${r.what} ${nsLabel(r.ns)}`,
  foundObject: (r) => `${r.what} ${nsLabel(r.ns)}`,
  label: nftSubject,
  foundLabel: nftSubject,
  at: (r) => ({ node: nsLabel(r.ns) }),
  foundAt: (r) => ({ node: nsLabel(r.ns) }),
  changed: { subject: nftSubject },
  // A hash says the rule differs, not how: its text is not in the comment.
  opaque: 'rule',
};

/** NAT and partition rules, by the marks in their comments. */
export function checkNft(cx: VerifyContext): void {
  const { t, facts, hostKey, add, alive } = cx;
  if (!facts.nft) return;
  const rules = (ns: string, what: string, want: string[], have: RuleFound[] | undefined) => {
    const declared = want.map((comment) => ({ ns, what, comment }));
    const found = (have ?? [])
      .map((r) => r.comment ?? '')
      .filter((c) => c.startsWith(ruleMark(t.name, '')))
      .map((comment) => ({ ns, what, comment }));
    for (const x of diffDrifts(diff(declared, found, NFT), nftPresent, { declared })) add(x);
  };
  const table = 'wirescope';
  const nat = natSpec(t, table);
  if (nat || facts.nft[hostKey])
    rules(hostKey, 'nat', (nat?.rules ?? []).map(ruleComment), facts.nft[hostKey]);
  for (const n of t.nodes) {
    if (!HOLDER_KINDS.has(n.kind) || !alive(n.name)) continue;
    const spec = partitionSpec(t, n.name, table);
    rules(n.name, 'partition', (spec?.rules ?? []).map(ruleComment), facts.nft[n.name]);
  }
}

const word = (reachable: boolean): string => (reachable ? 'reachable' : 'blocked');
const reachKey = (c: ReachCheck): string => `${c.from}|${c.to}|${c.address}`;
const REACH: DiffSpec<ReachCheck, ReachCheck> = {
  key: reachKey,
  foundKey: reachKey,
  fields: [{ name: 'reach', declared: (c) => word(c.expected), found: (c) => word(c.reachable) }],
};
const reachSubject = (c: ReachCheck): string => `${c.from} -> ${c.to} (${c.address})`;
const reachPresent: Present<ReachCheck, ReachCheck> = {
  object: (c) => `reach ${c.from} -> ${c.to}`,
  foundObject: (c) => `reach ${c.from} -> ${c.to}`,
  label: reachSubject,
  foundLabel: reachSubject,
  at: (c) => ({ node: c.from }),
  foundAt: (c) => ({ node: c.from }),
  changed: {
    whole: { subject: reachSubject, declared: (c) => word(c.expected), found: (c) => word(c.reachable) },
  },
};

/** Reachability against the partitions: each probe is both what was declared and what was found. */
export function checkReach(cx: VerifyContext): void {
  const { facts, add, drift } = cx;
  // A pair with a node already drifting is a consequence.
  const drifting = new Set(drift.map((x) => x.node).filter((n): n is string => n !== undefined));
  const checks = facts.reach ?? [];
  const r = diff(checks, checks, REACH);
  const excused = (c: ReachCheck) => drifting.has(c.from) || drifting.has(c.to);
  for (const x of diffDrifts(r, reachPresent, { declared: checks, excused })) add(x);
}
