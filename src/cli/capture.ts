/**
 * `wirescope capture TARGET... [-i IF] [-f FILTER] [-c N] [--seconds S] [-w FILE|-]`:
 * live packets from any namespaces the discovery knows, as one pcapng stream
 * (to stdout it pipes into `wireshark -k -i -` or `tshark -r -`).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { FilterSyntaxError } from '../capture/filter.js';
import { CaptureError, type CaptureSink, startCapture } from '../capture/session.js';
import { resolveTargets, TargetError } from '../capture/targets.js';
import { closeDiscovery, discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';
import { escapeTerminal } from '../views/terminal.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function positive(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag}: "${v}" is not a positive number`);
  return n;
}

export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description(SUMMARIES.capture.description)
    .argument(
      '<target...>',
      'what `discover --netns` selects: inode, container, pod, lab, GROUP/MEMBER, bind mount, host',
    )
    .option(
      '-i, --interface <name>',
      'capture on this interface only (repeatable; default: all)',
      collect,
      [],
    )
    .option('-f, --filter <expr>', 'capture filter (pcap-filter syntax, as tcpdump)')
    .option('-c, --count <n>', 'stop after this many packets')
    .option('--seconds <s>', 'stop after this many seconds')
    .option('-w, --write <file>', 'write pcapng to this file, "-" for stdout', '-')
    .option('--chaste', 'do not put interfaces into promiscuous mode')
    .option('--no-engines', 'do not ask container engines for names')
    .action(
      async (
        targets: string[],
        flags: {
          interface: string[];
          filter?: string;
          count?: string;
          seconds?: string;
          write: string;
          chaste?: boolean;
          engines: boolean;
        },
      ) => {
        const count = positive('--count', flags.count);
        if (count !== undefined && !Number.isInteger(count))
          throw new CliError(`--count: "${flags.count}" is not a whole number`);
        const seconds = positive('--seconds', flags.seconds);
        if (flags.write === '-' && process.stdout.isTTY)
          throw new CliError(
            'pcapng is binary: write it to a file (-w FILE) or pipe it (| wireshark -k -i -)',
          );
        const tracker = flags.engines ? createEngineTracker({ syncBudgetMs: 2000 }) : undefined;
        let resolved: ReturnType<typeof resolveTargets>;
        try {
          const d = await discover(tracker ? { containers: tracker } : {});
          resolved = resolveTargets(d, targets, flags.interface);
        } catch (e) {
          if (e instanceof TargetError) throw new CliError(e.message);
          throw e;
        } finally {
          tracker?.close();
          await closeDiscovery();
        }
        const out: WriteStream | NodeJS.WriteStream =
          flags.write === '-' ? process.stdout : createWriteStream(flags.write);
        let broken = false;
        out.on('error', () => {
          // The reader went away (wireshark closed): end the capture quietly.
          broken = true;
          handle.stop();
        });
        const sink: CaptureSink = {
          write: (b) => {
            if (!broken) out.write(b);
          },
          backlog: () => out.writableLength,
        };
        let handle: ReturnType<typeof startCapture>;
        try {
          handle = startCapture(resolved, sink, {
            filter: flags.filter,
            promiscuous: !flags.chaste,
            maxPackets: count,
            seconds,
            application: 'wirescope capture',
            onWarning: (m) => process.stderr.write(`wirescope: ${escapeTerminal(m)}\n`),
          });
        } catch (e) {
          if (e instanceof FilterSyntaxError) throw new CliError(e.message);
          throw e;
        }
        // As tcpdump's "listening on": from this line on, a packet on any target is captured
        // (scripts and tests start their traffic after it).
        void handle.ready.then((open) => {
          if (open > 0) process.stderr.write(`wirescope: capturing on ${plural(open, 'interface')}\n`);
        });
        const onSignal = () => handle.stop();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const summary = await handle.done.catch((e: unknown) => {
          if (e instanceof CaptureError) throw new CliError(e.message);
          throw e;
        });
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (out !== process.stdout) await new Promise<void>((r) => (out as WriteStream).end(r));
        process.stderr.write(
          `wirescope: ${plural(summary.packets, 'packet')} captured on ${plural(summary.interfaces, 'interface')}` +
            `${summary.kernelDrops ? `, ${summary.kernelDrops} dropped by the kernel` : ''}` +
            `${summary.ownDrops ? `, ${summary.ownDrops} dropped for a slow reader` : ''}\n`,
        );
      },
    );
}
