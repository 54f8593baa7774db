/**
 * The host in a few words, for the web UI's header (and any other human view):
 * `vm · Debian GNU/Linux 12 (bookworm) · kernel 6.18.4 · 2 CPUs` and the engines
 * found, `docker 24.0.7 · podman 4.3.1`, with their API paths and pids for a tooltip.
 * Pure: the model in, text out; what is unknown is left out, never guessed.
 */
import type { Engine, Host } from '../model/types.js';

export interface HostSummary {
  /** Name, OS, kernel, CPUs: what is known of them, in that order. */
  facts: string[];
  /** Where the facts come from and the CPUs by number, for a tooltip. */
  detail: string;
  /** One per engine type and version: `docker 24.0.7`, `containerd 1.7.2 ×3`; where each runs in `detail`. */
  engines: { label: string; detail: string }[];
}

/** `0-3,8`: the kernel's own way to list CPUs. */
export const cpuList = (ranges: readonly (readonly number[])[]): string =>
  ranges.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(',');

export function hostSummary(d: {
  readonly host?: Host | undefined;
  readonly engines: Readonly<Record<string, Engine>>;
}): HostSummary {
  const h = d.host;
  const facts: string[] = [];
  if (h?.hostname) facts.push(h.hostname);
  const os = h?.os?.prettyName ?? [h?.os?.name, h?.os?.version].filter(Boolean).join(' ');
  if (os) facts.push(os);
  if (h?.kernelRelease) facts.push(`kernel ${h.kernelRelease}`);
  if (h?.cpus) facts.push(`${h.cpus.count} CPU${h.cpus.count === 1 ? '' : 's'}`);
  // Engines of one type and version (turtles: a containerd in every Docker-in-Docker) share a line.
  const byLabel = new Map<string, string[]>();
  for (const e of [...Object.values(d.engines)].sort(
    (a, b) => a.type.localeCompare(b.type) || a.pid - b.pid,
  )) {
    const label = e.version ? `${e.type} ${e.version}` : e.type;
    byLabel.set(label, [...(byLabel.get(label) ?? []), `pid ${e.pid}, API ${e.api}`]);
  }
  const engines = [...byLabel].map(([label, where]) => ({
    label: where.length > 1 ? `${label} ×${where.length}` : label,
    detail: `${label}: ${where.join('; ')}`,
  }));
  const detail = [
    h?.os ? `OS from ${h.os.source}` : '',
    h?.cpus ? `online CPUs ${cpuList(h.cpus.online)}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { facts, detail, engines };
}
