/**
 * The `wirescope` command line. Each command lives in its own file and
 * registers itself on the program; errors end in one line on stderr, never a
 * stack trace (set WIRESCOPE_DEBUG=1 to see one).
 */
import { Command, CommanderError } from 'commander';
import { registerDiscover } from './discover.js';
import { CliError } from './errors.js';
import { registerLab } from './lab.js';
import { registerNamespaces } from './namespaces.js';
import { registerServe } from './serve.js';
import { registerVerify } from './verify.js';

const program = new Command('wirescope')
  .description(
    'Shows the effective virtual networking of a Linux host (namespaces, interfaces, wires, addresses, ' +
      'routes, ports, DNS) and ties it to processes, containers, pods and engines.',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerNamespaces(program);
registerDiscover(program);
registerServe(program);
registerLab(program);
registerVerify(program);

function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`wirescope: ${msg.split('\n')[0]}\n`);
  if (process.env.WIRESCOPE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 2);
}

process.on('unhandledRejection', fail);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}
