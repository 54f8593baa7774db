/**
 * nerdctl and plain CNI networks: the `*.conflist` files under /etc/cni/net.d
 * as seen by a containerd (or CRI-O) engine, read through /proc/PID/root so an
 * engine in another mount namespace works. A bridge plugin names its bridge
 * (default "cni0"); macvlan/ipvlan plugins name their master. nerdctl marks its
 * conflists with "nerdctlID".
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { CachedNetwork } from '../../engines/types.js';
import type { Draft } from '../../model/types.js';

/** Parses one conflist; throws a one-line Error for malformed input. */
export function parseConflist(text: string): CachedNetwork {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  if (!doc || typeof doc !== 'object') throw new Error('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (typeof d.name !== 'string' || d.name === '') throw new Error('no network name');
  if (!Array.isArray(d.plugins)) throw new Error('no plugins list');
  const net: CachedNetwork = { engine: typeof d.nerdctlID === 'string' ? 'nerdctl' : 'cni', name: d.name };
  if (typeof d.nerdctlID === 'string') net.id = d.nerdctlID;
  for (const p of d.plugins as unknown[]) {
    if (!p || typeof p !== 'object') continue;
    const plugin = p as Record<string, unknown>;
    if (plugin.type === 'bridge') {
      net.driver = 'bridge';
      net.bridge = typeof plugin.bridge === 'string' && plugin.bridge ? plugin.bridge : 'cni0';
      if (plugin.isDefaultGateway === false && plugin.isGateway === false) net.internal = true;
    } else if (plugin.type === 'macvlan' || plugin.type === 'ipvlan') {
      net.driver = plugin.type;
      if (typeof plugin.master === 'string' && plugin.master) net.parent = plugin.master;
    }
  }
  if (net.engine === 'nerdctl') net.default = d.name === 'bridge';
  return net;
}

export const CNI_CONF_DIR = '/etc/cni/net.d';

/** Reads every conflist visible to the engine process `pid`; malformed files become warnings. */
export function readCniNetworks(
  procRoot: string,
  pid: number,
  engineId: string,
): { networks: CachedNetwork[]; warnings: Draft.Warning[] } {
  const dir = `${procRoot}/${pid}/root${CNI_CONF_DIR}`;
  const networks: CachedNetwork[] = [];
  const warnings: Draft.Warning[] = [];
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.conflist'))
      .sort();
  } catch {
    return { networks, warnings }; // no CNI configuration in this engine's mount namespace
  }
  for (const f of files) {
    try {
      networks.push(parseConflist(readFileSync(`${dir}/${f}`, 'utf8')));
    } catch (e) {
      warnings.push({
        code: 'cni-conflist-malformed',
        message: `${engineId}: ${CNI_CONF_DIR}/${f}: ${(e as Error).message}`,
        engine: engineId,
        pid,
      });
    }
  }
  return { networks, warnings };
}
