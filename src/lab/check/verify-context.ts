/**
 * What one `verifyLab` run shares between its checks: the topology, the
 * discovery and the facts, where each node was found, lookups of found
 * interfaces, the drift found so far, and what is missing (so consequences
 * of a missing interface or address are not reported again).
 */
import type { Drift } from '../../model/changes.js';
import { ifaceMark } from '../../model/lab-marks.js';
import type { Discovery, Interface, NetworkNamespace } from '../../model/types.js';
import type { Cidr } from '../file/ip.js';
import { type DesiredIf, ifKey, nsLabel, type Topology } from '../file/topology.js';
import type { VerifyFacts } from './verify.js';

type Ref = { netns: number; index: number } | undefined;

export class VerifyContext {
  readonly drift: Drift[] = [];
  readonly mark: string;
  readonly hostKey: string;
  /** Declared interfaces by ifKey(ns, name). */
  readonly byKey: Map<string, DesiredIf>;
  /** Declared interfaces found missing (ifKey): what went through them is not reported again. */
  readonly missingIfs = new Set<string>();
  readonly missingAddrs: { ns: string; c: Cidr }[] = [];
  private readonly found = new Map<string, Interface>();

  constructor(
    readonly t: Topology,
    readonly d: Discovery,
    readonly facts: VerifyFacts,
    /** Network namespace inode per node (absent: not running). */
    readonly nodes: Record<string, number | undefined>,
  ) {
    this.mark = ifaceMark(t.name);
    this.hostKey = t.hostKey;
    this.byKey = new Map(t.ifs.map((x) => [ifKey(x.ns, x.name), x]));
  }

  readonly add = (x: Drift): void => {
    this.drift.push(x);
  };
  readonly netOf = (ns: string): NetworkNamespace | undefined => {
    const ino = this.nodes[ns];
    return ino === undefined ? undefined : this.d.networks[String(ino)];
  };
  readonly alive = (ns: string): boolean => this.netOf(ns) !== undefined;
  readonly findIf = (ns: string, name: string): Interface | undefined => {
    const k = ifKey(ns, name);
    if (this.found.has(k)) return this.found.get(k);
    const i = this.netOf(ns)?.interfaces.find((x) => x.name === name);
    if (i) this.found.set(k, i);
    return i;
  };
  readonly byRef = (ref: Ref): Interface | undefined =>
    ref ? this.d.networks[String(ref.netns)]?.interfaces.find((i) => i.index === ref.index) : undefined;
  readonly nsNameOf = (ino: number): string => {
    for (const [k, v] of Object.entries(this.nodes)) if (v === ino) return nsLabel(k);
    return `net:[${ino}]`;
  };
  readonly describeRef = (ref: Ref): string => {
    const i = this.byRef(ref);
    return i
      ? `${this.nsNameOf(i.netns)}:${i.name}`
      : ref
        ? `net:[${ref.netns}] ifindex ${ref.index}`
        : 'none';
  };
  readonly isRefTo = (ref: Ref, ns: string, name: string): boolean => {
    const i = this.byRef(ref);
    return i !== undefined && i.name === name && i.netns === this.nodes[ns];
  };
  readonly label = (x: DesiredIf): string => `${x.node}:${x.name}`;
}
