/**
 * The `wirescope` command line. Each command lives in its own file and
 * registers itself on the program; errors end in one line on stderr, never a
 * stack trace (set WIRESCOPE_DEBUG=1 to see one).
 */
import { Command, CommanderError, Help } from 'commander';
import { escapeTerminal } from '../views/terminal.js';
import { CliError } from './errors.js';
import { favourSmallHeap } from './heap.js';
import { type CommandName, SUMMARIES } from './summaries.js';

favourSmallHeap();

const program = new Command('wirescope')
  .description(
    'Shows the effective virtual networking of a Linux host (namespaces, interfaces, wires, addresses, ' +
      'routes, ports, DNS) and ties it to processes, containers, pods and engines.',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

/**
 * Commands load lazily: each pulls in a different part of the pipeline
 * (engines, service, lab), and loading all of them costs a one-shot command a
 * few hundred milliseconds. Only the named command is loaded; help, an unknown
 * word or the default command (serve) load what they need.
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

const isCommand = (word: string | undefined): word is CommandName => word !== undefined && word in commands;

/**
 * `wirescope --help` / `-h` / `--version` / `-V` with no command word: the Commands list is
 * printed from the summaries, no command module is loaded. Anything else (a command's own help,
 * `help CMD`, options of the default command) loads what it needs.
 */
const onlyTopLevel = (args: readonly string[]): boolean =>
  args.length > 0 && args.every((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');

async function registerCommands(argv: readonly string[]): Promise<void> {
  const args = argv.slice(2);
  if (onlyTopLevel(args)) {
    for (const [name, s] of Object.entries(SUMMARIES)) program.command(name).description(s.description);
    const standard = new Help();
    program.configureHelp({
      subcommandTerm: (cmd) => {
        const name = cmd.name();
        return isCommand(name) ? SUMMARIES[name].term : standard.subcommandTerm(cmd);
      },
    });
    return;
  }
  const first = args.find((a) => !a.startsWith('-'));
  const wanted = isCommand(first) ? [first] : (Object.keys(commands) as CommandName[]);
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
