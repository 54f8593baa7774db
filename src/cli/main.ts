/**
 * The `wirescope` command line. Each command lives in its own file and
 * registers itself on the program; errors end in one line on stderr, never a
 * stack trace (set WIRESCOPE_DEBUG=1 to see one).
 */
import { type Command, CommanderError } from 'commander';
import { escapeTerminal } from '../views/terminal.js';
import { CliError } from './errors.js';
import type { CommandName } from './summaries.js';
import { isCommandName, topLevelProgram } from './top-level.js';

const program = topLevelProgram();

/**
 * Commands load lazily: each pulls in a different part of the pipeline
 * (engines, service, lab), and loading all of them costs a one-shot command a
 * few hundred milliseconds. Only the named command is loaded; help, an unknown
 * word or the default command (serve) load what they need. (`--help` and
 * `--version` alone never come here: bin/wirescope.js runs top-level-main.ts.)
 */
type Registrar = (program: Command) => void;
const commands: Record<CommandName, () => Promise<Registrar>> = {
  namespaces: async () => (await import('./namespaces.js')).registerNamespaces,
  discover: async () => (await import('./discover.js')).registerDiscover,
  serve: async () => (await import('./serve.js')).registerServe,
  lab: async () => (await import('./lab.js')).registerLab,
  verify: async () => (await import('./verify.js')).registerVerify,
  watch: async () => (await import('./watch.js')).registerWatch,
  capture: async () => (await import('./capture.js')).registerCapture,
  check: async () => (await import('./check.js')).registerCheck,
  hub: async () => (await import('./hub.js')).registerHub,
};

async function registerCommands(argv: readonly string[]): Promise<void> {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  const wanted = isCommandName(first) ? [first] : (Object.keys(commands) as CommandName[]);
  for (const name of wanted) (await commands[name]())(program);
}

function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`wirescope: ${escapeTerminal(msg.split('\n')[0] ?? '')}\n`);
  if (process.env.WIRESCOPE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 2);
}

process.on('unhandledRejection', fail);
try {
  await registerCommands(process.argv);
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}
