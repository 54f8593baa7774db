/**
 * `wirescope check`'s text: a header naming the start namespace and its
 * neighbours, one line per settled (name, address) as it arrives, a summary.
 * Pure; every name from a container or file is made inert for the terminal.
 */
import { escapeTerminal as esc } from '../views/terminal.js';
import type { CheckResult, Neighbourhood, Quality, Verdict } from './types.js';

const MARK: Record<Quality, string> = {
  verified: 'ok ',
  unreachable: 'BAD',
  invalid: 'BAD',
  unverified: '.. ',
  verifying: '.. ',
};

export function formatHeader(hood: Neighbourhood, names: number): string {
  const lines = [
    `neighbourhood of ${esc(hood.target.label)} (netns ${hood.target.netns}): ` +
      `${hood.neighbours.length} neighbour(s), ${names} name(s) to resolve`,
  ];
  for (const n of hood.neighbours) {
    const nets = n.segments.map((s) => s.network ?? s.device).join(', ');
    lines.push(`  ${esc(n.label)}  ${n.addresses.join(' ') || '(no address)'}  on ${esc(nets)}`);
  }
  for (const note of hood.notes) lines.push(`note: ${esc(note)}`);
  return `${lines.join('\n')}\n`;
}

/** One settled verdict: mark, name, address, how or why. */
export function formatVerdict(v: Verdict): string {
  const addr = v.address || '-';
  const detail = v.quality === 'verified' ? `via ${v.via ?? '?'}` : `${v.quality}: ${v.error ?? ''}`;
  return `${MARK[v.quality]} ${esc(v.fqdn).padEnd(32)} ${addr.padEnd(16)} ${esc(detail)}\n`;
}

export function formatSummary(r: CheckResult): string {
  const count = (q: Quality) => r.verdicts.filter((v) => v.quality === q).length;
  return (
    `${r.verdicts.length} check(s): ${count('verified')} verified, ${count('unreachable')} unreachable, ` +
    `${count('invalid')} invalid\n`
  );
}
