/** /etc/services (services(5)): "name port/protocol [aliases...] [# comment]" → name by port and protocol. */
import { readFileSync, statSync } from 'node:fs';

export type ServiceMap = Map<string, string>;

/** Pure parser; the first name listed for a port/protocol wins, as getservbyport(3) returns it. */
export function parseServices(text: string): ServiceMap {
  const out: ServiceMap = new Map();
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) continue;
    const [name, portProto] = line.split(/\s+/);
    if (!name || !portProto) continue;
    const m = /^(\d+)\/(\w+)$/.exec(portProto);
    if (!m) continue;
    const key = `${Number(m[1])}/${(m[2] as string).toLowerCase()}`;
    if (!out.has(key)) out.set(key, name);
  }
  return out;
}

export const serviceKey = (port: number, protocol: string): string => `${port}/${protocol}`;

let cache: { path: string; mtimeMs: number; map: ServiceMap } | undefined;

/** The host's services database, re-read only when the file changed; empty when unreadable. */
export function loadServices(path = '/etc/services'): ServiceMap {
  try {
    const st = statSync(path);
    if (cache && cache.path === path && cache.mtimeMs === st.mtimeMs) return cache.map;
    const map = parseServices(readFileSync(path, 'utf8'));
    cache = { path, mtimeMs: st.mtimeMs, map };
    return map;
  } catch {
    return new Map();
  }
}
