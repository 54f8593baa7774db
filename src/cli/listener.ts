/**
 * The flags `serve` and `hub` share for where and how they listen: --listen,
 * --allow-host, --token / --token-file; checked before anything starts, and a
 * failed listen said in one line.
 */
import { canonicalAllowHost } from '../service/host.js';
import { type ListenAddress, parseListen } from '../service/listen.js';
import { readTokenFile } from '../service/token.js';
import { CliError } from './errors.js';

export interface ListenerFlags {
  listen?: string;
  allowHost: string[];
  token?: string;
  tokenFile?: string;
}

/** The address to listen on and the token given by flag or file (one of them at most). */
export function listenerOptions(
  flags: ListenerFlags,
  defaultListen: ListenAddress,
): { listen: ListenAddress; token: string | undefined } {
  let listen = defaultListen;
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
  if (flags.tokenFile === undefined) return { listen, token: flags.token };
  try {
    return { listen, token: readTokenFile(flags.tokenFile) };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** A listen that failed, as one line (`what`: "the service", "the hub"). */
export function listenFailure(err: unknown, listen: ListenAddress, what: string): CliError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    return new CliError(`cannot listen on ${listen.host}:${listen.port}: address in use`);
  if (e.code === 'EACCES')
    return new CliError(`cannot listen on ${listen.host}:${listen.port}: permission denied`);
  return new CliError(`cannot start ${what}: ${e.message}`);
}
