/**
 * `wirescope hub`: one view of many hosts. Follows the agents (`wirescope
 * serve` on each node) its source lists and serves the merged model and web
 * UI (src/hub/). The agents come from one place, `agentSource()`: today the
 * fixed list of --agent arguments.
 */
import type { Command } from 'commander';
import { createListAgentSource, parseAgentArgument } from '../hub/agents/list.js';
import type { AgentSource, AgentTarget } from '../hub/agents/source.js';
import { Hub } from '../hub/hub.js';
import { startHub } from '../hub/server.js';
import { canonicalAllowHost } from '../service/host.js';
import { isLoopback, type ListenAddress, parseListen } from '../service/listen.js';
import { isNodeName } from '../service/node-name.js';
import { readTokenFile } from '../service/token.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

/** The hub listens beside a node's own agent (5000) by default. */
const HUB_LISTEN: ListenAddress = { host: '127.0.0.1', port: 5001 };

export interface HubFlags {
  agent: string[];
  agentTokenFile: string[];
  listen?: string;
  token?: string;
  tokenFile?: string;
  allowHost: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Where the agents come from: the one place a further source (Kubernetes endpoints) is chosen. */
export async function agentSource(flags: HubFlags): Promise<AgentSource> {
  if (flags.agent.length === 0)
    throw new CliError('give the agents to follow: --agent [NAME=]URL (repeatable)');
  let targets: AgentTarget[];
  try {
    targets = flags.agent.map(parseAgentArgument);
    return createListAgentSource(targets);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** --agent-token-file [NODE=]FILE: one token for all agents, or one for the agent named NODE. */
function agentTokens(files: readonly string[]): { all?: string; byNode: Map<string, string> } {
  const byNode = new Map<string, string>();
  let all: string | undefined;
  for (const arg of files) {
    const m = /^([^=/]+)=(.+)$/.exec(arg);
    const node = m?.[1];
    const file = m?.[2] ?? arg;
    if (node !== undefined && !isNodeName(node))
      throw new CliError(`--agent-token-file: "${node}" is not a node name`);
    let token: string;
    try {
      token = readTokenFile(file);
    } catch (err) {
      throw new CliError(`--agent-token-file: ${(err as Error).message}`);
    }
    if (node === undefined) {
      if (all !== undefined) throw new CliError('--agent-token-file: one file for all agents, or NODE=FILE');
      all = token;
    } else byNode.set(node, token);
  }
  return all === undefined ? { byNode } : { all, byNode };
}

export function registerHub(program: Command): void {
  program
    .command('hub')
    .description(SUMMARIES.hub.description)
    .addHelpText(
      'after',
      `
The hub reads each agent's /healthz (its node name, serve --node-name), /api/discovery and
/api/events; an agent that stops answering is shown stale with its last model and when it was
last seen, never dropped. It holds no credentials but the agents' tokens.
Example:
  wirescope hub --agent node1=http://10.0.0.1:5000 --agent http://10.0.0.2:5000 --agent-token-file /etc/wirescope/agent-token`,
    )
    .option(
      '--agent <[NAME=]URL>',
      'an agent to follow (repeatable); NAME overrides the name it reports',
      collect,
      [],
    )
    .option(
      '--agent-token-file <[NODE=]FILE>',
      "the agents' bearer token (their serve --token-file), for all or for node NODE (repeatable)",
      collect,
      [],
    )
    .option('--listen <host:port>', `address to listen on (default ${HUB_LISTEN.host}:${HUB_LISTEN.port})`)
    .option('--token-file <path>', "require this bearer token of the hub's own clients (file)")
    .option('--token <token>', 'the same with the token itself (shows in ps)')
    .option(
      '--allow-host <name>',
      'a further name clients use for the hub (Host header; repeatable)',
      collect,
      [],
    )
    .action(async (flags: HubFlags) => {
      let listen = HUB_LISTEN;
      try {
        if (flags.listen) listen = parseListen(flags.listen);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      for (const h of flags.allowHost)
        if (canonicalAllowHost(h) === undefined)
          throw new CliError(`--allow-host: "${h}" is not a host name or address (no port, no scheme)`);
      if (flags.token !== undefined && flags.tokenFile !== undefined)
        throw new CliError('--token and --token-file: give one of them');
      let token = flags.token;
      if (flags.tokenFile !== undefined) {
        try {
          token = readTokenFile(flags.tokenFile);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      }
      const tokens = agentTokens(flags.agentTokenFile);
      const source = await agentSource(flags);
      const hub = new Hub(source, { tokens });
      let running: Awaited<ReturnType<typeof startHub>>;
      try {
        running = await startHub(hub, {
          listen,
          token: token || undefined,
          allowHosts: flags.allowHost,
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE')
          throw new CliError(`cannot listen on ${listen.host}:${listen.port}: address in use`);
        throw new CliError(`cannot start the hub: ${e.message}`);
      }
      if (!isLoopback(listen.host) && !token)
        process.stderr.write(
          `wirescope: WARNING: the hub listens on ${running.address.host}:${running.address.port} with NO TOKEN: anyone who reaches it sees every node (use --token-file)\n`,
        );
      process.stderr.write(`wirescope: hub serving on ${running.url}/ (${source.description})\n`);
      const stop = () => {
        running.close().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
