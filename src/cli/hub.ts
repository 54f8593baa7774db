/**
 * `wirescope hub`: one view of many hosts. Follows the agents (`wirescope
 * serve` on each node) its source lists and serves the merged model and web
 * UI (src/hub/). The agents come from one place, `agentSource()`: the fixed
 * list of --agent arguments, or the endpoints of the agents' headless Service
 * (--kubernetes), whose client library is imported only then (it costs most of
 * a second to load).
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { parseServiceRef } from '../hub/agents/endpointslice.js';
import { createListAgentSource, parseAgentArgument } from '../hub/agents/list.js';
import type { AgentSource, AgentTarget } from '../hub/agents/source.js';
import { Hub } from '../hub/hub.js';
import { startHub } from '../hub/server.js';
import { isLoopback, type ListenAddress } from '../service/listen.js';
import { isNodeName } from '../service/node-name.js';
import { readTokenFile } from '../service/token.js';
import { CliError } from './errors.js';
import { favourSmallHeap } from './heap.js';
import { type ListenerFlags, listenerOptions, listenFailure } from './listener.js';
import { SUMMARIES } from './summaries.js';

/** The hub listens beside a node's own agent (5000) by default. */
const HUB_LISTEN: ListenAddress = { host: '127.0.0.1', port: 5001 };

export interface HubFlags extends ListenerFlags {
  agent: string[];
  kubernetes?: string;
  kubernetesPort?: string;
  agentTokenFile: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** The service account's namespace file: the pod's own namespace, in a pod. */
const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
/** The agents' namespace in deploy/kubernetes/ when the hub runs outside a pod. */
const DEFAULT_AGENT_NAMESPACE = 'wirescope';

/**
 * The namespace --kubernetes SERVICE means without NAMESPACE/: the pod's own
 * (read bounded and without blocking; a missing or odd file means "not in a pod").
 */
export function podNamespace(path = POD_NAMESPACE_FILE): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const name = buf.subarray(0, n).toString('utf8').trim();
    // RFC 1123 label, as Kubernetes names namespaces.
    return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Where the agents come from: a fixed --agent list or the agents' Service in Kubernetes. */
export async function agentSource(flags: HubFlags): Promise<AgentSource> {
  if (flags.kubernetes !== undefined) {
    if (flags.agent.length > 0) throw new CliError('give --agent or --kubernetes, not both');
    let ref: { namespace: string; service: string };
    try {
      ref = parseServiceRef(flags.kubernetes, podNamespace() ?? DEFAULT_AGENT_NAMESPACE);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const portName = flags.kubernetesPort ?? 'http';
    if (!/^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(portName))
      throw new CliError(`--kubernetes-port: ${JSON.stringify(portName)} is not a port name`);
    const { createKubernetesAgentSource } = await import('../hub/agents/kubernetes.js');
    try {
      return createKubernetesAgentSource({ ...ref, portName });
    } catch (err) {
      throw new CliError(`--kubernetes: ${(err as Error).message}`);
    }
  }
  if (flags.agent.length === 0)
    throw new CliError(
      'give the agents to follow: --agent [NAME=]URL (repeatable) or --kubernetes [NAMESPACE/]SERVICE',
    );
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
  wirescope hub --agent node1=http://10.0.0.1:5000 --agent http://10.0.0.2:5000 --agent-token-file /etc/wirescope/agent-token
  wirescope hub --kubernetes wirescope/wirescope --agent-token-file /var/run/secrets/wirescope/token`,
    )
    .option(
      '--agent <[NAME=]URL>',
      'an agent to follow (repeatable); NAME overrides the name it reports',
      collect,
      [],
    )
    .option(
      '--kubernetes <[NAMESPACE/]SERVICE>',
      "follow the ready endpoints of the agents' headless Service (in-cluster credentials or KUBECONFIG; NAMESPACE defaults to the pod's own, else wirescope)",
    )
    .option('--kubernetes-port <name>', "the Service port's name to follow (default http)")
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
      favourSmallHeap();
      const { listen, token } = listenerOptions(flags, HUB_LISTEN);
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
        throw listenFailure(err, listen, 'the hub');
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
