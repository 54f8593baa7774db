/**
 * The state one `lab up` run shares between its phases (apply.ts): the
 * topology, the previous state file and the one being written, one open
 * handle per namespace with a cache of its links, and the step log. Every
 * mutation goes through `act()`: with --dry-run it is only recorded (that
 * list is the plan), otherwise it runs and its undo is pushed on the log that
 * a failure rolls back.
 */
import { ifaceMark } from '../../model/lab-marks.js';
import type { LoadedLab } from '../file/load.js';
import {
  type DesiredIf,
  HOLDER_KINDS,
  ifKey,
  type LabNode,
  nsLabel,
  type Topology,
} from '../file/topology.js';
import type { LinkState, NsHandle } from './netlink-ops.js';
import type { Step } from './plan.js';
import { type LabState, readState } from './state.js';

export interface UpOptions {
  dryRun?: boolean;
  /** Progress lines for long runs (phase and counts). */
  progress?: (line: string) => void;
}

export class LabApplyError extends Error {}

export class UpContext {
  readonly t: Topology;
  readonly name: string;
  /** The interface alias that marks what the lab owns. */
  readonly mark: string;
  readonly dry: boolean;
  readonly progress: (line: string) => void;
  /** The state file of the last run, if the lab is up. */
  readonly prev: LabState | undefined;
  /** The state file this run writes. */
  readonly state: LabState;
  /** The namespace key of the host: its node's name, or HOST. */
  readonly hostKey: string;
  /** Nodes that hold a namespace of their own (netns, container, docker). */
  readonly holders: LabNode[];
  /** Declared interfaces by ifKey(ns, name). */
  readonly declared: Map<string, DesiredIf>;
  readonly steps: Step[] = [];
  readonly undo: { text: string; fn: () => Promise<void> | void }[] = [];
  readonly handles = new Map<string, NsHandle>();
  private linkCache = new Map<string, LinkState[]>();
  /** The step running now, named when it fails. */
  current = '';

  constructor(lab: LoadedLab, opts: UpOptions) {
    const t = lab.topology;
    this.t = t;
    this.name = t.name;
    this.mark = ifaceMark(t.name);
    this.dry = opts.dryRun ?? false;
    this.progress = opts.progress ?? (() => {});
    this.prev = readState(t.name);
    this.hostKey = t.hostKey;
    this.holders = t.nodes.filter((n) => HOLDER_KINDS.has(n.kind));
    this.declared = new Map(t.ifs.map((d) => [ifKey(d.ns, d.name), d]));
    const now = new Date().toISOString();
    this.state = {
      version: 1,
      name: t.name,
      file: lab.file,
      decl: lab.decl,
      createdAt: this.prev?.createdAt ?? now,
      updatedAt: now,
      nodes: {},
      sysctls: [...(this.prev?.sysctls ?? [])],
      nft: [],
    };
  }

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

/** "node:ifname" (or "host:ifname") of a declared interface, for step texts. */
export const where = (d: { ns: string; name: string; node?: string }): string =>
  `${d.node ?? nsLabel(d.ns)}:${d.name}`;

/** The creation attributes of a declared interface. */
export function opt(d: DesiredIf): { mtu?: number; mac?: string } {
  return { ...(d.mtu !== undefined ? { mtu: d.mtu } : {}), ...(d.mac !== undefined ? { mac: d.mac } : {}) };
}

/** Runs `fn` over `items`, `width` at a time; the first failure stops new starts and is rethrown. */
export async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
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
