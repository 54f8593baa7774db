/**
 * The checks of `verifyLab` on facts the model does not carry (read by
 * verify-run.ts): sysctls, the nft rules of NAT and partitions, and the
 * reachability matrix.
 */

import type { RuleFound } from '../../kernel/nftables/table-rules.js';
import { markOfComment, natSpec, partitionSpec, ruleComment } from '../build/nft.js';
import { HOLDER_KINDS, nsLabel } from '../file/topology.js';
import type { VerifyContext } from './verify-context.js';

/** Sysctls, as verify-run.ts read them. */
export function checkSysctls(cx: VerifyContext): void {
  const { t, facts, add, alive } = cx;
  if (facts.sysctls) {
    for (const s of t.sysctls) {
      if (!alive(s.ns)) continue;
      const got = facts.sysctls[`${s.ns}|${s.key}`];
      if (got !== undefined && got !== s.value)
        add({
          object: `sysctl ${nsLabel(s.ns)}: ${s.key}`,
          op: '~',
          path: `${nsLabel(s.ns)}.${s.key}`,
          declared: s.value,
          found: got,
          message: `${nsLabel(s.ns)} ${s.key}: declared ${s.value}, found ${got}`,
          node: nsLabel(s.ns),
        });
    }
  }
}

/** NAT and partition rules, by the marks in their comments. */
export function checkNft(cx: VerifyContext): void {
  const { t, facts, hostKey, add, alive } = cx;
  if (facts.nft) {
    const rules = (ns: string, what: string, want: string[], have: RuleFound[] | undefined) => {
      const got = (have ?? [])
        .map((r) => r.comment ?? '')
        .filter((c) => c.startsWith(`wirescope-lab:${t.name}:`));
      const gotMarks = new Map(got.map((c) => [markOfComment(c), c]));
      const wantMarks = new Set(want.map(markOfComment));
      for (const w of want) {
        if (got.includes(w)) continue;
        const m = markOfComment(w);
        const short = m.split(':').slice(2).join(':');
        if (gotMarks.has(m))
          add({
            object: `${what} ${nsLabel(ns)}`,
            op: '~',
            path: `${nsLabel(ns)}.${short}`,
            message: `${what} rule ${short} in ${nsLabel(ns)}: declared one rule, found another`,
            node: nsLabel(ns),
          });
        else
          add({
            object: `${what} ${nsLabel(ns)}`,
            op: '-',
            message: `${what} rule ${short} in ${nsLabel(ns)}: declared, missing`,
            node: nsLabel(ns),
          });
      }
      for (const [m] of gotMarks) {
        if (!wantMarks.has(m))
          add({
            object: `${what} ${nsLabel(ns)}`,
            op: '+',
            message: `${what} rule ${m.split(':').slice(2).join(':')} in ${nsLabel(ns)}: present, undeclared`,
            node: nsLabel(ns),
          });
      }
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
}

/** Reachability against the partitions. */
export function checkReach(cx: VerifyContext): void {
  const { facts, add, drift } = cx;
  const drifting = new Set(drift.map((x) => x.node).filter((n): n is string => n !== undefined));
  for (const c of facts.reach ?? []) {
    if (c.expected === c.reachable || drifting.has(c.from) || drifting.has(c.to)) continue;
    add({
      object: `reach ${c.from} -> ${c.to}`,
      op: '~',
      path: `reach.${c.from}.${c.to}`,
      declared: c.expected ? 'reachable' : 'blocked',
      found: c.reachable ? 'reachable' : 'blocked',
      message: `${c.from} -> ${c.to} (${c.address}): declared ${c.expected ? 'reachable' : 'blocked'}, found ${c.reachable ? 'reachable' : 'blocked'}`,
      node: c.from,
    });
  }
}
