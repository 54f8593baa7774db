/**
 * `wirescope discover`: one discovery, printed as a readable tree (default),
 * as a Ghostwire-v1 document (`--json`, `--format v1`), as Ghostwire's
 * capture targets (`--format mobyshark`) or as the native model
 * (`--format native`); `--schema` prints the JSON Schema of a JSON format.
 */
import type { Command } from 'commander';
import type { Discovery } from '../model/types.js';
import { CliError } from './errors.js';
import { SUMMARIES } from './summaries.js';

// Views, schemas and the engine stage load when used (ARCHITECTURE.md "Start-up cost"): a one-shot
// `discover --json` loads neither TypeBox (schemas) nor the text views, `--no-engines` no engine code.

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
export async function schemaFor(format: Format): Promise<object> {
  const { bundleSchema, nativeJsonSchema } = await import('../views/native.js');
  switch (format) {
    case 'v1':
      return bundleSchema(
        (await import('../views/ghostwire-v1/schema.js')).DiscoveryResultSchema,
        'urn:wirescope:schema:ghostwire-v1:DiscoveryResult',
        'Ghostwire v1 DiscoveryResult (as wirescope emits it)',
      );
    case 'mobyshark':
      return bundleSchema(
        (await import('../views/ghostwire-v1/schema.js')).TargetDiscoveryResultSchema,
        'urn:wirescope:schema:ghostwire-v1:TargetDiscoveryResult',
        'Ghostwire v1 TargetDiscoveryResult',
      );
    default:
      return nativeJsonSchema();
  }
}

export async function render(
  d: Discovery,
  format: Format,
  opts: { netns?: string; color: boolean; allSockets?: boolean; allRoutes?: boolean; pretty: boolean },
): Promise<string> {
  const indent = opts.pretty ? 2 : undefined;
  switch (format) {
    case 'v1':
      return `${JSON.stringify((await import('../views/ghostwire-v1/transform.js')).toGhostwireV1(d), null, indent)}\n`;
    case 'mobyshark':
      return `${JSON.stringify((await import('../views/ghostwire-v1/mobyshark.js')).mobyshark(d), null, indent)}\n`;
    case 'native':
      return `${(await import('../views/native-json.js')).toNativeJson(d, indent)}\n`;
    case 'dot':
      return (await import('../views/graph.js')).toDot(d, { netns: opts.netns });
    case 'mermaid':
      return (await import('../views/graph.js')).toMermaid(d, { netns: opts.netns });
    default:
      return (await import('../views/text-tree.js')).renderTextTree(d, {
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
          `${JSON.stringify(await schemaFor(format === 'text' ? 'native' : format), null, 2)}\n`,
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

      const { closeDiscovery, discover } = await import('../discover.js');
      const tracker = flags.engines
        ? (await import('../engines/tracker.js')).createEngineTracker({ syncBudgetMs: budget })
        : undefined;
      let d: Discovery;
      try {
        d = await discover({ oneShot: true, ...(tracker ? { containers: tracker } : {}) });
      } catch (e) {
        tracker?.close();
        await closeDiscovery();
        throw e;
      }
      tracker?.close();
      // Discoveries keep per-namespace sockets and workers for warm runs; one shot needs none. The
      // workers close theirs (at 1000 namespaces ~0.2 s each, 8 fds a namespace) while this thread renders.
      const closing = closeDiscovery();
      try {
        const color =
          flags.color ??
          (process.stdout.isTTY === true &&
            process.env.NO_COLOR === undefined &&
            process.env.TERM !== 'dumb');
        process.stdout.write(
          await render(d, format, {
            netns: flags.netns,
            color,
            allSockets: flags.allSockets,
            allRoutes: flags.allRoutes,
            pretty: process.stdout.isTTY === true,
          }),
        );
        if (
          flags.netns !== undefined &&
          (await import('../views/text-tree.js')).matchingNetworks(d, flags.netns).length === 0
        ) {
          // The tree already says so; the exit code lets scripts tell.
          process.exitCode = 1;
        }
      } finally {
        await closing;
      }
    });
}
