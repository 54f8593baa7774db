/**
 * `wirescope discover`: one discovery, printed as a readable tree (default),
 * as a Ghostwire-v1 document (`--json`, `--format v1`), as Ghostwire's
 * capture targets (`--format mobyshark`) or as the native model
 * (`--format native`); `--schema` prints the JSON Schema of a JSON format.
 */
import type { Command } from 'commander';
import { closeDiscovery, discover } from '../discover.js';
import { createEngineTracker } from '../engines/index.js';
import type { Discovery } from '../model/types.js';
import { mobyshark, toGhostwireV1 } from '../views/ghostwire-v1/index.js';
import { DiscoveryResultSchema, TargetDiscoveryResultSchema } from '../views/ghostwire-v1/schema.js';
import { toDot, toMermaid } from '../views/graph.js';
import { bundleSchema, nativeJsonSchema, toNativeJson } from '../views/native.js';
import { matchingNetworks, renderTextTree } from '../views/text-tree.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

export const FORMATS = ['text', 'v1', 'native', 'mobyshark', 'dot', 'mermaid'] as const;
export type Format = (typeof FORMATS)[number];
/** Formats that draw a selection of namespaces (`--netns`), not a complete JSON document. */
const PICTURES: readonly Format[] = ['text', 'dot', 'mermaid'];

interface DiscoverFlags {
  json?: boolean;
  format?: string;
  netns?: string;
  schema?: boolean;
  allSockets?: boolean;
  allRoutes?: boolean;
  engines: boolean;
  color?: boolean;
  engineBudget: string;
}

/** Resolves --json/--format into one format; conflicting flags are an error, not a guess. */
export function resolveFormat(flags: { json?: boolean; format?: string }): Format {
  const f = flags.format?.toLowerCase();
  if (f !== undefined && !(FORMATS as readonly string[]).includes(f)) {
    throw new CliError(`--format: "${flags.format}" is not one of ${FORMATS.join(', ')}`);
  }
  if (flags.json) {
    if (f !== undefined && f !== 'v1')
      throw new CliError(`--json means --format v1; it cannot go with --format ${f}`);
    return 'v1';
  }
  return (f as Format | undefined) ?? 'text';
}

/** The JSON Schema document of a JSON format. */
export function schemaFor(format: Format): object {
  switch (format) {
    case 'v1':
      return bundleSchema(
        DiscoveryResultSchema,
        'urn:wirescope:schema:ghostwire-v1:DiscoveryResult',
        'Ghostwire v1 DiscoveryResult (as wirescope emits it)',
      );
    case 'mobyshark':
      return bundleSchema(
        TargetDiscoveryResultSchema,
        'urn:wirescope:schema:ghostwire-v1:TargetDiscoveryResult',
        'Ghostwire v1 TargetDiscoveryResult',
      );
    default:
      return nativeJsonSchema();
  }
}

export function render(
  d: Discovery,
  format: Format,
  opts: { netns?: string; color: boolean; allSockets?: boolean; allRoutes?: boolean; pretty: boolean },
): string {
  const indent = opts.pretty ? 2 : undefined;
  switch (format) {
    case 'v1':
      return `${JSON.stringify(toGhostwireV1(d), null, indent)}\n`;
    case 'mobyshark':
      return `${JSON.stringify(mobyshark(d), null, indent)}\n`;
    case 'native':
      return `${toNativeJson(d, indent)}\n`;
    case 'dot':
      return toDot(d, { netns: opts.netns });
    case 'mermaid':
      return toMermaid(d, { netns: opts.netns });
    default:
      return renderTextTree(d, {
        color: opts.color,
        netns: opts.netns,
        allSockets: opts.allSockets,
        allRoutes: opts.allRoutes,
      });
  }
}

export function registerDiscover(program: Command): void {
  program
    .command('discover')
    .description(SUMMARIES.discover.description)
    .option('--json', 'print a Ghostwire-v1 DiscoveryResult (same as --format v1)')
    .option('--format <format>', `output format: ${FORMATS.join(', ')} (default text)`)
    .option(
      '--netns <ino|name>',
      'text, dot, mermaid: show only the network namespaces with this inode, tenant, container, group (compose project, pod, lab; group/member for one), bind mount, or "host"',
    )
    .option(
      '--schema',
      'print the JSON Schema of the JSON format (native unless --json/--format says otherwise) and exit',
    )
    .option('--all-sockets', 'text: list connected sockets too, not only listening ones')
    .option('--all-routes', 'text: also list the local-table routes the kernel derives from addresses')
    .option('--no-engines', 'do not query container engines (processes and bind mounts only)')
    .option('--engine-budget <ms>', 'how long to wait for newly found container engines to sync', '2000')
    .option('--color', 'colour the text output even when stdout is not a terminal')
    .option('--no-color', 'never colour the text output')
    .action(async (flags: DiscoverFlags) => {
      const format = resolveFormat(flags);
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        // `wirescope discover | head`: the reader went away; that is not an error of ours.
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      if (flags.schema) {
        if (flags.format !== undefined && PICTURES.includes(format)) {
          throw new CliError(`--schema describes a JSON format; the ${format} view has none`);
        }
        process.stdout.write(
          `${JSON.stringify(schemaFor(format === 'text' ? 'native' : format), null, 2)}\n`,
        );
        return;
      }
      if (flags.netns !== undefined && !PICTURES.includes(format)) {
        throw new CliError(
          '--netns filters the text, dot and mermaid views; JSON documents are always complete (their references span namespaces)',
        );
      }
      const budget = Number(flags.engineBudget);
      if (!Number.isFinite(budget) || budget < 0)
        throw new CliError(`--engine-budget: "${flags.engineBudget}" is not a number of milliseconds`);

      const tracker = flags.engines ? createEngineTracker({ syncBudgetMs: budget }) : undefined;
      let d: Discovery;
      try {
        d = await discover(tracker ? { containers: tracker } : {});
      } finally {
        tracker?.close();
        // Discoveries keep per-namespace sockets and workers for warm runs; one shot needs none.
        await closeDiscovery();
      }
      const color =
        flags.color ??
        (process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb');
      process.stdout.write(
        render(d, format, {
          netns: flags.netns,
          color,
          allSockets: flags.allSockets,
          allRoutes: flags.allRoutes,
          pretty: process.stdout.isTTY === true,
        }),
      );
      if (flags.netns !== undefined && matchingNetworks(d, flags.netns).length === 0) {
        // The tree already says so; the exit code lets scripts tell.
        process.exitCode = 1;
      }
    });
}
