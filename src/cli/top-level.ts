/**
 * The program as `wirescope --help` shows it: its description, version and the
 * Commands list. `main.ts` registers the commands on it; `top-level-main.ts`
 * prints the help and version from it alone, without the commands' modules.
 */
import { Command, Help } from 'commander';
import { type CommandName, SUMMARIES } from './summaries.js';

export const VERSION = '0.1.0';

export function topLevelProgram(): Command {
  return new Command('wirescope')
    .description(
      'Shows the effective virtual networking of a Linux host (namespaces, interfaces, wires, addresses, ' +
        'routes, ports, DNS) and ties it to processes, containers, pods and engines.',
    )
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
}

export const isCommandName = (word: string | undefined): word is CommandName =>
  word !== undefined && Object.hasOwn(SUMMARIES, word);

/**
 * Lists every command from its summary, as its registration would: each
 * command's own registration takes its description from SUMMARIES, so the
 * list printed without them cannot disagree with the one printed with them.
 */
export function listCommands(program: Command): void {
  for (const [name, s] of Object.entries(SUMMARIES)) program.command(name).description(s.description);
  const standard = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => {
      const name = cmd.name();
      return isCommandName(name) ? SUMMARIES[name].term : standard.subcommandTerm(cmd);
    },
  });
}
