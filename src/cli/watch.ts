/**
 * `wirescope watch`: the host's virtual networking, live, in a terminal. One
 * discovery, then a line for every change (like `ip monitor`, but across every
 * network namespace, with names: containers, lab nodes, processes).
 *
 * Changes are noticed as the service notices them (watch/watcher.ts: rtnetlink
 * multicast in every namespace, the namespace census, engine events); each
 * burst is coalesced into one rediscovery, compared with the last one
 * (views/changes.ts). Listening sockets and DNS files have no notifications:
 * they are rediscovered every --interval seconds.
 */
import type { Command } from 'commander';
import { closeDiscovery, discover } from '../discover.js';
import { createEngineTracker } from '../engines/tracker.js';
import type { Discovery, Warning } from '../model/types.js';
import { holderPaths } from '../service/cache.js';
import { type ChangeLine, describeChanges } from '../views/changes.js';
import { privilegeLine } from '../views/namespaces.js';
import { escapeTerminal } from '../views/terminal.js';
import { matchingNetworks } from '../views/text-tree.js';
import { QUIET_MS, Settler } from '../watch/settle.js';
import { ChangeWatcher, censusModeOf, SETTLE_MS } from '../watch/watcher.js';
import { CliError } from './errors.js';
import { favourSmallHeap } from './heap.js';
import { SUMMARIES } from './summaries.js';

interface WatchFlags {
  json?: boolean;
  netns?: string;
  engines: boolean;
  interval: string;
}

const clock = (d: Date): string => d.toTimeString().slice(0, 8);

/**
 * Warnings worth a line: those the previous discovery did not have (a namespace
 * that cannot be entered, an engine that stopped answering), each once while it
 * lasts. Things vanishing mid-scan are the churn being watched, not a fault.
 */
export function freshWarnings(prev: readonly Warning[] | undefined, next: readonly Warning[]): Warning[] {
  const had = new Set(prev?.map((w) => w.message));
  const out: Warning[] = [];
  for (const w of next) {
    if (w.code.endsWith('-vanished') || w.code === 'tenant-missing' || had.has(w.message)) continue;
    had.add(w.message);
    out.push(w);
  }
  return out;
}

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description(SUMMARIES.watch.description)
    .option('--json', 'one JSON object per line: {time, op, what, netns, text}')
    .option('--netns <ino|name>', 'only changes in the network namespaces this selects (as discover --netns)')
    .option('--no-engines', 'do not query container engines (processes and bind mounts only)')
    .option(
      '--interval <seconds>',
      'rediscover at least this often (sockets and DNS files send no events)',
      '5',
    )
    .action(async (flags: WatchFlags) => {
      favourSmallHeap();
      const interval = Number(flags.interval);
      if (!Number.isFinite(interval) || interval <= 0)
        throw new CliError(`--interval: "${flags.interval}" is not a positive number of seconds`);
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        // `wirescope watch | head`: the reader went away.
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });

      // Ctrl-C and SIGTERM end it cleanly from the first moment on (the start line means ready).
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      const tracker = flags.engines ? createEngineTracker() : undefined;
      const run = () => discover(tracker ? { containers: tracker } : {});
      let last: Discovery = await run();
      // What the lines will lack without privileges, once (it does not change while watching).
      const priv = privilegeLine(last);
      if (priv !== undefined) process.stderr.write(`wirescope: ${priv}\n`);
      const warn = (ws: readonly Warning[]) => {
        for (const w of ws) process.stderr.write(`wirescope: warning: ${escapeTerminal(w.message)}\n`);
      };
      warn(freshWarnings(undefined, last.warnings));
      const seen = matchingNetworks(last, flags.netns).length;
      process.stderr.write(
        `wirescope: watching ${seen} network namespace(s)${flags.netns !== undefined ? ` matching "${escapeTerminal(flags.netns)}"` : ''}, ` +
          `${Object.keys(last.containers).length} container(s); Ctrl-C stops\n`,
      );

      // One change, one line: names in it can neither break the line nor drive the terminal
      // (escaped); the JSON lines carry them as they are, JSON-escaped.
      const print = (lines: ChangeLine[], at: Date) => {
        for (const l of lines) {
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ time: at.toISOString(), ...l })}\n`
              : `${clock(at)} ${l.op} ${escapeTerminal(l.text)}\n`,
          );
        }
      };

      // One rediscovery at a time; notifications during one ask for another right after.
      let running = false;
      let again = false;
      const rediscover = async (): Promise<void> => {
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            const next = await run();
            print(describeChanges(last, next, { netns: flags.netns }), new Date(next.startedAt));
            warn(freshWarnings(last.warnings, next.warnings));
            last = next;
          } while (again);
        } catch (err) {
          process.stderr.write(
            `wirescope: warning: rediscovery failed: ${escapeTerminal((err as Error).message)}\n`,
          );
        } finally {
          running = false;
        }
      };
      const settle = new Settler(() => void rediscover(), {
        maxMs: SETTLE_MS,
        quietMs: censusModeOf({}) === 'poll' ? SETTLE_MS : QUIET_MS,
      });
      const soon = () => settle.notify();

      // Holders other than processes that the last discovery saw (bind mounts elsewhere, fds);
      // the same array while the discovery is the same (the watcher checks new ones at once).
      let holders: { of: Discovery; paths: string[] } | undefined;
      const extraPaths = () => {
        if (holders?.of !== last) holders = { of: last, paths: holderPaths(last) };
        return holders.paths;
      };
      const watcher = new ChangeWatcher(soon, { extraPaths });
      if (tracker) watcher.addSource((notify) => tracker.onChange(notify));
      watcher.start();
      const periodic = setInterval(() => void rediscover(), interval * 1000);

      await stopped;
      clearInterval(periodic);
      settle.cancel();
      watcher.stop();
      tracker?.close();
      await closeDiscovery();
    });
}
