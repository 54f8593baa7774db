/**
 * Lab drift (`wirescope serve --verify FILE`) as marks for the wiring view:
 * the service's /api/verify report turned into changed (~), undeclared (+)
 * and missing (−) interfaces on their rows, ghost rows for declared
 * interfaces a live namespace lacks, card badges for what belongs to a whole
 * node (routes, sysctls, rules), and the counts and links the drift panel
 * (drift.ts) lists. No DOM: unit-tested in Node.
 */
import type { ChangeOp } from '../../src/model/changes.js';
import type { LabReport, ServiceDrift, VerifyReport } from '../../src/service/contract.js';
import { type Graph, ikey, type Row } from './graph.js';
import { esc } from './html.js';

export interface DriftNote {
  op: ChangeOp;
  text: string;
}

/** What the wiring view marks, by interface key, ghost key and namespace. */
export interface DriftMarks {
  ifaces: ReadonlyMap<string, readonly DriftNote[]>;
  cards: ReadonlyMap<number, readonly DriftNote[]>;
  ghosts: ReadonlyMap<number, readonly Row[]>;
  /** Ghost row keys of a missing veth's two ends (drawn as a dashed wire). */
  ghostWires: readonly [string, string][];
}

export const OP_CLASS: Record<ChangeOp, string> = { '-': 'missing', '+': 'extra', '~': 'changed' };
export const OP_SIGN: Record<ChangeOp, string> = { '-': '−', '+': '+', '~': '~' };

export const ghostKey = (netns: number, name: string): string => `ghost:${netns}:${name}`;

/** Short form for a tooltip or badge: `~ mtu: declared 1500, found 1400`. */
export function noteText(x: ServiceDrift): string {
  if (x.op === '~' && x.path !== undefined && x.declared !== undefined && x.found !== undefined)
    return `~ ${x.path}: declared ${x.declared}, found ${x.found}`;
  return `${OP_SIGN[x.op]} ${x.message}`;
}

/** The namespace a node-level difference belongs to (its card), when the node is running. */
function nodeIno(l: LabReport, x: ServiceDrift): number | undefined {
  if (x.netns !== undefined) return x.netns;
  if (x.node === undefined) return undefined;
  return l.nodes[x.node] ?? l.nodes[`@${x.node}`];
}

export function driftMarks(r: VerifyReport | undefined): DriftMarks {
  const ifaces = new Map<string, DriftNote[]>();
  const cards = new Map<number, DriftNote[]>();
  const ghosts = new Map<number, Row[]>();
  const ghostWires: [string, string][] = [];
  const push = <K>(m: Map<K, DriftNote[]>, k: K, n: DriftNote) => {
    const a = m.get(k) ?? [];
    a.push(n);
    m.set(k, a);
  };
  for (const l of r?.labs ?? []) {
    for (const x of l.drift) {
      const note = { op: x.op, text: noteText(x) };
      if (x.ghosts?.length) {
        for (const g of x.ghosts) {
          const rows = ghosts.get(g.netns) ?? [];
          rows.push({
            key: ghostKey(g.netns, g.name),
            indent: false,
            name: g.name,
            kind: 'ghost',
            addr: `declared ${g.kind}`,
            mac: '',
            up: false,
            uplink: false,
          });
          ghosts.set(g.netns, rows);
          push(cards, g.netns, note);
        }
        const [a, b] = x.ghosts;
        if (a && b) ghostWires.push([ghostKey(a.netns, a.name), ghostKey(b.netns, b.name)]);
        continue;
      }
      if (x.netns !== undefined && x.index !== undefined) {
        push(ifaces, ikey(x.netns, x.index), note);
        push(cards, x.netns, note);
        continue;
      }
      const ino = nodeIno(l, x);
      if (ino !== undefined) push(cards, ino, note);
    }
  }
  return { ifaces, cards, ghosts, ghostWires };
}

/** The strongest mark of a set of notes: missing over changed over extra. */
export function worst(notes: readonly DriftNote[]): ChangeOp | undefined {
  if (notes.some((n) => n.op === '-')) return '-';
  if (notes.some((n) => n.op === '~')) return '~';
  return notes.length > 0 ? '+' : undefined;
}

/** The badge at the end of an interface row (HTML string: the wiring view's hot path). */
export function rowBadge(notes: readonly DriftNote[] | undefined): string {
  const op = notes && worst(notes);
  if (!notes || !op) return '';
  return `<span class="dbadge d-${OP_CLASS[op]}" title="${esc(notes.map((n) => n.text).join('\n'))}">${OP_SIGN[op]}</span>`;
}

/** The badge in a card's head: how many differences the namespace has. */
export function cardBadge(notes: readonly DriftNote[] | undefined): string {
  const op = notes && worst(notes);
  if (!notes || !op) return '';
  return `<span class="dbadge card-drift d-${OP_CLASS[op]}" title="${esc(notes.map((n) => n.text).join('\n'))}">drift ${notes.length}</span>`;
}

/** A link target for a difference: the interface, the ghost's card, or the node's card. */
export function hrefOf(l: LabReport, x: ServiceDrift): string | undefined {
  if (x.netns !== undefined && x.index !== undefined) return `#/wiring/${x.netns}/${x.index}`;
  const g = x.ghosts?.[0];
  if (g) return `#/wiring/${g.netns}`;
  const ino = nodeIno(l, x);
  return ino === undefined ? undefined : `#/wiring/${ino}`;
}

/** "clean", or the differences by kind: "drift −1 ~1 +1". */
export function driftCounts(l: LabReport): string {
  if (l.error) return 'cannot verify';
  if (l.clean) return 'clean';
  const n = (op: ChangeOp) => l.drift.filter((x) => x.op === op).length;
  const parts = (['-', '~', '+'] as const).filter((op) => n(op) > 0).map((op) => `${OP_SIGN[op]}${n(op)}`);
  return `drift ${parts.join(' ')}`;
}

/**
 * Names each lab node's card after its lab and node and lets search find it
 * by them. Discovery already titles netns and container nodes after the node
 * ("lab node · lab x"); a Docker node's card is titled after its container, so
 * its node name is added, and so is the lab wherever the subtitle lacks it
 * (a node the discovery did not relate, e.g. by a hint from the state file).
 */
export function labelLabCards(g: Graph, r: VerifyReport | undefined): void {
  for (const l of r?.labs ?? []) {
    for (const [node, ino] of Object.entries(l.nodes)) {
      const c = ino === undefined ? undefined : g.cards.get(ino);
      if (!c || c.kind === 'host') continue;
      const add: string[] = [];
      if (!c.subtitle.split(' · ').includes(`lab ${l.lab}`)) add.push(`lab ${l.lab}`);
      if (c.title !== node) add.push(`node ${node}`);
      if (add.length) c.subtitle = [...add, c.subtitle].join(' · ');
      c.haystack += `\u0001${l.lab}\u0001${node}`.toLowerCase();
    }
  }
}
