/**
 * `lab up`: reconcile the host with a declaration.
 *
 * Order: nodes (namespace holders), then per namespace bridges, veths,
 * macvlans and vxlans, then each interface's attributes, addresses, routes,
 * sysctls, NAT, partitions, netem, and finally removal of what the lab owns
 * but no longer declares. Every mutation goes through `act()`: with --dry-run
 * it is only recorded (that list is the plan), otherwise it runs and what it
 * created is pushed on an undo log, so a failure half-way rolls back exactly
 * what this run created and says which step failed. Existing objects are
 * only touched when they carry the lab's mark (or live in a namespace the lab
 * holds); anything else in the way is an error before anything is changed.
 */
import { NetlinkError } from '../../kernel/netlink.js';
import { MACVLAN_MODES } from '../../kernel/rtnetlink/constants.js';
import { readSysctl, writeSysctl } from '../../kernel/sysctl.js';
import { ifaceMark, nftTable } from '../../model/lab-marks.js';
import type { LoadedLab } from '../file/load.js';
import {
  type DesiredRule,
  foundRuleText,
  parseTable,
  RT_TABLE_MAIN,
  ruleMatches,
  ruleText,
} from '../file/rules.js';
import type { NodeDecl } from '../file/schema.js';
import {
  buildTopology,
  type DesiredIf,
  HOST,
  ifKey,
  type LabNode,
  nsLabel,
  type Topology,
} from '../file/topology.js';
import { type LinkState, NsHandle, type RouteState } from './netlink-ops.js';
import {
  markOfComment,
  natSpec,
  nftScript,
  partitionSpec,
  readTableRules,
  ruleComment,
  runNft,
} from './nft.js';
import {
  type NodeState,
  nodeAlive,
  startContainerNode,
  startDockerNode,
  startNetnsNodes,
  stopNode,
} from './nodes.js';
import {
  addrFix,
  describeFix,
  desiredRuleSpec,
  foundDst,
  foundRouteText,
  foundRuleSpec,
  labRoute,
  linkFix,
  replaceReason,
  routeFix,
  routeText,
  ruleFix,
  type Step,
} from './plan.js';
import { type LabState, readState, removeState, stateDir, withLabLock, writeState } from './state.js';

export interface UpOptions {
  dryRun?: boolean;
  /** Progress lines for long runs (phase and counts). */
  progress?: (line: string) => void;
}

export interface UpResult {
  name: string;
  steps: Step[];
  dryRun: boolean;
}

export class LabApplyError extends Error {}

const HOLDER_KINDS = new Set(['netns', 'container', 'docker']);

/** Node settings that need a new process when they change (routes, rules and sysctls do not). */
function nodeIdentity(d: NodeDecl | undefined): string {
  if (!d) return '';
  const { routes: _r, rules: _u, sysctls: _s, ...rest } = d;
  return JSON.stringify(rest);
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failure: unknown;
  const worker = async () => {
    while (i < items.length && failure === undefined) {
      const item = items[i++] as T;
      try {
        await fn(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

class Run {
  readonly steps: Step[] = [];
  readonly undo: { text: string; fn: () => Promise<void> | void }[] = [];
  readonly handles = new Map<string, NsHandle>();
  private linkCache = new Map<string, LinkState[]>();
  current = '';

  constructor(
    readonly t: Topology,
    readonly dry: boolean,
    readonly mark: string,
    readonly progress: (line: string) => void,
  ) {}

  async act(
    op: Step['op'],
    text: string,
    fn: () => unknown,
    undo?: () => Promise<void> | void,
  ): Promise<void> {
    this.steps.push({ op, text });
    if (this.dry) return;
    this.current = text;
    await fn();
    if (undo) this.undo.push({ text, fn: undo });
  }

  links(ns: string): LinkState[] {
    const h = this.handles.get(ns);
    if (!h) return [];
    let l = this.linkCache.get(ns);
    if (!l) {
      l = h.links();
      this.linkCache.set(ns, l);
    }
    return l;
  }
  link(ns: string, name: string): LinkState | undefined {
    return this.links(ns).find((l) => l.name === name);
  }
  dirty(ns: string): void {
    this.linkCache.delete(ns);
  }
  handle(ns: string): NsHandle | undefined {
    return this.handles.get(ns);
  }
  /** Deletes an interface by name (fresh lookup), for undo. */
  deleteByName(ns: string, name: string): void {
    this.dirty(ns);
    const h = this.handles.get(ns);
    const l = this.link(ns, name);
    if (h && l) h.delLink(l.index, name);
    this.dirty(ns);
  }
  close(): void {
    for (const h of this.handles.values()) h.close();
    this.handles.clear();
  }
}

const where = (d: { ns: string; name: string; node?: string }): string =>
  `${d.node ?? nsLabel(d.ns)}:${d.name}`;

export async function labUp(lab: LoadedLab, opts: UpOptions = {}): Promise<UpResult> {
  // A dry run reads only; a real run holds the lab's lock so two runs never interleave.
  return opts.dryRun ? upLocked(lab, opts) : withLabLock(lab.topology.name, () => upLocked(lab, opts));
}

async function upLocked(lab: LoadedLab, opts: UpOptions): Promise<UpResult> {
  const t = lab.topology;
  const name = t.name;
  const mark = ifaceMark(name);
  const dry = opts.dryRun ?? false;
  const progress = opts.progress ?? (() => {});
  const prev = readState(name);
  const run = new Run(t, dry, mark, progress);
  const hostKey = t.nodes.find((n) => n.kind === 'host')?.name ?? HOST;
  const now = new Date().toISOString();
  const state: LabState = {
    version: 1,
    name,
    file: lab.file,
    decl: lab.decl,
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
    nodes: {},
    sysctls: [...(prev?.sysctls ?? [])],
    nft: [],
  };
  try {
    // The host's namespace (and the namespaces of nodes still running) are opened first, so
    // objects in the way that the lab does not own are found before anything is changed.
    const holders = t.nodes.filter((n) => HOLDER_KINDS.has(n.kind));
    const keep = new Map<string, NodeState>();
    const start: LabNode[] = [];
    const stopFirst: [string, NodeState][] = [];
    for (const n of holders) {
      const old = prev?.nodes[n.name];
      if (
        old &&
        old.kind === n.kind &&
        nodeAlive(old) &&
        nodeIdentity(prev?.decl.nodes[n.name]) === nodeIdentity(n.decl)
      ) {
        keep.set(n.name, old);
      } else {
        if (old) stopFirst.push([n.name, old]);
        start.push(n);
      }
    }
    const stopLater = Object.entries(prev?.nodes ?? {}).filter(([n]) => !holders.some((h) => h.name === n));
    if (t.namespaces.includes(hostKey) || t.ifs.some((d) => d.ns === hostKey)) {
      run.handles.set(hostKey, NsHandle.open(hostKey, '/proc/self/ns/net'));
    }
    for (const [n, s] of keep) {
      run.handles.set(n, NsHandle.open(n, `/proc/${s.pid}/ns/net`));
      state.nodes[n] = s;
    }
    preflight(run, t, hostKey);

    // 1. Nodes.
    for (const [n, s] of stopFirst) {
      await run.act('delete', `stop node ${n} (${s.kind}, changed or not running)`, () => stopNode(n, s));
    }
    if (start.length > 0) progress(`starting ${start.length} node(s)`);
    const hostsFile = containerHosts(t);
    let started = 0;
    const undoNode = (n: string) => async () => {
      const s = state.nodes[n];
      run.handles.get(n)?.close();
      run.handles.delete(n);
      if (s) await stopNode(n, s);
      delete state.nodes[n];
    };
    // Plain namespaces start in one batch; containers and docker nodes one by one (below).
    const batch = start.filter((n) => n.kind === 'netns');
    for (const n of batch) run.steps.push({ op: 'create', text: `start netns node ${n.name}` });
    if (!dry && batch.length > 0) {
      run.current = `start ${batch.length} netns node(s)`;
      const got = await startNetnsNodes(
        name,
        batch.map((n) => n.name),
      );
      for (const [n, s] of got) {
        state.nodes[n] = s;
        run.undo.push({ text: `start netns node ${n}`, fn: undoNode(n) });
        run.handles.set(n, NsHandle.open(n, `/proc/${s.pid}/ns/net`));
      }
      if (got.size > 20) progress(`  ${got.size} namespace(s) held`);
    }
    await pool(
      start.filter((n) => n.kind !== 'netns'),
      16,
      async (n) => {
        await run.act(
          'create',
          `start ${n.kind} node ${n.name}`,
          async () => {
            const s =
              n.kind === 'container'
                ? await startContainerNode(name, n.name, n.decl, stateDir(), { hosts: hostsFile })
                : await startDockerNode(name, n.name, n.decl);
            state.nodes[n.name] = s;
            run.handles.set(n.name, NsHandle.open(n.name, `/proc/${s.pid}/ns/net`));
            started++;
            if (started % 50 === 0) progress(`  ${started} container(s)`);
          },
          undoNode(n.name),
        );
      },
    );
    // Record the nodes at once: a crash from here on still leaves `down` something to find.
    if (!dry && start.length > 0) writeState({ ...state, nodes: { ...prev?.nodes, ...state.nodes } });

    // 2. Interfaces the lab owns but no longer declares (or declares with another kind).
    const declared = new Map(t.ifs.map((d) => [ifKey(d.ns, d.name), d]));
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

    // 3. Bridges.
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

    // 4. veth pairs.
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

    // 5. macvlan and vxlan (their lower devices may be lab veths made just above).
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
          throw new LabApplyError(
            `vxlan ${where(d)}: underlay ${nsLabel(home)}:${v.underlay} does not exist`,
          );
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

    // 6. Attributes: mark, MTU, MAC, master, up — bridges first so ports join an up bridge.
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

    // 7. Addresses.
    const nsList = [...new Set(t.ifs.map((d) => d.ns))];
    for (const ns of nsList) {
      const h = run.handle(ns);
      const have = h ? h.addrs() : [];
      for (const d of t.ifs.filter((x) => x.ns === ns)) {
        const a = run.link(ns, d.name);
        const mine = a ? have.filter((x) => x.index === a.index) : [];
        const fx = addrFix(d.addrs, mine);
        // Deletions first: removing an IPv4 primary address also removes the secondaries of its
        // subnet (unless promote_secondaries), which would take a just-added address along.
        for (const c of fx.del) {
          await run.act(
            'delete',
            `delete address ${c.address}/${c.prefixlen} from ${where(d)}`,
            () => a && h?.delAddr(a.index, c, where(d)),
          );
        }
        for (const c of fx.add) {
          await run.act(
            'create',
            `add address ${c.address}/${c.prefixlen} to ${where(d)}`,
            () => a && h?.addAddr(a.index, c, where(d)),
          );
        }
      }
    }

    // 8. Routes: in node namespaces every static route is the lab's; on the host only the ones it declared.
    const prevHostRoutes = prevRoutesOn(prev, hostKey);
    for (const ns of new Set([...t.routes.map((r) => r.ns), ...run.handles.keys()])) {
      const h = run.handle(ns);
      const want = t.routes.filter((r) => r.ns === ns);
      const have: RouteState[] = h ? h.routes() : [];
      const oifOf = (dev: string) => run.link(ns, dev)?.index;
      const fx = routeFix(want, have, oifOf, (a) =>
        ns !== hostKey
          ? labRoute(a, true)
          : labRoute(a, false) &&
            prevHostRoutes.some(
              (p) => p.dst === a.dst && (p.via ?? '') === (a.gateway ?? '') && p.table === a.table,
            ),
      );
      for (const r of fx.add) {
        const oif = r.dev ? oifOf(r.dev) : undefined;
        await run.act(
          'create',
          `add route ${routeText(r)} in ${r.node}`,
          () =>
            h?.addRoute(
              {
                dst: r.dst,
                ...(r.via ? { gateway: r.via } : {}),
                ...(oif !== undefined ? { oif } : {}),
                ...(r.metric !== undefined ? { metric: r.metric } : {}),
                table: r.table,
              },
              `${routeText(r)} in ${r.node}`,
            ),
          () => {
            try {
              h?.delRoute({ dst: r.dst, table: r.table, ...(r.via ? { gateway: r.via } : {}) }, routeText(r));
            } catch {
              /* went with its interface */
            }
          },
        );
      }
      for (const a of fx.del) {
        const dst = foundDst(a);
        await run.act('delete', `delete route ${foundRouteText(a)} in ${nsLabel(ns)}`, () => {
          try {
            h?.delRoute(
              {
                dst,
                table: a.table,
                ...(a.gateway ? { gateway: a.gateway } : {}),
                ...(a.dev !== undefined ? { oif: a.dev } : {}),
              },
              nsLabel(ns),
            );
          } catch (e) {
            // ESRCH: the declared route just added replaced it (same table, destination and metric).
            if (!(e instanceof NetlinkError && e.errno === 3)) throw e;
          }
        });
      }
    }

    // 8b. Policy rules: in node namespaces every rule but the kernel's is the lab's; on the host only
    // the ones it declared before. New ones first, so traffic is never left without its rule.
    const prevHostRules = prevRulesOn(prev, hostKey);
    for (const ns of new Set([...t.rules.map((r) => r.ns), ...run.handles.keys()])) {
      const h = run.handle(ns);
      const want = t.rules.filter((r) => r.ns === ns);
      if (ns === hostKey && want.length === 0 && prevHostRules.length === 0) continue;
      const have = h ? h.rules() : [];
      const fx = ruleFix(
        want,
        have,
        (a) => ns !== hostKey || (a.protocol === 'static' && prevHostRules.some((p) => ruleMatches(p, a))),
      );
      for (const r of fx.add) {
        await run.act(
          'create',
          `add rule ${ruleText(r)} in ${r.node}`,
          () => h?.addRule(desiredRuleSpec(r), `${ruleText(r)} in ${r.node}`),
          () => h?.delRule(desiredRuleSpec(r), ruleText(r)),
        );
      }
      for (const a of fx.del) {
        await run.act('delete', `delete rule ${foundRuleText(a)} in ${nsLabel(ns)}`, () =>
          h?.delRule(foundRuleSpec(a), `${foundRuleText(a)} in ${nsLabel(ns)}`),
        );
      }
    }

    // 9. Sysctls. The host's old values are kept to restore on down.
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

    // 10. NAT (host) and partitions (per node), one nft transaction per namespace.
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

    // 11. netem.
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

    // 12. Nodes no longer declared.
    for (const [n, s] of stopLater) {
      await run.act('delete', `stop node ${n} (${s.kind}, not declared)`, () => stopNode(n, s));
    }

    if (!dry) writeState(state);
    return { name, steps: run.steps, dryRun: dry };
  } catch (e) {
    if (dry) throw e;
    const failedAt = run.current;
    let undone = 0;
    const problems: string[] = [];
    run.dirty(hostKey);
    for (const u of run.undo.reverse()) {
      try {
        await u.fn();
        undone++;
      } catch (ue) {
        problems.push(`${u.text}: ${(ue as Error).message}`);
      }
    }
    if (prev) writeState(prev);
    else removeState(name);
    const msg = (e as Error).message;
    throw new LabApplyError(
      `lab ${name}: ${failedAt ? `"${failedAt}" failed` : 'failed'}: ${msg}; rolled back ${undone} object(s) this run created` +
        (problems.length ? `; could not undo: ${problems.join('; ')}` : ''),
    );
  } finally {
    run.close();
  }
}

function opt(d: DesiredIf): { mtu?: number; mac?: string } {
  return { ...(d.mtu !== undefined ? { mtu: d.mtu } : {}), ...(d.mac !== undefined ? { mac: d.mac } : {}) };
}

function isParentOrUnderlay(t: Topology, ns: string, name: string): boolean {
  return t.ifs.some(
    (d) =>
      (d.macvlan?.parentNs === ns && d.macvlan.parent === name) ||
      (d.vxlan?.underlayNs === ns && d.vxlan.underlay === name),
  );
}

/** Declared interfaces in the way: the host (or a kept node) already has one the lab does not own. */
function preflight(run: Run, t: Topology, hostKey: string): void {
  // An address the host already uses elsewhere would make both unreachable: refuse it.
  const host = run.handle(hostKey);
  if (host) {
    const owner = new Map(run.links(hostKey).map((l) => [l.index, l]));
    const used = host.addrs().filter((a) => owner.get(a.index)?.alias !== run.mark);
    for (const d of t.ifs.filter((x) => x.ns === hostKey)) {
      for (const c of d.addrs) {
        const u = used.find((a) => a.address === c.address);
        if (u)
          throw new LabApplyError(
            `address ${c.address} of ${where(d)} is already used by host interface ${owner.get(u.index)?.name ?? u.index}`,
          );
      }
    }
  }
  for (const d of t.ifs) {
    if (!run.handle(d.ns)) continue;
    const a = run.link(d.ns, d.name);
    if (a && a.alias !== run.mark && d.ns === hostKey) {
      throw new LabApplyError(
        `${nsLabel(d.ns)} already has an interface "${d.name}" (${a.kind}) that lab ${t.name} does not own; rename it in the lab file`,
      );
    }
  }
  for (const d of t.ifs) {
    const p = d.macvlan
      ? { ns: d.macvlan.parentNs, name: d.macvlan.parent }
      : d.vxlan?.underlay
        ? { ns: d.vxlan.underlayNs ?? d.ns, name: d.vxlan.underlay }
        : undefined;
    if (!p || !run.handle(p.ns)) continue;
    const declared = t.ifs.some((x) => x.ns === p.ns && x.name === p.name);
    if (!declared && !run.link(p.ns, p.name)) {
      throw new LabApplyError(
        `${d.kind} ${where(d)}: ${d.macvlan ? 'parent' : 'underlay'} ${nsLabel(p.ns)}:${p.name} does not exist`,
      );
    }
  }
}

function prevRoutesOn(
  prev: LabState | undefined,
  hostKey: string,
): { dst: string; via?: string; table: number }[] {
  if (!prev) return [];
  const out: { dst: string; via?: string; table: number }[] = [];
  for (const [n, d] of Object.entries(prev.decl.nodes)) {
    if ((d.kind === 'host' ? n : '') !== hostKey) continue;
    for (const r of d.routes ?? [])
      out.push({
        dst: r.dst === 'default' ? (r.via?.includes(':') ? '::/0' : '0.0.0.0/0') : r.dst,
        ...(r.via ? { via: r.via } : {}),
        table: (r.table !== undefined ? parseTable(r.table) : undefined) ?? RT_TABLE_MAIN,
      });
  }
  return out;
}

/** Host rules the lab declared when it was last applied (the only host rules it may remove). */
export function prevRulesOn(prev: LabState | undefined, hostKey: string): DesiredRule[] {
  if (!prev) return [];
  // The state's declaration passed validation when it was applied; its rules come out the same way.
  return buildTopology(prev.decl).topology.rules.filter(
    (r) => r.ns === hostKey && prev.decl.nodes[r.node]?.kind === 'host',
  );
}

/** /etc/hosts entries of a container: every lab node with an IPv4 address. */
function containerHosts(t: Topology): [string, string][] {
  const out: [string, string][] = [];
  for (const n of t.nodes) {
    const a = t.ifs
      .filter((d) => d.node === n.name)
      .flatMap((d) => d.addrs)
      .find((c) => c.family === 'inet');
    if (a) out.push([a.address, n.name]);
  }
  return out;
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
