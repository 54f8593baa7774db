/**
 * `lab up`, the interface phases: stale interfaces removed, bridges, veth
 * pairs, macvlan and vxlan created, then every declared interface's
 * attributes set.
 */
import { MACVLAN_MODES } from '../../kernel/rtnetlink/constants.js';
import { type DesiredIf, ifKey, nsLabel, type Topology } from '../file/topology.js';
import { LabApplyError, opt, type UpContext, where } from './apply-context.js';
import { describeFix, linkFix, replaceReason } from './plan.js';

/**
 * Interfaces the lab owns but no longer declares are deleted, and so are those
 * declared with another kind or with creation parameters that differ.
 */
export async function removeStaleInterfaces(run: UpContext): Promise<void> {
  const { t, mark, hostKey, declared } = run;
  for (const ns of run.handles.keys()) {
    const nodeNs = ns !== hostKey;
    for (const l of run.links(ns)) {
      if (l.name === 'lo') continue;
      const d = declared.get(ifKey(ns, l.name));
      const owned = l.alias === mark || (nodeNs && !isParentOrUnderlay(t, ns, l.name));
      if (!owned) continue;
      const why =
        d && d.kind === l.kind
          ? replaceReason(d, l, (n2, nm) => run.link(n2, nm)?.index, MACVLAN_MODES)
          : undefined;
      if (why && d) {
        await run.act('delete', `delete ${l.kind} ${nsLabel(ns)}:${l.name} to re-create it (${why})`, () =>
          run.handle(ns)?.delLink(l.index, l.name),
        );
        run.dirty(ns);
        continue;
      }
      if (!d || d.kind !== l.kind) {
        await run.act(
          'delete',
          `delete ${l.kind} ${nsLabel(ns)}:${l.name}${d ? ` (declared as ${d.kind})` : ' (not declared)'}`,
          () => run.handle(ns)?.delLink(l.index, l.name),
        );
        run.dirty(ns);
      }
    }
  }
}

/** Bridges, before the ports that join them. */
export async function createBridges(run: UpContext): Promise<void> {
  const { t } = run;
  for (const d of t.ifs.filter((x) => x.kind === 'bridge')) {
    if (run.link(d.ns, d.name)) continue;
    await run.act(
      'create',
      `create bridge ${where(d)}`,
      () => run.handle(d.ns)?.createBridge(d.name, opt(d)),
      () => run.deleteByName(d.ns, d.name),
    );
    run.dirty(d.ns);
  }
}

/** veth pairs; half a pair (the other end went with its namespace) is replaced. */
export async function createVeths(run: UpContext): Promise<void> {
  const { t, progress, declared } = run;
  const veths = t.links.filter((l) => l.type === 'veth');
  if (veths.length > 20) progress(`wiring ${veths.length} veth pair(s)`);
  const touched = new Set<string>();
  for (const l of veths) {
    const [a, b] = l.ifs.map((k) => declared.get(k)) as [DesiredIf, DesiredIf];
    const ha = run.link(a.ns, a.name);
    const hb = run.link(b.ns, b.name);
    if (ha && hb) continue;
    for (const [d, x] of [
      [a, ha],
      [b, hb],
    ] as const) {
      // Half a pair (the other end went with its namespace): replace it.
      if (x) {
        await run.act('delete', `delete unpaired veth ${where(d)}`, () =>
          run.handle(d.ns)?.delLink(x.index, d.name),
        );
        run.dirty(d.ns);
      }
    }
    const peerFd = a.ns === b.ns ? undefined : run.handle(b.ns)?.fd;
    await run.act(
      'create',
      `create veth ${l.label}`,
      () =>
        run.handle(a.ns)?.createVeth(a.name, opt(a), b.name, {
          ...opt(b),
          ...(peerFd !== undefined ? { nsFd: peerFd } : {}),
        }),
      () => run.deleteByName(a.ns, a.name),
    );
    touched.add(a.ns);
    touched.add(b.ns);
  }
  // Re-read the namespaces once after the loop: a dump per pair would make 200 pairs quadratic.
  for (const ns of touched) run.dirty(ns);
}

/** macvlan and vxlan devices (their lower devices may be lab veths made just before). */
export async function createStackedInterfaces(run: UpContext): Promise<void> {
  const { t, dry } = run;
  for (const d of t.ifs.filter((x) => x.kind === 'macvlan' || x.kind === 'vxlan')) {
    if (run.link(d.ns, d.name)) continue;
    if (d.macvlan) {
      const m = d.macvlan;
      const parent = run.link(m.parentNs, m.parent);
      if (!parent && !dry && run.handle(m.parentNs))
        throw new LabApplyError(
          `macvlan ${where(d)}: parent ${nsLabel(m.parentNs)}:${m.parent} does not exist`,
        );
      const nsFd = m.parentNs === d.ns ? undefined : run.handle(d.ns)?.fd;
      await run.act(
        'create',
        `create macvlan ${where(d)} on ${nsLabel(m.parentNs)}:${m.parent} mode ${m.mode}`,
        () =>
          run.handle(m.parentNs)?.createMacvlan(d.name, parent?.index ?? 0, m.mode, {
            ...opt(d),
            ...(nsFd !== undefined ? { nsFd } : {}),
          }),
        () => run.deleteByName(d.ns, d.name),
      );
    } else if (d.vxlan) {
      const v = d.vxlan;
      const home = v.underlayNs ?? d.ns;
      const under = v.underlay ? run.link(home, v.underlay) : undefined;
      if (v.underlay && !under && !dry && run.handle(home))
        throw new LabApplyError(`vxlan ${where(d)}: underlay ${nsLabel(home)}:${v.underlay} does not exist`);
      const nsFd = home === d.ns ? undefined : run.handle(d.ns)?.fd;
      await run.act(
        'create',
        `create vxlan ${where(d)} vni ${v.vni}${v.remote ? ` remote ${v.remote}` : ''}${v.underlay ? ` dev ${nsLabel(home)}:${v.underlay}` : ''}`,
        () =>
          run
            .handle(home)
            ?.createVxlan(
              d.name,
              { ...v, ...(under ? { underlayIndex: under.index } : {}) },
              { ...opt(d), ...(nsFd !== undefined ? { nsFd } : {}) },
            ),
        () => run.deleteByName(d.ns, d.name),
      );
    }
    run.dirty(d.ns);
  }
}

/** Attributes: mark, MTU, MAC, master, up — bridges first so ports join an up bridge. */
export async function setAttributes(run: UpContext): Promise<void> {
  const { t, mark } = run;
  const ordered = [...t.ifs].sort((x, y) => (x.kind === 'bridge' ? 0 : 1) - (y.kind === 'bridge' ? 0 : 1));
  for (const d of ordered) {
    const a = run.link(d.ns, d.name);
    if (!a) continue; // dry run: created above
    const masterIndex = d.master ? run.link(d.ns, d.master)?.index : undefined;
    const f = linkFix(d, a, mark, masterIndex);
    if (Object.keys(f).length === 0) continue;
    // A fresh interface only needs its mark and "up": not worth a line in the plan each.
    await run.act('change', `set ${where(d)}: ${describeFix(f, a).join(', ')}`, () =>
      run.handle(d.ns)?.setLink(a.index, f, where(d)),
    );
  }
  for (const ns of run.handles.keys()) run.dirty(ns);
}

function isParentOrUnderlay(t: Topology, ns: string, name: string): boolean {
  return t.ifs.some(
    (d) =>
      (d.macvlan?.parentNs === ns && d.macvlan.parent === name) ||
      (d.vxlan?.underlayNs === ns && d.vxlan.underlay === name),
  );
}
