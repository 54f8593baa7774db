/**
 * Port forwards made by Docker's userland proxy: every published port has a
 * `docker-proxy` process whose command line says what it forwards
 * (`-proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2
 * -container-port 80`, Go flag syntax: `-flag value`, `-flag=value`, `--flag`).
 * Read from the process table the scan already has; no process is spawned.
 */
import { isIP } from 'node:net';
import type { Draft } from '../../model/types.js';
import type { Forward } from './natgraph.js';

export interface DockerProxyArgs {
  proto: 'tcp' | 'udp' | 'sctp';
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export function isDockerProxy(p: { readonly comm: string; readonly cmdline: readonly string[] }): boolean {
  const argv0 = p.cmdline[0] ?? '';
  return p.comm === 'docker-proxy' || argv0 === 'docker-proxy' || argv0.endsWith('/docker-proxy');
}

const port = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
};

/**
 * An address as net.isIP reads it (the same rules as Go's net.ParseIP for the dotted and colon
 * forms docker writes): a look-alike such as `999.1.1.1`, `17:2` or `127.0.0.007` is no address,
 * and a forward to it would be invented. isIP takes a zone (`fe80::1%eth0`); docker never
 * passes one, and the model's addresses carry none, so it is refused.
 */
const ip = (s: string | undefined): string | undefined =>
  s !== undefined && !s.includes('%') && isIP(s) !== 0 ? s : undefined;

/** Parses a docker-proxy command line; `{ error }` says why when it is not understood. */
export function parseDockerProxy(cmdline: readonly string[]): DockerProxyArgs | { error: string } {
  const flags = new Map<string, string>();
  for (let i = 1; i < cmdline.length; i++) {
    const a = cmdline[i] ?? '';
    if (!a.startsWith('-')) continue;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) flags.set(body.slice(0, eq), body.slice(eq + 1));
    else {
      const next = cmdline[i + 1];
      // Boolean flags (-use-listen-fd) take no value.
      if (next !== undefined && !next.startsWith('-')) {
        flags.set(body, next);
        i++;
      } else flags.set(body, 'true');
    }
  }
  const proto = flags.get('proto') ?? 'tcp';
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp')
    return { error: `unknown -proto ${JSON.stringify(proto)}` };
  const hostIp = ip(flags.get('host-ip'));
  const hostPort = port(flags.get('host-port'));
  const containerIp = ip(flags.get('container-ip'));
  const containerPort = port(flags.get('container-port'));
  if (!hostIp || !hostPort || !containerIp || !containerPort)
    return { error: 'missing or malformed -host-ip/-host-port/-container-ip/-container-port' };
  return { proto, hostIp, hostPort, containerIp, containerPort };
}

export type ProxyForward = Omit<Forward, 'chain'> & { netns: number; pid: number };

/** Forwards of every docker-proxy process, with the network namespace it runs in. */
export function dockerProxyForwards(processes: Readonly<Record<string, Draft.Process>>): {
  forwards: ProxyForward[];
  warnings: Draft.Warning[];
} {
  const forwards: ProxyForward[] = [];
  const warnings: Draft.Warning[] = [];
  for (const p of Object.values(processes)) {
    if (!isDockerProxy(p)) continue;
    const netns = p.namespaces.net;
    if (netns === undefined) continue;
    const a = parseDockerProxy(p.cmdline);
    if ('error' in a) {
      warnings.push({
        code: 'forward-unparsable',
        message: `docker-proxy (pid ${p.pid}): ${a.error}; its forward is left out`,
        pid: p.pid,
        ns: netns,
      });
      continue;
    }
    forwards.push({
      protocol: a.proto,
      family: a.hostIp.includes(':') ? 'inet6' : 'inet',
      hostAddress: a.hostIp,
      hostPort: a.hostPort,
      destAddress: a.containerIp,
      destPort: a.containerPort,
      netns,
      pid: p.pid,
    });
  }
  return { forwards, warnings };
}
