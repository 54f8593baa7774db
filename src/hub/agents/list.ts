/**
 * The fixed list of agents (`wirescope hub --agent [NAME=]URL`, repeatable):
 * an AgentSource whose set never changes. Arguments are untrusted text from
 * the command line: a URL must be http(s) with a host and nothing but a path
 * (no credentials, query or fragment: the token travels in a header), a NAME
 * must be a node name (service/node-name.ts).
 */
import { isNodeName } from '../../service/node-name.js';
import type { AgentSource, AgentTarget } from './source.js';

/** Parses one `--agent` argument; throws an Error with a one-line message. */
export function parseAgentArgument(text: string): AgentTarget {
  const eq = text.indexOf('=');
  const scheme = text.indexOf('://');
  // "NAME=URL": the "=" comes before the scheme's "://" (a URL's own "=" would be in its query).
  const hasName = eq > 0 && (scheme < 0 || eq < scheme);
  const name = hasName ? text.slice(0, eq) : undefined;
  const urlText = hasName ? text.slice(eq + 1) : text;
  if (name !== undefined && !isNodeName(name))
    throw new Error(
      `--agent: "${name}" is not a node name (a-z A-Z 0-9 . _ -, starting with a letter or digit)`,
    );
  return name === undefined ? { url: agentUrl(urlText) } : { name, url: agentUrl(urlText) };
}

/** An agent's base URL, normalised (no trailing slash); throws on anything else than http(s)://host[:port][/path]. */
export function agentUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`--agent: "${text.slice(0, 200)}" is not a URL (e.g. http://10.0.0.5:5000)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`--agent: ${u.protocol} is not http: or https:`);
  if (u.username || u.password)
    throw new Error('--agent: no credentials in the URL (use --agent-token-file)');
  if (u.search || u.hash) throw new Error('--agent: the URL takes no query or fragment');
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** The fixed-list source: reports its targets once, at start. */
export function createListAgentSource(targets: readonly AgentTarget[]): AgentSource {
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.url)) throw new Error(`--agent: ${t.url} is given twice`);
    seen.add(t.url);
  }
  let started = false;
  return {
    description: `${targets.length} agent${targets.length === 1 ? '' : 's'} given with --agent`,
    start(onChange) {
      if (started) return;
      started = true;
      // Asynchronously, as a changing source would: the caller finishes its own start first.
      queueMicrotask(() => onChange(targets));
    },
    stop() {
      started = false;
    },
  };
}
