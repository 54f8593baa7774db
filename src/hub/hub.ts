/**
 * The hub's state: the agents its source lists, one follower each, and the
 * merged model of their views, with a generation that grows on every change.
 * An agent the source stops listing (a node drained, an endpoint gone) is not
 * dropped: its follower stops and its last view stays, stale, with the time it
 * was last seen, until the source lists its URL again.
 */
import { AgentFollower, type AgentView, type FollowOptions } from './agents/follow.js';
import type { AgentSource, AgentTarget } from './agents/source.js';
import { type Merged, merge } from './merge.js';

export interface AgentTokens {
  /** For every agent without its own. */
  readonly all?: string;
  /** By node name, for agents the source names (NAME=URL, a Kubernetes endpoint's node). */
  readonly byNode?: ReadonlyMap<string, string>;
}

export interface HubOptions {
  tokens?: AgentTokens;
  follow?: Omit<FollowOptions, 'token'>;
}

/** Called after each change: the hub's new generation and the nodes (or agent URLs) concerned. */
export type HubListener = (generation: number, changed: readonly string[]) => void;

export class Hub {
  private readonly followers = new Map<string, AgentFollower>();
  private readonly retired = new Map<string, AgentView>();
  private readonly listeners = new Set<HubListener>();
  private mergedAt: { generation: number; merged: Merged } | undefined;
  private gen = 1;
  /** The source's last error (one line), cleared when it lists agents again. */
  sourceError: string | undefined;

  constructor(
    readonly source: AgentSource,
    private readonly opts: HubOptions = {},
  ) {}

  get generation(): number {
    return this.gen;
  }

  start(): void {
    this.source.start(
      (targets) => {
        this.sourceError = undefined;
        this.setTargets(targets);
      },
      (message) => {
        this.sourceError = message;
        this.changed([]);
      },
    );
  }

  stop(): void {
    this.source.stop();
    for (const f of this.followers.values()) f.stop();
    this.followers.clear();
    this.listeners.clear();
  }

  onChange(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every agent's view: followed and retired. */
  views(): AgentView[] {
    return [...[...this.followers.values()].map((f) => f.current), ...this.retired.values()];
  }

  /** The merged model of this generation (merged once per generation). */
  merged(): Merged {
    if (this.mergedAt?.generation !== this.gen)
      this.mergedAt = { generation: this.gen, merged: merge(this.views()) };
    return this.mergedAt.merged;
  }

  private tokenFor(t: AgentTarget): string | undefined {
    const tokens = this.opts.tokens;
    return (t.name !== undefined ? tokens?.byNode?.get(t.name) : undefined) ?? tokens?.all;
  }

  private setTargets(targets: readonly AgentTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.url, t]));
    const changed: string[] = [];
    for (const [url, f] of this.followers) {
      const t = wanted.get(url);
      if (t && t.name === f.target.name) continue;
      f.stop();
      this.followers.delete(url);
      const v = f.current;
      // Kept, never silently dropped: stale with its last model, if it ever had one.
      if (!t && v.discovery)
        this.retired.set(url, {
          ...v,
          state: 'stale',
          error: `no longer listed by ${this.source.description}`,
        });
      changed.push(v.name ?? url);
    }
    for (const t of wanted.values()) {
      if (this.followers.has(t.url)) continue;
      this.retired.delete(t.url);
      const f = new AgentFollower(t, (v) => this.changed([v.name ?? v.url]), {
        ...this.opts.follow,
        token: this.tokenFor(t),
      });
      this.followers.set(t.url, f);
      f.start();
      changed.push(t.name ?? t.url);
    }
    if (changed.length > 0) this.changed(changed);
  }

  private changed(what: readonly string[]): void {
    this.gen++;
    for (const l of this.listeners) l(this.gen, what);
  }
}
