/**
 * `lab up`, the namespace settings: sysctls (the host's old values kept for
 * down), the NAT and partition nft tables, netem.
 */

import { readTableRules } from '../../kernel/nftables/table-rules.js';
import { readSysctl, writeSysctl } from '../../kernel/sysctl.js';
import { nftTable } from '../../model/lab-marks.js';
import { nsLabel } from '../file/topology.js';
import { type UpContext, where } from './apply-context.js';
import { markOfComment, natSpec, nftScript, partitionSpec, ruleComment, runNft } from './nft.js';

/** Sysctls. The host's old values are kept to restore on down. */
export async function applySysctls(run: UpContext): Promise<void> {
  const { t, dry, hostKey, state } = run;
  for (const s of t.sysctls) {
    const h = run.handle(s.ns);
    if (!h && !dry) continue;
    const cur = h ? readSysctl(h.fd, s.key) : undefined;
    if (cur === s.value) continue;
    await run.act(
      'change',
      `set sysctl ${s.key}=${s.value} in ${nsLabel(s.ns)}${cur !== undefined ? ` (was ${cur})` : ''}`,
      () => {
        if (cur === undefined) throw new Error(`sysctl ${s.key} does not exist in ${nsLabel(s.ns)}`);
        writeSysctl(h?.fd, s.key, s.value);
        if (s.ns === hostKey && !state.sysctls.some((o) => o.ns === s.ns && o.key === s.key))
          state.sysctls.push({ ns: s.ns, key: s.key, old: cur });
      },
      () => {
        if (cur !== undefined) writeSysctl(h?.fd, s.key, cur);
      },
    );
  }
  for (const o of [...state.sysctls]) {
    if (t.sysctls.some((s) => s.ns === o.ns && s.key === o.key)) continue;
    await run.act('change', `restore sysctl ${o.key}=${o.old} in ${nsLabel(o.ns)}`, () => {
      writeSysctl(run.handle(o.ns)?.fd, o.key, o.old);
      state.sysctls = state.sysctls.filter((x) => x !== o);
    });
  }
}

/** NAT (host) and partitions (per node), one nft transaction per namespace. */
export async function applyNft(run: UpContext): Promise<void> {
  const { t, dry, name, hostKey, state, holders } = run;
  const table = nftTable(name);
  const nat = natSpec(t, table);
  {
    const h = run.handles.get(hostKey) ?? undefined;
    const have = h || !dry ? readTableRules(h?.fd, 'ip', table) : undefined;
    const want = nat?.rules.map(ruleComment).sort() ?? [];
    const got = (have ?? []).map((r) => r.comment ?? '').sort();
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      await run.act(
        nat ? (have && have.length > 0 ? 'change' : 'create') : 'delete',
        nat
          ? `${have && have.length > 0 ? 'replace' : 'create'} NAT table ip ${table} (${nat.rules.map((r) => markOfComment(r.mark).split(':').slice(2).join(':')).join(', ')})`
          : `delete NAT table ip ${table}`,
        () => runNft(nftScript('ip', table, nat)),
        have && have.length > 0 ? undefined : () => runNft(nftScript('ip', table, undefined)),
      );
    }
    if (nat) state.nft.push({ ns: hostKey, family: 'ip', table });
  }
  for (const n of holders) {
    const spec = partitionSpec(t, n.name, table);
    const h = run.handle(n.name);
    const have = h ? readTableRules(h.fd, 'inet', table) : undefined;
    const want = spec?.rules.map(ruleComment).sort() ?? [];
    const got = (have ?? []).map((r) => r.comment ?? '').sort();
    if (JSON.stringify(want) === JSON.stringify(got)) continue;
    await run.act(
      spec ? 'change' : 'delete',
      spec
        ? `apply partition rules in ${n.name} (drop from ${[...(t.blocked.get(n.name) ?? [])].sort().join(', ')})`
        : `remove partition rules in ${n.name}`,
      () => {
        if (!h) throw new Error(`node ${n.name}: its namespace is not open`);
        return runNft(nftScript('inet', table, spec), h.fd);
      },
    );
  }
}

/** netem on the interfaces that declare it. */
export async function applyNetem(run: UpContext): Promise<void> {
  const { t } = run;
  for (const d of t.ifs.filter((x) => x.netem)) {
    const n = d.netem ?? {};
    await run.act(
      'change',
      `netem on ${where(d)} (${Object.entries(n)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
      () => {
        const a = run.link(d.ns, d.name);
        if (!a) throw new Error(`netem on ${where(d)}: interface missing`);
        run
          .handle(d.ns)
          ?.addNetem(
            a.index,
            { delayUs: durUs(n.delay), jitterUs: durUs(n.jitter), lossPct: pct(n.loss) },
            where(d),
          );
      },
    );
  }
}

function durUs(s: string | undefined): number {
  if (!s) return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s)?$/.exec(s.trim());
  if (!m) throw new Error(`"${s}" is not a duration (e.g. 10ms)`);
  const v = Number(m[1]);
  return m[2] === 's' ? v * 1e6 : m[2] === 'us' ? v : v * 1000;
}

function pct(v: string | number | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v.replace('%', ''));
}
