/**
 * `serve --verify FILE`: the drift of declared labs, computed after every
 * discovery next to the model (in the discovery worker, or in-process with
 * --no-worker) and served as `/api/verify`; a compact summary rides along
 * with each change event so the web UI can mark the wiring view live.
 *
 * verifyLab reports a missing interface at the node that should hold it,
 * without a kernel object to point at (there is none). For the wiring view
 * each such difference also gets its "ghosts": the declared interfaces that
 * are absent from namespaces that are alive, with the namespace's inode, so
 * the UI can draw a placeholder on the right card.
 */

import type { VerifyResult } from '../lab/check/verify.js';
import type { LoadedLab } from '../lab/file/load.js';
import type { Discovery } from '../model/types.js';
import { holderPaths, type Product, type RunHint } from './cache.js';
import type { Drift, DriftSummary, Ghost, LabReport, VerifyReport } from './contract.js';

// The report's types are the HTTP contract, shared with the web UI.
export type { DriftSummary, Ghost, LabReport, ServiceDrift, VerifyReport } from './contract.js';

const firstLine = (e: unknown): string =>
  e instanceof Error ? (e.message.split('\n')[0] ?? '') : (String(e).split('\n')[0] ?? '');

/** Loads and validates every lab file (throws LabFileError with line and column on the first bad one). */
export async function loadVerifyLabs(files: readonly string[]): Promise<LoadedLab[]> {
  const { loadLab } = await import('../lab/file/load.js');
  return files.map((f) => loadLab(f));
}

/** The declared interfaces behind a missing link or bridge that live namespaces lack. */
export function ghostsOf(lab: LoadedLab, d: Discovery, x: Drift, nodes: LabReport['nodes']): Ghost[] {
  if (x.op !== '-') return [];
  const t = lab.topology;
  let keys: string[] = [];
  if (x.object.startsWith('link ')) {
    const label = x.object.slice('link '.length);
    keys = t.links.find((l) => l.label === label)?.ifs ?? [];
  } else if (x.object.startsWith('bridge ')) {
    const [node = '', name = ''] = x.object.slice('bridge '.length).split(':');
    keys = t.ifs
      .filter((i) => i.node === node && i.name === name && i.link < 0)
      .map((i) => `${i.ns}/${i.name}`);
  } else return [];
  const out: Ghost[] = [];
  for (const k of keys) {
    const decl = t.ifs.find((i) => `${i.ns}/${i.name}` === k);
    if (!decl) continue;
    const ino = nodes[decl.ns];
    const net = ino === undefined ? undefined : d.networks[String(ino)];
    if (!net || ino === undefined || net.interfaces.some((i) => i.name === decl.name)) continue;
    out.push({ netns: ino, name: decl.name, kind: decl.kind, node: decl.node });
  }
  return out;
}

/**
 * The discovery `wirescope verify` checks a lab against. Lab nodes are held by
 * processes (the state file's) and the host is the initial namespace: tasks,
 * fds and bind mounts add nothing here but cost time on hosts with many
 * namespaces.
 */
export async function discoverForVerify(): Promise<Discovery> {
  // Loaded on demand: the service's main thread imports this file but never discovers.
  const { discover } = await import('../discover.js');
  return discover({
    sources: { processes: true, tasks: false, fds: false, bindMounts: false },
    namespaceTypes: ['net'],
    dns: false,
    network: { sockets: false, neighbours: false },
  });
}

/** One lab against a fresh discovery (the CLI's `verify`, the lab benchmark). */
export async function verifyAgainstFresh(
  lab: LoadedLab,
  opts: { reach?: boolean } = {},
): Promise<VerifyResult> {
  const { runVerify } = await import('../lab/check/verify-run.js');
  return runVerify(lab, { reach: opts.reach ?? false, discovery: await discoverForVerify() });
}

/**
 * Verifies every lab against one discovery. runVerify adds the facts the
 * model lacks (the lab's nft rules, declared sysctls), read in-process.
 */
export async function computeDrift(labs: readonly LoadedLab[], d: Discovery): Promise<VerifyReport> {
  const { runVerify } = await import('../lab/check/verify-run.js');
  const reports: LabReport[] = [];
  for (const lab of labs) {
    try {
      const r = await runVerify(lab, { discovery: d });
      reports.push({
        lab: r.lab,
        file: lab.file,
        clean: r.clean,
        nodes: r.nodes,
        drift: r.drift.map((x) => {
          const ghosts = ghostsOf(lab, d, x, r.nodes);
          return ghosts.length > 0 ? { ...x, ghosts } : x;
        }),
      });
    } catch (err) {
      reports.push({
        lab: lab.topology.name,
        file: lab.file,
        clean: false,
        drift: [],
        nodes: {},
        error: `cannot verify: ${firstLine(err)}`,
      });
    }
  }
  return { startedAt: d.startedAt, clean: reports.every((r) => r.clean), labs: reports };
}

export function driftSummary(r: VerifyReport): DriftSummary {
  return {
    clean: r.clean,
    ...(r.error ? { error: r.error } : {}),
    labs: r.labs.map((l) => ({
      lab: l.lab,
      clean: l.clean,
      missing: l.drift.filter((x) => x.op === '-').length,
      extra: l.drift.filter((x) => x.op === '+').length,
      changed: l.drift.filter((x) => x.op === '~').length,
      ...(l.error ? { error: l.error } : {}),
    })),
  };
}

/** Same drift, different discovery? (Compares the differences, not the timestamps.) */
export const sameDrift = (a: VerifyReport | undefined, b: VerifyReport | undefined): boolean =>
  JSON.stringify(a?.error) === JSON.stringify(b?.error) &&
  JSON.stringify(a?.labs.map((l) => [l.clean, l.error, l.drift.map((x) => [x.op, x.message])])) ===
    JSON.stringify(b?.labs.map((l) => [l.clean, l.error, l.drift.map((x) => [x.op, x.message])]));

/**
 * In-process discovery (--no-worker) with --verify: the drift is computed
 * here and stored as the snapshot's 'verify' rendering, as the worker does.
 */
export function withDrift(
  run: (hint: RunHint) => Promise<Discovery | Product>,
  files: readonly string[],
): (hint: RunHint) => Promise<Discovery | Product> {
  const labs = loadVerifyLabs(files);
  labs.catch(() => undefined);
  return async (hint) => {
    const r = await run(hint);
    if ('rendered' in r) return r; // someone else's renderings: nothing to measure against here
    let report: VerifyReport;
    try {
      report = await computeDrift(await labs, r);
    } catch (err) {
      report = { startedAt: r.startedAt, clean: false, labs: [], error: firstLine(err) };
    }
    return {
      rendered: new Map([
        ['native', Buffer.from(JSON.stringify(r))],
        ['verify', Buffer.from(JSON.stringify(report))],
      ]),
      holders: holderPaths(r),
      startedAt: r.startedAt,
    };
  };
}
