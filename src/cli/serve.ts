/**
 * `wirescope serve` (the default command): the discovery service and web UI.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_STREAM_LIMITS } from '../service/events.js';
import { DEFAULT_LISTEN, isLoopback } from '../service/listen.js';
import { isNodeName } from '../service/node-name.js';
import { startService } from '../service/server.js';
import { privilegeLine } from '../views/namespaces.js';
import { escapeTerminal } from '../views/terminal.js';
import { CliError } from './errors.js';
import { favourSmallHeap } from './heap.js';
import { type ListenerFlags, listenerOptions, listenFailure } from './listener.js';
import { SUMMARIES } from './summaries.js';

interface ServeFlags extends ListenerFlags {
  maxAge: string;
  watch: boolean;
  worker: boolean;
  verify: string[];
  nodeName?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description(SUMMARIES.serve.description)
    .addHelpText(
      'after',
      `
Who can read what:
  Requests must be addressed (Host) to localhost, 127.0.0.1, [::1], the --listen address or
  an --allow-host name (listening on 0.0.0.0 or ::, also this host's addresses and name);
  others get 421, so no web page can reach the service through a rebound DNS name.
  /json, /mobyshark, /api/* and /healthz refuse requests from other sites' pages (403).
  With a token, /json, /mobyshark and /api/* need "Authorization: Bearer TOKEN"
  (?access_token=TOKEN only on /api/events, which EventSource cannot send headers to).
  Event streams: at most ${DEFAULT_STREAM_LIMITS.maxStreams} open, ${DEFAULT_STREAM_LIMITS.maxStreamsPerClient} per client address (then 503, 429);
  a stream that falls ${DEFAULT_STREAM_LIMITS.maxBacklogBytes >> 20} MiB behind is closed.`,
    )
    .option(
      '--listen <host:port>',
      `address to listen on (default ${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port})`,
    )
    .option(
      '--token-file <path>',
      'require "Authorization: Bearer <token>" on the API, the token read from this file (not readable by every user)',
    )
    .option('--token <token>', 'the same with the token itself (shows in ps; or env WIRESCOPE_TOKEN)')
    .option(
      '--allow-host <name>',
      'a further name or address clients use for this service (Host header; repeatable); others get 421',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--max-age <seconds>', 'rediscover results older than this even without change events', '60')
    .option('--no-watch', 'do not watch netlink/namespaces for changes (results expire by --max-age only)')
    .option('--no-worker', 'discover on the serving thread instead of a worker thread')
    .option(
      '--verify <file>',
      'verify a lab file after every discovery: drift at /api/verify, marked in the wiring view (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--node-name <name>',
      'the name of the node this service describes, at /healthz (a hub groups by it; default: the host name)',
    )
    .action(async (flags: ServeFlags) => {
      favourSmallHeap();
      let { listen, token } = listenerOptions(flags, DEFAULT_LISTEN);
      const maxAge = Number(flags.maxAge);
      if (!Number.isFinite(maxAge) || maxAge <= 0)
        throw new CliError(`--max-age: "${flags.maxAge}" is not a positive number`);
      if (flags.tokenFile === undefined) {
        token = flags.token ?? process.env.WIRESCOPE_TOKEN ?? undefined;
        if (flags.token !== undefined)
          process.stderr.write(
            'wirescope: note: a --token on the command line is visible to every user (ps); prefer --token-file\n',
          );
      }
      const nodeName = flags.nodeName ?? hostname();
      if (!isNodeName(nodeName))
        throw new CliError(
          `--node-name: "${escapeTerminal(nodeName)}" is not a node name (1-253 of a-z A-Z 0-9 . _ -, starting with a letter or digit)`,
        );
      // Validated before anything starts: a bad file is an error with line and column, exit 2.
      const verify: string[] = [];
      if (flags.verify.length > 0) {
        const { loadLabFile } = await import('./lab.js');
        for (const f of flags.verify) verify.push((await loadLabFile(f)).file);
      }
      let svc: Awaited<ReturnType<typeof startService>>;
      try {
        svc = await startService({
          listen,
          token: token || undefined,
          allowHosts: flags.allowHost,
          maxAgeMs: maxAge * 1000,
          watch: flags.watch,
          worker: flags.worker,
          verify,
          nodeName,
        });
      } catch (err) {
        throw listenFailure(err, listen, 'the service');
      }
      if (!isLoopback(listen.host)) {
        const bar = '!'.repeat(78);
        process.stderr.write(
          `${bar}\n!! WARNING: wirescope listens on ${svc.address.host}:${svc.address.port}, beyond this machine's loopback.\n` +
            '!! Anyone who can reach it sees every namespace, process, container, address and port of this host.\n' +
            (token
              ? '!! A bearer token is required for the API; the connection is NOT encrypted (no TLS).\n'
              : '!! NO TOKEN is set: use --token-file, or listen on 127.0.0.1.\n') +
            `${bar}\n`,
        );
      }
      process.stderr.write(`wirescope: serving on ${svc.url}/ (API ${svc.url}/api/openapi.json)\n`);
      // Warm the cache so the first visitor does not wait for a cold discovery; what the
      // results will lack for want of a capability is said once, in one line (a container
      // started without one of the Privileges table's capabilities serves a partial view).
      svc.cache.get().then(
        (snap) => {
          // Of the snapshot, not its model: parsing a 1000-namespace model here would block the serving thread.
          const priv = privilegeLine(snap);
          if (priv !== undefined) process.stderr.write(`wirescope: ${priv}\n`);
        },
        (err: unknown) => {
          process.stderr.write(
            `wirescope: discovery failed: ${escapeTerminal(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err))}\n`,
          );
        },
      );
      const stop = () => {
        svc.close().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
